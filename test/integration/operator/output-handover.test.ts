// Output ownership handed over (issue 28 item 1, docs/adr/0070): two Functions declare the same
// output attribute in one store namespace; the older owns it and the younger is refused with
// SpecValid=False OutputConflict naming the owner, its workflow never started. Deleting the owner
// hands the attribute over without anyone touching the younger Function: the watcher requeues
// every other writer of the attribute when a Function changes, the younger one's pass finds no
// older claimant, turns SpecValid=True and starts its workflow, and its pull worker writes every
// row with its own version. Real apiserver, reconcile workflow, Temporal workload engine,
// Function workflows, pull workers and embedded store; no resync (it would mask a missing requeue).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeed } from '../../fixtures/seeds.js';
import { createOperatorWatcher, type OperatorWatcher } from '../../../src/operator/watcher.js';
import { createTemporalWorkloadWorkflows } from '../../../src/operator/workload-workflows.js';
import { functionHandle } from '../../../src/client/function-client.js';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import { FINALIZER } from '../../../src/operator/finalizer.js';
import {
  baseSpec,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startPullWorker,
  taggingHandler,
  uniqueName,
  type EngineHarness,
  type RunningPullWorker,
} from '../function/harness.js';
import {
  applyCr,
  condition,
  eventually,
  readCr,
  startHarness,
  testNamespace,
  type Live,
  type OperatorHarness,
} from './harness.js';

let engineHarness: EngineHarness;
let h: OperatorHarness;
let watcher: OperatorWatcher;
/** This test's namespace (created in the test: the harness scopes the operator per test). */
let ns = '';
const POOL = `oph-${Date.now().toString(36)}`;
const MANAGER = `optest-${POOL}`;

/** This file's own pool in the shared InfraRules/default, under its own field manager. */
async function setPool(pools: object[]): Promise<void> {
  await applyCr(
    h.custom,
    {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: { computePools: pools },
    },
    MANAGER,
  );
}

beforeAll(async () => {
  engineHarness = await startEngineHarness();
  h = await startHarness({
    workloadEngine: createTemporalWorkloadWorkflows(engineHarness.client, {
      taskQueue: engineHarness.taskQueue,
    }),
  });
  await setPool([{ name: POOL, kind: 'cpu', maxReplicasPerWorkload: 4 }]);
  watcher = createOperatorWatcher({
    kubeConfig: h.operatorKc,
    client: h.client,
    taskQueue: h.taskQueue,
    // No periodic resync within the test: the hand-over must come from the watcher's requeue.
    resyncIntervalMs: 10 * 60_000,
    filter: (ref) => ref.namespace === ns,
  });
  await watcher.start();
  await eventually('watcher synced', async () => (watcher.synced() ? true : undefined));
}, 120_000);

afterAll(async () => {
  await watcher?.stop();
  await setPool([]).catch(() => undefined);
  await h?.close();
  await engineHarness?.close();
});

/** The seed Function writing `tags` at `version` into `storeNamespace`, on this file's pool. */
function fn(name: string, storeNamespace: string, version: string): Live {
  const seed = loadSeed('function');
  return {
    ...seed,
    metadata: { name, namespace: ns },
    spec: {
      ...seed.spec,
      targetNamespaces: [storeNamespace],
      output: { ...seed.spec.output, attribute: 'tags', version },
      filter: [
        'Or',
        [
          ['tags_v', 'NotEq', version],
          ['tags_v', 'Eq', null],
        ],
      ],
      worker: { ...seed.spec.worker, batchSize: 8 },
      schedule: {
        discoveryIntervalSeconds: 1,
        leaseSeconds: 10,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 2 },
      scaling: { pool: POOL, mode: 'autoscale', replicas: { min: 0, max: 2 } },
    },
  };
}

const specValid = async (name: string) =>
  condition(await readCr(h.custom, 'Function', ns, name), 'SpecValid');

