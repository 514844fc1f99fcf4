// The watcher on the real apiserver: events reach the reconcile workflow through signal-with-start,
// InfraRules edits re-reconcile workloads on the changed pool, deleted owned objects come back,
// and a watcher stopped and restarted mid-stream misses nothing and duplicates nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeed } from '../../fixtures/seeds.js';
import { createOperatorWatcher, type OperatorWatcher } from '../../../src/operator/watcher.js';
import { slimInformer } from '../../../src/operator/slim-informer.js';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import { EDIT_PRIORITY_KEY, RESYNC_PRIORITY_KEY } from '../../../src/operator/watch-rules.js';
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

let h: OperatorHarness;
let watcher: OperatorWatcher;
const POOL = `opw-${Date.now().toString(36)}`;
const MANAGER = `optest-${POOL}`;

async function setPool(value: string): Promise<void> {
  await applyCr(
    h.custom,
    {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: {
        computePools: [
          {
            name: POOL,
            kind: 'cpu',
            maxReplicasPerWorkload: 4,
            nodeSelector: { 'hevlayer.com/test-pool': value },
          },
        ],
      },
    },
    MANAGER,
  );
}

beforeAll(async () => {
  h = await startHarness();
  await setPool('a');
  watcher = createOperatorWatcher({
    kubeConfig: h.operatorKc,
    client: h.client,
    taskQueue: h.taskQueue,
    resyncIntervalMs: 2000,
    // Only this file's namespaces; cluster-scoped InfraRules are reconciled by reconcile.test.ts.
    filter: (ref) => ref.namespace?.startsWith('opw-') ?? false,
  });
  await watcher.start();
  await eventually('watcher synced', async () => (watcher.synced() ? true : undefined));
});

afterAll(async () => {
  await watcher?.stop();
  await applyCr(
    h.custom,
    {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: { computePools: [] },
    },
    MANAGER,
  ).catch(() => undefined);
  await h?.close();
});

function fn(namespace: string, name: string): Live {
  const seed = loadSeed('function');
  return {
    ...seed,
    metadata: { name, namespace },
    spec: { ...seed.spec, scaling: { pool: POOL, mode: 'autoscale', replicas: { min: 0, max: 2 } } },
  };
}

const nodeSelector = async (ns: string, name: string) =>
  (await h.apps.readNamespacedDeployment({ name, namespace: ns }).catch(() => undefined))?.spec?.template.spec
    ?.nodeSelector?.['hevlayer.com/test-pool'];

