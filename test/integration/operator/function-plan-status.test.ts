// Plan before you run, in the operator: a Function created with spec.paused: true gets
// status.plan — exact counts of the rows it would process per target namespace (from the real
// embedded store), its batches and, with the hevlayer.com/plan-rows-per-second annotation, an
// estimate — written by the real reconcile workflow and activities on the real apiserver.
// Resumed, the plan goes away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPlannedRows } from '../../../src/operator/function-estimate.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { applyCr, readCr, startHarness, testNamespace, type OperatorHarness } from './harness.js';

let h: OperatorHarness;
let server: StoreServer;
let store: StoreClient;

beforeAll(async () => {
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url, apiKey: 'test' });
  h = await startHarness({ planRows: (spec) => countPlannedRows(store, spec) });
  await applyCr(h.custom, loadSeed('infraRules'));
}, 120_000);

afterAll(async () => {
  await h?.close();
  await server?.close();
});

describe('status.plan of a paused Function', () => {
  it('counts what the Function would process, estimates at the annotated rate, and goes away on resume', async () => {
    const ns = await testNamespace(h.admin, 'plan');
    const target = `plan-${ns}`;
    // 130 rows, 30 already at v1.
    await store.upsertRows(
      target,
      Array.from({ length: 130 }, (_, i) => ({
        id: i + 1,
        title: `p ${i + 1}`,
        ...(i < 30 ? { tags: ['x'], tags_v: 'v1' } : {}),
      })),
    );
    const seed = loadSeed('function');
    const fn = (paused: boolean) => ({
      ...seed,
      metadata: {
        name: 'planned',
        namespace: ns,
        annotations: { 'hevlayer.com/plan-rows-per-second': '25' },
      },
      spec: {
        ...seed.spec,
        paused,
        targetNamespaces: [target, `${target}-missing`],
        worker: { ...seed.spec.worker, batchSize: 32 },
        schedule: { ...seed.spec.schedule, maxInFlightBatches: 4 },
      },
    });
    await applyCr(h.custom, fn(true));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'planned' });
    let cr = await readCr(h.custom, 'Function', ns, 'planned');
    expect(cr?.status.plan).toMatchObject({
      rows: 100,
      namespaces: { [target]: 100, [`${target}-missing`]: 0 },
      batches: 4,
      batchSize: 32,
      estimate: { source: 'given', rowsPerSecond: 100, batchesInFlight: 4, seconds: 1 },
    });
    // The count is the store's, for the same filter discovery uses.
    expect(
      await store.countRows(target, [
        'Or',
        [
          ['tags_v', 'NotEq', 'v1'],
          ['tags_v', 'Eq', null],
        ],
      ] as never),
    ).toBe(100);

    await applyCr(h.custom, fn(false));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'planned' });
    cr = await readCr(h.custom, 'Function', ns, 'planned');
    expect(cr?.status.plan).toBeUndefined();
  });
});
