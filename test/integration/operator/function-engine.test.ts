// The operator's Temporal-backed engine driving a real Function workflow from a Function CR on
// the kube-apiserver: start, a spec change the running workflow follows without a restart
// (same run, new output version recomputed), pause, and stop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionRuntimeSpecSchema } from '../../../src/contracts/function.js';
import { specFingerprint } from '../../../src/contracts/fingerprint.js';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parseKind, type LayerFunction } from '../../../src/api/index.js';
import { functionHandle } from '../../../src/client/function-client.js';
import { toFunctionRuntimeSpec } from '../../../src/operator/runtime-spec.js';
import {
  createTemporalWorkloadWorkflows,
  type WorkloadWorkflows,
} from '../../../src/operator/workload-workflows.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { kubeConfig } from '../../helpers/servers.js';
import {
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
  type EngineHarness,
  type RunningPullWorker,
} from '../function/harness.js';
import { applyCr, installOperatorPrerequisites, readCr, testNamespace } from './harness.js';

let h: EngineHarness;
let admin: KubeConfig;
let custom: CustomObjectsApi;
let engine: WorkloadWorkflows;
let ns: string;

beforeAll(async () => {
  admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  custom = admin.makeApiClient(CustomObjectsApi);
  ns = await testNamespace(admin, 'opfn');
  h = await startEngineHarness();
  engine = createTemporalWorkloadWorkflows(h.client, { taskQueue: h.taskQueue });
});

afterAll(async () => {
  await h?.close();
});

/** Applies the seed Function over `storeNamespace` with `spec` merged in; returns the live CR, parsed. */
async function applyFunction(
  name: string,
  storeNamespace: string,
  spec: Record<string, unknown>,
): Promise<LayerFunction> {
  const seed = loadSeed('function');
  await applyCr(custom, {
    ...seed,
    metadata: { name, namespace: ns },
    spec: {
      ...seed.spec,
      targetNamespaces: [storeNamespace],
      worker: { ...seed.spec.worker, batchSize: 8 },
      schedule: {
        discoveryIntervalSeconds: 1,
        leaseSeconds: 10,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 2 },
      ...spec,
    },
  });
  const live = await readCr(custom, 'Function', ns, name);
  const parsed = parseKind('Function', { ...live, status: undefined });
  if (!parsed.ok) throw parsed.error;
  return parsed.resource as LayerFunction;
}

describe('Temporal workload engine: Functions', () => {
  it('starts the workflow from a CR, follows a spec change without a restart, pauses and stops', async () => {
    const storeNs = uniqueName('products');
    await seedRows(h.store, storeNs, range(1, 41));
    const name = 'tag-products';
    const ref = { k8sNamespace: ns, name };
    let worker: RunningPullWorker | undefined;
    try {
      // Start from the CR (the seed's filter names version v1).
      let cr = await applyFunction(name, storeNs, {});
      const spec = toFunctionRuntimeSpec(cr, [storeNs]);
      worker = startPullWorker(h, spec, taggingHandler());
      const started = await engine.sync({ action: 'sync', kind: 'Function', spec });
      expect(started.condition).toMatchObject({ type: 'WorkflowReady', status: 'True' });
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 40,
        60_000,
        '40 rows at v1',
      );
      const runId = (await functionHandle(h.client, ref).describe()).runId;

      // Diff, don't resend: a pass with the same spec sends no update (history gains no event),
      // and the workflow reports the fingerprint it compares against.
      const updates = async () =>
        ((await functionHandle(h.client, ref).fetchHistory()).events ?? []).filter(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
        ).length;
      const before = await updates();
      // An equal spec answers from the status query alone, with the workflow's phase and pending rows.
      for (const again of [spec, { ...spec }]) {
        const result = await engine.sync({ action: 'sync', kind: 'Function', spec: again });
        expect(result.condition).toEqual(started.condition);
        expect(result.workload).toMatchObject({ phase: expect.any(String), pendingRows: expect.any(Number) });
      }
      expect(await updates()).toBe(before);
      expect((await statusOf(h, ref)).specFingerprint).toBe(
        specFingerprint(functionRuntimeSpecSchema.parse(spec)),
      );

      // A new output version (and a filter that asks for it): the same run recomputes every row.
      cr = await applyFunction(name, storeNs, {
        output: { ...cr.spec.output, version: 'v2' },
        filter: [
          'Or',
          [
            ['tags_v', 'NotEq', 'v2'],
            ['tags_v', 'Eq', null],
          ],
        ],
      });
      expect(cr.metadata.generation).toBeGreaterThan(1);
      const v2 = toFunctionRuntimeSpec(cr, [storeNs]);
      await engine.sync({ action: 'sync', kind: 'Function', spec: v2 });
      expect(await updates()).toBe(before + 1); // a changed spec is sent, once
      const s2 = await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 80,
        60_000,
        '40 more rows at v2',
      );
      expect(s2.generation).toBe(cr.metadata.generation);
      expect(s2.outputVersion).toBe('v2');
      expect((await functionHandle(h.client, ref).describe()).runId).toBe(runId);
      expect((await readAll(h.store, storeNs, ['tags_v'])).every((r) => r.tags_v === 'v2')).toBe(true);

      // Paused through the spec.
      cr = await applyFunction(name, storeNs, { output: v2.output, filter: v2.filter, paused: true });
      await engine.sync({ action: 'sync', kind: 'Function', spec: toFunctionRuntimeSpec(cr, [storeNs]) });
      await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'paused',
        30_000,
        'paused',
      );

      // Deleted: the workflow stops; a second stop finds nothing running.
      expect(await engine.stop({ kind: 'Function', namespace: ns, name })).toBe(true);
      const desc = await eventually(
        () => functionHandle(h.client, ref).describe(),
        (d) => d.status.name !== 'RUNNING',
        30_000,
        'stopped',
      );
      expect(desc.status.name).toBe('CANCELLED');
      expect(await engine.stop({ kind: 'Function', namespace: ns, name })).toBe(false);
    } finally {
      await worker?.stop();
    }
  });
});