describe('operator watcher', () => {
  it('apply → objects; InfraRules edit → template follows; owned object deleted → restored; CR deleted → cleaned up', async () => {
    const ns = await testNamespace(h.admin, 'opw');
    await applyCr(h.custom, fn(ns, 'watched'));
    await eventually('Deployment on pool a', async () =>
      (await nodeSelector(ns, 'layer-fn-watched')) === 'a' ? true : undefined,
    );
    const cr = await eventually('Ready condition', async () => {
      const r = await readCr(h.custom, 'Function', ns, 'watched');
      return condition(r, 'Ready') ? r : undefined;
    });
    expect(condition(cr, 'PoolResolved')?.status).toBe('True');

    await setPool('b');
    await eventually('Deployment follows pool b', async () =>
      (await nodeSelector(ns, 'layer-fn-watched')) === 'b' ? true : undefined,
    );

    await h.apps.deleteNamespacedDeployment({ name: 'layer-fn-watched', namespace: ns });
    await eventually('Deployment restored', async () =>
      (await nodeSelector(ns, 'layer-fn-watched')) === 'b' ? true : undefined,
    );

    await h.custom.deleteNamespacedCustomObject({
      group: 'hevlayer.com',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'functions',
      name: 'watched',
    });
    await eventually('Function and Deployment gone', async () =>
      (await readCr(h.custom, 'Function', ns, 'watched')) === undefined &&
      (await nodeSelector(ns, 'layer-fn-watched')) === undefined
        ? true
        : undefined,
    );
  });

  it("an edit's reconcile run has a higher Temporal priority than the default, a resync's the lowest (ADR 0135)", async () => {
    const ns = await testNamespace(h.admin, 'opw');
    await applyCr(h.custom, fn(ns, 'prio'));
    const workflowId = reconcileWorkflowId('Function', ns, 'prio');
    // The file's watcher resyncs every 2 s: its runs join the one the Function's creation started.
    const runs = await eventually('a run started by the creation and one by a resync', async () => {
      const keys: (number | undefined)[] = [];
      for await (const run of h.client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
        keys.push(
          (await h.client.workflow.getHandle(workflowId, run.runId).describe()).priority?.priorityKey,
        );
      return keys.includes(EDIT_PRIORITY_KEY) && keys.includes(RESYNC_PRIORITY_KEY) ? keys : undefined;
    });
    expect(new Set(runs)).toEqual(new Set([EDIT_PRIORITY_KEY, RESYNC_PRIORITY_KEY]));
  });

  it("the informers' caches keep objects without managedFields, listed or watched", async () => {
    const ns = await testNamespace(h.admin, 'opw');
    await applyCr(h.custom, fn(ns, 'listed'));
    const managed = (o: { metadata?: { managedFields?: unknown[] } } | undefined) =>
      (o?.metadata?.managedFields ?? []).length;
    // The apiserver keeps them (server-side apply): what the cache would hold without the slimming.
    expect(managed(await readCr(h.custom, 'Function', ns, 'listed'))).toBeGreaterThan(0);
    const informer = slimInformer(
      h.operatorKc,
      '/apis/hevlayer.com/v1alpha1/functions',
      () =>
        h.custom.listClusterCustomObject({
          group: 'hevlayer.com',
          version: 'v1alpha1',
          plural: 'functions',
        }) as never,
    );
    await informer.start();
    try {
      await applyCr(h.custom, fn(ns, 'watched-later'));
      const cached = await eventually('both Functions cached', async () => {
        const listed = informer.get('listed', ns);
        const watched = informer.get('watched-later', ns);
        return listed && watched ? [listed, watched] : undefined;
      });
      expect(cached.map(managed)).toEqual([0, 0]);
      expect(cached.map((o) => o.metadata?.name)).toEqual(['listed', 'watched-later']);
    } finally {
      await informer.stop();
    }
  });

  it('stopped and restarted mid-stream: nothing missed, nothing duplicated', async () => {
    const ns = await testNamespace(h.admin, 'opw');
    await applyCr(h.custom, fn(ns, 'before'));
    await eventually('first Deployment', async () =>
      (await nodeSelector(ns, 'layer-fn-before')) ? true : undefined,
    );
    await watcher.stop();
    // While the operator is down: a new Function, and an edit of the existing one.
    // Its own output attribute: 'before' owns the seed's (ADR 0070).
    const during = fn(ns, 'during');
    await applyCr(h.custom, {
      ...during,
      spec: {
        ...during.spec,
        output: { ...(during.spec as { output: object }).output, attribute: 'tags_during' },
      },
    });
    await applyCr(h.custom, { ...fn(ns, 'before'), spec: { ...fn(ns, 'before').spec, paused: true } });
    await watcher.start();
    await eventually('missed Function reconciled', async () =>
      (await nodeSelector(ns, 'layer-fn-during')) ? true : undefined,
    );
    await eventually('missed edit reconciled', async () =>
      (await h.apps.readNamespacedDeployment({ name: 'layer-fn-before', namespace: ns })).spec?.replicas === 0
        ? true
        : undefined,
    );
    await watcher.idle();
    const deployments = await h.apps.listNamespacedDeployment({ namespace: ns });
    expect(deployments.items.map((d) => d.metadata?.name).sort()).toEqual([
      'layer-fn-before',
      'layer-fn-during',
    ]);
    // At most one reconcile workflow per resource is ever running.
    const running: string[] = [];
    for await (const wf of h.client.workflow.list({
      query: `ExecutionStatus = "Running" AND WorkflowId STARTS_WITH "reconcile/Function/${ns}/"`,
    }))
      running.push(wf.workflowId);
    expect(new Set(running).size).toBe(running.length);
  });
});
