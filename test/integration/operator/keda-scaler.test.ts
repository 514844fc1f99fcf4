// The operator's KEDA external-push scaler over real gRPC on loopback, called as KEDA calls it
// (the service definition of src/server/keda-scaler-service.ts, KEDA's field numbers): the polled
// calls answer from the queue depth, StreamIsActive carries one `true` per activation, and a
// ScaledObject the operator did not render gets INVALID_ARGUMENT naming the field. The real KEDA
// drives it in test/integration/cluster/drain-rollout.test.ts.
import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ClientReadableStream,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startKedaScaler, type KedaScaler, type ScaledWorkload } from '../../../src/server/keda-scaler.js';
import { externalScalerService } from '../../../src/server/keda-scaler-service.js';

type Callback<T> = (err: Error | null, res: T) => void;
interface ScalerClient extends Client {
  IsActive(req: object, cb: Callback<{ result: boolean }>): void;
  GetMetricSpec(req: object, cb: Callback<{ metricSpecs: object[] }>): void;
  GetMetrics(req: object, cb: Callback<{ metricValues: object[] }>): void;
  StreamIsActive(req: object): ClientReadableStream<{ result: boolean }>;
}

const ExternalScalerClient = makeGenericClientConstructor(externalScalerService(), 'ExternalScaler');

/** The ScaledObjectRef KEDA sends for a trigger the operator rendered (src/operator/plan-keda.ts). */
const refOf = (name: string, extra: Record<string, string> = {}) => ({
  name: `fn-${name}`,
  namespace: 'layer',
  scalerMetadata: {
    scalerAddress: 'ignored',
    kind: 'Function',
    name,
    batchSize: '32',
    targetValue: '2',
    ...extra,
  },
});

const call = <T>(fn: (cb: Callback<T>) => void) =>
  new Promise<T>((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

let scaler: KedaScaler | undefined;
let client: ScalerClient | undefined;
afterEach(async () => {
  client?.close();
  await scaler?.close();
  scaler = undefined;
});

async function start(
  depths: Map<string, number>,
  queued: Set<string>,
  asked: ScaledWorkload[] = [],
  logged: string[] = [],
) {
  scaler = await startKedaScaler(
    {
      log: (msg, fields) => logged.push(`${msg} ${JSON.stringify(fields)}`),
      queueDepth: async (w) => {
        asked.push(w);
        return depths.get(w.name) ?? 0;
      },
      queuedWorkloads: async () => new Set(queued),
      pushIntervalMs: 50,
    },
    { port: 0, host: '127.0.0.1' },
  );
  client = new ExternalScalerClient(
    `127.0.0.1:${scaler.port}`,
    credentials.createInsecure(),
  ) as unknown as ScalerClient;
  return client;
}

describe("the operator's KEDA external-push scaler", () => {
  it('answers the polled calls from the queue depth of the workload the metadata names', async () => {
    const asked: ScaledWorkload[] = [];
    const c = await start(new Map([['busy', 5]]), new Set(), asked);
    expect(await call<{ result: boolean }>((cb) => c.IsActive(refOf('busy'), cb))).toEqual({ result: true });
    expect(await call<{ result: boolean }>((cb) => c.IsActive(refOf('idle'), cb))).toEqual({ result: false });
    expect(await call((cb) => c.GetMetricSpec(refOf('busy'), cb))).toEqual({
      metricSpecs: [{ metricName: 'layer_udf_queue_depth', targetSize: 2, targetSizeFloat: 2 }],
    });
    expect(
      await call((cb) =>
        c.GetMetrics({ scaledObjectRef: refOf('busy'), metricName: 'layer_udf_queue_depth' }, cb),
      ),
    ).toEqual({
      metricValues: [{ metricName: 'layer_udf_queue_depth', metricValue: 5, metricValueFloat: 5 }],
    });
    expect(asked[0]).toEqual({
      kind: 'Function',
      namespace: 'layer',
      name: 'busy',
      batchSize: 32,
      targetValue: 2,
    });
    // KEDA's poll (GetMetrics, then IsActive) costs one depth read per workload, as metrics-api's does.
    expect(asked.map((w) => w.name)).toEqual(['busy', 'idle']);
  });

  it('logs when its IsActive answer for a workload changes, not each steady answer', async () => {
    const depths = new Map([['w', 3]]);
    const logged: string[] = [];
    const c = await start(depths, new Set(), [], logged);
    const isActive = () => call<{ result: boolean }>((cb) => c.IsActive(refOf('w'), cb));
    const afterReuse = () => new Promise((r) => setTimeout(r, 2_100)); // past one depth read's reuse
    expect(await isActive()).toEqual({ result: true });
    expect(await isActive()).toEqual({ result: true });
    depths.set('w', 0);
    await afterReuse();
    expect(await isActive()).toEqual({ result: false });
    expect(await isActive()).toEqual({ result: false });
    depths.set('w', 1);
    await afterReuse();
    expect(await isActive()).toEqual({ result: true });
    expect(logged.filter((l) => l.startsWith('answered KEDA'))).toEqual([
      'answered KEDA: inactive (KEDA may scale to zero) {"workload":"Function/layer/w","queueDepth":0}',
      'answered KEDA: active {"workload":"Function/layer/w","queueDepth":1}',
    ]);
  });

  it.each([
    { row: 'unknown kind', extra: { kind: 'Job' } as Record<string, string>, field: '"kind"' },
    { row: 'no name', extra: { name: '' } as Record<string, string>, field: '"name"' },
    { row: 'bad batch size', extra: { batchSize: 'many' } as Record<string, string>, field: '"batchSize"' },
  ])(
    'refuses a ScaledObject it did not render ($row) with INVALID_ARGUMENT naming the field',
    async ({ extra, field }) => {
      const c = await start(new Map(), new Set());
      const err = await call((cb) => c.IsActive(refOf('x', extra), cb)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 3 });
      expect(String((err as Error).message)).toContain(field);
    },
  );

  it('pushes true once per activation, only on the streams of workloads with queued work', async () => {
    const queued = new Set<string>();
    const c = await start(new Map(), queued);
    const woken = c.StreamIsActive(refOf('woken'));
    const idle = c.StreamIsActive(refOf('idle'));
    const received: Record<string, boolean[]> = { woken: [], idle: [] };
    woken.on('data', (m: { result: boolean }) => received.woken!.push(m.result));
    idle.on('data', (m: { result: boolean }) => received.idle!.push(m.result));
    woken.on('error', () => undefined);
    idle.on('error', () => undefined);
    await until(() => scaler!.streams() === 2);

    // Rows arrive for one of them (and for a workload KEDA holds no stream for).
    queued.add('Function/layer/woken').add('Function/layer/unscaled');
    await until(() => received.woken!.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual({ woken: [true], idle: [] });

    // Drained, then rows again: a second activation is pushed.
    queued.delete('Function/layer/woken');
    await new Promise((r) => setTimeout(r, 200));
    queued.add('Function/layer/woken');
    await until(() => received.woken!.length > 1);
    expect(received).toEqual({ woken: [true, true], idle: [] });

    woken.cancel();
    await until(() => scaler!.streams() === 1);
    idle.cancel();
  });
});

async function until(ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