describe('output ownership', () => {
  it('refuses the younger writer of an attribute naming the owner, and hands the attribute over when the owner is deleted', async () => {
    ns = await testNamespace(h.admin, 'oph');
    const storeNs = uniqueName('products');
    const ROWS = 24;
    await seedRows(engineHarness.store, storeNs, range(1, ROWS + 1));
    // The owner sorts after the claimant by name: only its age makes it the owner.
    const owner = 'tag-z-owner';
    const claimant = 'tag-a-claimant';
    const ownerCalls = new Map<string, number>();
    const claimantCalls = new Map<string, number>();
    const workers: RunningPullWorker[] = [];
    // A pull worker per Function, polling its task queue from the start (the worker reads the
    // spec from each claim; the runtime spec here only names the queue).
    const pullWorker = (name: string, seen: Map<string, number>) =>
      workers.push(
        startPullWorker(
          engineHarness,
          { ...baseSpec(name, storeNs), k8sNamespace: ns },
          taggingHandler(seen),
        ),
      );
    try {
      pullWorker(owner, ownerCalls);
      pullWorker(claimant, claimantCalls);
      await applyCr(h.custom, fn(owner, storeNs, 'owner-v1'));
      await eventually('the owner valid', async () =>
        (await specValid(owner))?.status === 'True' ? true : undefined,
      );
      // creationTimestamp has one-second resolution: the claimant is created a second later.
      await new Promise((r) => setTimeout(r, 1_100));
      await applyCr(h.custom, fn(claimant, storeNs, 'claimant-v1'));

      const refused = await eventually('the claimant refused', async () => {
        const c = await specValid(claimant);
        return c?.reason === 'OutputConflict' ? c : undefined;
      });
      expect(refused.status).toBe('False');
      expect(refused.message).toContain(`is already written by Function ${ns}/${owner}`);
      expect(refused.message).toContain(`store namespace ${storeNs}`);
      // The owner writes every row; the claimant's workflow never started, its handler never ran.
      await eventually(
        'every row at the owner version',
        async () => {
          const rows = await readAll(engineHarness.store, storeNs, ['tags_v']);
          return rows.length === ROWS && rows.every((r) => r.tags_v === 'owner-v1') ? true : undefined;
        },
        60_000,
      );
      expect(ownerCalls.size).toBe(ROWS);
      expect((await specValid(owner))?.status).toBe('True');
      expect(condition(await readCr(h.custom, 'Function', ns, claimant), 'WorkflowReady')?.reason).toBe(
        'OutputConflict',
      );
      const claimantRuns = await functionHandle(engineHarness.client, { k8sNamespace: ns, name: claimant })
        .describe()
        .then(
          (d) => d.status.name,
          () => 'none',
        );
      expect(claimantRuns).toBe('none');
      expect(claimantCalls.size).toBe(0);

      // The claimant's passes are over (its finalizer's own event included): what follows the
      // deletion can only come from the watcher requeueing it.
      const claimantReconcile = h.client.workflow.getHandle(reconcileWorkflowId('Function', ns, claimant));
      let lastRun = '';
      await eventually(
        'the claimant settled',
        async () => {
          const cr = await readCr(h.custom, 'Function', ns, claimant);
          await watcher.idle();
          const d = await claimantReconcile.describe();
          const settled =
            (cr?.metadata?.finalizers ?? []).includes(FINALIZER) &&
            d.status.name === 'COMPLETED' &&
            d.runId === lastRun;
          lastRun = d.runId;
          if (!settled) await new Promise((r) => setTimeout(r, 1_000));
          return settled ? true : undefined;
        },
        30_000,
      );
      expect((await specValid(claimant))?.reason).toBe('OutputConflict');

      // Delete the owner; nobody touches the claimant.
      await h.custom.deleteNamespacedCustomObject({
        group: 'hevlayer.com',
        version: 'v1alpha1',
        namespace: ns,
        plural: 'functions',
        name: owner,
      });
      const handedOver = await eventually(
        'the claimant valid',
        async () => {
          const c = await specValid(claimant);
          return c?.status === 'True' ? c : undefined;
        },
        60_000,
      );
      expect(handedOver.reason).not.toBe('OutputConflict');
      await eventually(
        'every row at the claimant version',
        async () => {
          const rows = await readAll(engineHarness.store, storeNs, ['tags', 'tags_v']);
          return rows.length === ROWS &&
            rows.every((r) => r.tags_v === 'claimant-v1' && Array.isArray(r.tags))
            ? true
            : undefined;
        },
        60_000,
      );
      expect(claimantCalls.size).toBe(ROWS);
      expect(await readCr(h.custom, 'Function', ns, owner)).toBeUndefined();
    } finally {
      for (const w of workers) await w.stop();
    }
  }, 180_000);
});
