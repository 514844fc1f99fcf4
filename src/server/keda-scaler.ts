// The operator as KEDA's external-push scaler (docs/adr/0131). With the metrics-api trigger KEDA
// learns that a scaled-to-zero workload has work only at its next poll, up to pollingInterval
// (15 s by default) after the rows appeared. Here KEDA keeps one StreamIsActive stream open per
// ScaledObject and the operator sends `true` on it as soon as the workload's queue depth leaves 0
// (read for every workload at once, each second, from the memo summaries in one visibility list),
// which KEDA turns into 0 → 1 at once. Everything else is KEDA's polled path, unchanged in
// meaning: IsActive is queue depth > 0, GetMetrics the queue depth, GetMetricSpec the target per
// replica. Only activations are pushed: KEDA ignores pushed `false`, and scale-in stays with its
// cooldown and the HPA's scale-down policy (docs/adr/0103).
import {
  Server,
  ServerCredentials,
  status,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import { SCALER_METADATA, queueDepthMetric } from '../contracts/queue-depth.js';
import {
  externalScalerService,
  type GetMetricsRequest,
  type IsActiveResponse,
  type MetricSpec,
  type MetricValue,
  type ScaledObjectRef,
} from './keda-scaler-service.js';

/** The workload a ScaledObject scales, as its trigger's metadata names it (src/operator/plan-keda.ts). */
export interface ScaledWorkload {
  kind: WorkloadKind;
  /** The Kubernetes namespace (the ScaledObject's, which is the CR's). */
  namespace: string;
  name: string;
  /** A Function's batch size, for the status query of a run that has no memo summary yet. */
  batchSize: number;
  targetValue: number;
}

export interface KedaScalerDeps {
  /** The workload's queue depth (batches waiting or held), the figure KEDA scales on. */
  queueDepth(w: ScaledWorkload): Promise<number>;
  /**
   * Workloads with queued work now (`kind/namespace/name` keys), from one read for all of them —
   * the workflows' memo summaries in a visibility list, not one call per workload.
   */
  queuedWorkloads(): Promise<Set<string>>;
  /** How often queued workloads are read while a stream is open (default 1 s). */
  pushIntervalMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface KedaScaler {
  /** The port it listens on. */
  port: number;
  /** Open StreamIsActive streams (one per ScaledObject KEDA watches). */
  streams(): number;
  close(): Promise<void>;
}

/** Thrown for a ScaledObjectRef this operator did not render; KEDA logs the message. */
class ScalerMetadataError extends Error {}

/** How long one depth read answers KEDA's calls for the same ScaledObject. */
const DEPTH_REUSE_MS = 2_000;

const workloadKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** The workload a ScaledObjectRef's metadata names, or a ScalerMetadataError naming the field. */
export function scaledWorkloadOf(ref: ScaledObjectRef | undefined): ScaledWorkload {
  const md = ref?.scalerMetadata ?? {};
  const kind = md[SCALER_METADATA.kind];
  if (kind !== 'Function' && kind !== 'Pipeline')
    throw new ScalerMetadataError(
      `trigger metadata "${SCALER_METADATA.kind}" is ${JSON.stringify(kind)}: expected Function or Pipeline (re-apply the CR so the operator renders its ScaledObject again)`,
    );
  const name = md[SCALER_METADATA.name];
  if (!name)
    throw new ScalerMetadataError(
      `trigger metadata "${SCALER_METADATA.name}" is missing: set it to the ${kind}'s name`,
    );
  const number = (key: string, fallback: number) => {
    const raw = md[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new ScalerMetadataError(
        `trigger metadata "${key}" is ${JSON.stringify(raw)}: expected a whole number >= 1`,
      );
    return n;
  };
  return {
    kind,
    namespace: ref!.namespace,
    name,
    batchSize: number(SCALER_METADATA.batchSize, 1),
    targetValue: number(SCALER_METADATA.targetValue, 1),
  };
}

/** Serves KEDA's ExternalScaler on `host:port` (0: any free port). */
export async function startKedaScaler(
  deps: KedaScalerDeps,
  opts: { port: number; host?: string },
): Promise<KedaScaler> {
  const log = deps.log ?? (() => {});
  const server = new Server();
  /** Open streams by workload key; KEDA may briefly hold two for one ScaledObject while it reconnects. */
  const streams = new Map<string, Set<ServerWritableStream<ScaledObjectRef, IsActiveResponse>>>();
  /** Workloads pushed active that still have queued work: pushed once per activation. */
  const pushed = new Set<string>();
  /** The last IsActive answer per workload (one entry per workload KEDA asked about). */
  const answered = new Map<string, boolean>();
  const streamCount = () => [...streams.values()].reduce((n, s) => n + s.size, 0);

  // KEDA's poll of a ScaledObject asks GetMetrics and then IsActive back to back: one read of the
  // depth answers both, so the push path costs the describes a metrics-api poll does, not twice.
  const recent = new Map<string, { atMs: number; depth: Promise<number> }>();
  const depthOf = (w: ScaledWorkload): Promise<number> => {
    const key = workloadKey(w.kind, w.namespace, w.name);
    const now = Date.now();
    const hit = recent.get(key);
    if (hit && now - hit.atMs < DEPTH_REUSE_MS) return hit.depth;
    if (recent.size > 2 * Math.max(64, streams.size))
      for (const [k, v] of recent) if (now - v.atMs >= DEPTH_REUSE_MS) recent.delete(k);
    const depth = deps.queueDepth(w);
    recent.set(key, { atMs: now, depth });
    depth.catch(() => recent.delete(key));
    return depth;
  };

  const unary =
    <Req, Res>(handle: (req: Req) => Promise<Res>) =>
    (call: { request: Req }, callback: sendUnaryData<Res>) => {
      handle(call.request).then(
        (res) => callback(null, res),
        (err: unknown) =>
          callback({
            code: err instanceof ScalerMetadataError ? status.INVALID_ARGUMENT : status.UNAVAILABLE,
            details: err instanceof Error ? err.message : String(err),
          }),
      );
    };

  server.addService(externalScalerService(), {
    IsActive: unary<ScaledObjectRef, IsActiveResponse>(async (ref) => {
      const w = scaledWorkloadOf(ref);
      const depth = await depthOf(w);
      const result = depth > 0;
      // A change of answer is when KEDA may scale to zero (after its cooldown) or wake the
      // workload: logged, so "why did it scale to zero?" has an answer. Steady answers are not.
      const key = workloadKey(w.kind, w.namespace, w.name);
      const before = answered.get(key);
      answered.set(key, result);
      if (before !== undefined && before !== result)
        log(result ? 'answered KEDA: active' : 'answered KEDA: inactive (KEDA may scale to zero)', {
          workload: key,
          queueDepth: depth,
        });
      return { result };
    }),
    GetMetricSpec: unary<ScaledObjectRef, { metricSpecs: MetricSpec[] }>(async (ref) => {
      const w = scaledWorkloadOf(ref);
      return {
        metricSpecs: [
          { metricName: queueDepthMetric(w.kind), targetSize: w.targetValue, targetSizeFloat: w.targetValue },
        ],
      };
    }),
    GetMetrics: unary<GetMetricsRequest, { metricValues: MetricValue[] }>(async (req) => {
      const w = scaledWorkloadOf(req.scaledObjectRef);
      const depth = await depthOf(w);
      return { metricValues: [{ metricName: req.metricName, metricValue: depth, metricValueFloat: depth }] };
    }),
    StreamIsActive: (call: ServerWritableStream<ScaledObjectRef, IsActiveResponse>) => {
      let w: ScaledWorkload;
      try {
        w = scaledWorkloadOf(call.request);
      } catch (err) {
        call.destroy(Object.assign(new Error((err as Error).message), { code: status.INVALID_ARGUMENT }));
        return;
      }
      const key = workloadKey(w.kind, w.namespace, w.name);
      const open = streams.get(key) ?? new Set();
      streams.set(key, open.add(call));
      const drop = () => {
        open.delete(call);
        if (open.size === 0 && streams.get(key) === open) streams.delete(key);
      };
      call.on('cancelled', drop);
      call.on('close', drop);
      call.on('error', drop);
      wake();
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${opts.host ?? '0.0.0.0'}:${opts.port}`,
      ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );

  // One loop reads the queued workloads while any stream is open; it sleeps otherwise.
  let closed = false;
  let running = false;
  const intervalMs = deps.pushIntervalMs ?? 1000;
  async function pushLoop(): Promise<void> {
    running = true;
    try {
      while (!closed && streams.size > 0) {
        const started = Date.now();
        await pushActivations().catch((err: unknown) =>
          log('reading active workloads failed; KEDA still polls', { error: (err as Error).message }),
        );
        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
      }
    } finally {
      running = false;
    }
  }
  function wake(): void {
    if (!running && !closed) void pushLoop();
  }

  async function pushActivations(): Promise<void> {
    const queued = await deps.queuedWorkloads();
    for (const key of pushed) if (!queued.has(key)) pushed.delete(key);
    for (const key of queued) {
      const open = streams.get(key);
      if (!open || pushed.has(key)) continue;
      pushed.add(key);
      for (const call of open) call.write({ result: true });
      log('pushed activation to KEDA', { workload: key });
    }
  }

  return {
    port,
    streams: streamCount,
    close: async () => {
      closed = true;
      for (const open of streams.values()) for (const call of open) call.end();
      streams.clear();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
