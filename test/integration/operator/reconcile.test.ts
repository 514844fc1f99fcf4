// The reconcile workflow on the real kube-apiserver and Temporal dev server, the operator running
// with exactly the deploy/operator ClusterRole and a recording fake workload engine.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeed } from '../../fixtures/seeds.js';
import { FINALIZER } from '../../../src/operator/finalizer.js';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import { recordHistories } from '../../helpers/history-json.js';
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
const POOL = `optest-${Date.now().toString(36)}`;

beforeAll(async () => {
  h = await startHarness();
  // InfraRules/default is cluster-wide and shared with other test files: apply the seed as
  // kubectl does (identical content) and add this file's own pool under its own field manager.
  await applyCr(h.custom, loadSeed('infraRules'));
  await setPool({ nodeSelector: { 'hevlayer.com/test-pool': 'a' }, maxReplicasPerWorkload: 3 });
});

afterAll(async () => {
  await applyCr(
    h.custom,
    {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: { computePools: [] },
    },
    `optest-${POOL}`,
  ).catch(() => undefined);
  await h?.close();
});

async function setPool(p: {
  nodeSelector: Record<string, string>;
  maxReplicasPerWorkload: number;
}): Promise<void> {
  await applyCr(
    h.custom,
    {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: { computePools: [{ name: POOL, kind: 'cpu', ...p }] },
    },
    `optest-${POOL}`,
  );
}

function fn(namespace: string, name: string, spec: Live = {}): Live {
  const seed = loadSeed('function');
  return {
    ...seed,
    metadata: { name, namespace },
    spec: {
      ...seed.spec,
      ...spec,
      scaling: { ...seed.spec.scaling, pool: POOL, replicas: { min: 0, max: 2 }, ...(spec.scaling ?? {}) },
    },
  };
}

async function deployment(ns: string, name: string) {
  return h.apps.readNamespacedDeployment({ name, namespace: ns }).catch((e: { code?: number }) => {
    if (e.code === 404) return undefined;
    throw e;
  });
}

async function scaledObject(ns: string, name: string): Promise<Live | undefined> {
  return (await h.custom
    .getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'scaledobjects',
      name,
    })
    .catch((e: { code?: number }) => {
      if (e.code === 404) return undefined;
      throw e;
    })) as Live | undefined;
}

describe('reconcile workflow', () => {
  it('seed Function → Deployment and ScaledObject on its pool, status, finalizer, engine started', async () => {
    const ns = await testNamespace(h.admin);
    const seed = loadSeed('function');
    await applyCr(h.custom, { ...seed, metadata: { ...seed.metadata, namespace: ns } });
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'tag-products' });

    const d = await deployment(ns, 'layer-fn-tag-products');
    expect(d?.spec?.template.spec?.nodeSelector).toEqual({ 'karpenter.sh/nodepool': 'cpu' });
    expect(d?.metadata?.managedFields?.map((f) => f.manager)).toContain('layer-operator');
    expect(d?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Function',
      name: 'tag-products',
      controller: true,
    });
    const so = await scaledObject(ns, 'layer-fn-tag-products');
    expect(so?.spec).toMatchObject({
      minReplicaCount: 0,
      maxReplicaCount: 6,
      scaleTargetRef: { name: 'layer-fn-tag-products' },
    });

    const cr = await readCr(h.custom, 'Function', ns, 'tag-products');
    await recordHistories(
      h.client,
      reconcileWorkflowId('Function', ns, 'tag-products'),
      // One activity per pass (patch reconcile-pass-activity); reconcile-function-1 keeps a run
      // from before it, when each step was its own activity.
      'reconcile-function-pass',
    );
    expect(cr?.metadata.finalizers).toContain(FINALIZER);
    expect(cr?.status.observedGeneration).toBe(cr?.metadata.generation);
    expect(cr?.status.pool).toBe('cpu');
    expect(condition(cr, 'PoolResolved')).toMatchObject({
      status: 'True',
      reason: 'PoolFound',
      observedGeneration: cr?.metadata.generation,
    });
    expect(condition(cr, 'WorkflowReady')).toMatchObject({ status: 'True', reason: 'WorkflowRunning' });
    // min 0: created at zero replicas (ADR 0128), so the worker is available by definition.
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(condition(cr, 'Degraded')).toMatchObject({ status: 'False', reason: 'NotDegraded' });

    const sync = h.engine.syncsFor(ns, 'tag-products').at(-1);
    expect(sync).toMatchObject({
      kind: 'Function',
      spec: {
        targetNamespaces: ['products'],
        output: { version: 'v1' },
        worker: { dispatch: 'pull', taskQueue: `layer-fn.${ns}.tag-products` },
        paused: false,
      },
    });
  });

  it('a second pass with nothing changed writes no status', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(h.custom, fn(ns, 'steady'));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'steady' });
    const before = await readCr(h.custom, 'Function', ns, 'steady');
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'steady' });
    const after = await readCr(h.custom, 'Function', ns, 'steady');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('status tells the truth: Ready once the Deployment is available, Degraded on a crash-looping pod', async () => {
    // There is no kubelet: the test writes Deployment and Pod status through the status
    // subresource, as envtest-based suites do.
    const ns = await testNamespace(h.admin);
    const name = 'truthful';
    const objectName = `layer-fn-${name}`;
    // min 1: created with a replica that is not available yet (no kubelet).
    await applyCr(h.custom, fn(ns, name, { scaling: { replicas: { min: 1, max: 2 } } }));
    await h.reconcile({ kind: 'Function', namespace: ns, name });
    expect(condition(await readCr(h.custom, 'Function', ns, name), 'Ready')?.status).toBe('Unknown');

    await h.apps.patchNamespacedDeploymentStatus(
      {
        name: objectName,
        namespace: ns,
        body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name });
    let cr = await readCr(h.custom, 'Function', ns, name);
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'True', reason: 'DeploymentAvailable' });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(condition(cr, 'Degraded')?.status).toBe('False');

    // A pod of the workload starts crash-looping.
    const d = await deployment(ns, objectName);
    const labels = d!.spec!.template.metadata!.labels!;
    await h.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: `${objectName}-abc12`, labels },
        spec: { containers: [{ name: 'worker', image: 'example/tagger:1' }] },
      },
    });
    await h.core.patchNamespacedPodStatus(
      {
        name: `${objectName}-abc12`,
        namespace: ns,
        body: {
          status: {
            phase: 'Running',
            containerStatuses: [
              {
                name: 'worker',
                image: 'example/tagger:1',
                imageID: '',
                ready: false,
                restartCount: 5,
                state: {
                  waiting: {
                    reason: 'CrashLoopBackOff',
                    message: 'back-off 2m40s restarting failed container',
                  },
                },
                lastState: { terminated: { exitCode: 1, reason: 'Error' } },
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name });
    cr = await readCr(h.custom, 'Function', ns, name);
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'False', reason: 'CrashLoop' });
    expect(condition(cr, 'WorkerAvailable')?.message).toContain(
      `pod ${objectName}-abc12 container worker: CrashLoopBackOff`,
    );
    expect(condition(cr, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoop' });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'False', reason: 'CrashLoop' });
    // The transitions are Events on the Function, as `kubectl describe` shows them.
    const events = await h.core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${name},involvedObject.kind=Function`,
    });
    const seen = events.items.map((e) => `${e.type} ${e.reason}`);
    expect(seen).toContain('Normal Ready');
    expect(seen).toContain('Warning CrashLoop');
    expect(events.items.every((e) => e.involvedObject.uid === cr?.metadata.uid)).toBe(true);

    // Fixed (the pod replaced by a healthy one): Ready again.
    await h.core.deleteNamespacedPod({ name: `${objectName}-abc12`, namespace: ns, gracePeriodSeconds: 0 });
    await eventually('pod gone', () =>
      h.core
        .readNamespacedPod({ name: `${objectName}-abc12`, namespace: ns })
        .then(() => undefined)
        .catch(() => true),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name });
    cr = await readCr(h.custom, 'Function', ns, name);
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(cr, 'Degraded')?.status).toBe('False');
  });

  it('seed Pipeline → objects applied, the Pipeline engine given its spec, WorkflowReady set', async () => {
    const ns = await testNamespace(h.admin);
    const seed = loadSeed('pipeline');
    await applyCr(h.custom, { ...seed, metadata: { ...seed.metadata, namespace: ns } });
    await h.reconcile({ kind: 'Pipeline', namespace: ns, name: seed.metadata.name });
    const cr = await readCr(h.custom, 'Pipeline', ns, seed.metadata.name);
    expect(cr?.status.managedObjects.length).toBeGreaterThan(0);
    for (const o of cr?.status.managedObjects ?? []) {
      if (o.kind === 'Deployment') expect(await deployment(ns, o.name)).toBeDefined();
    }
    expect(h.engine.syncsFor(ns, seed.metadata.name).at(-1)).toEqual({
      action: 'sync',
      kind: 'Pipeline',
      spec: {
        k8sNamespace: ns,
        name: seed.metadata.name,
        generation: cr?.metadata.generation,
        targetNamespace: 'products',
        sourceRef: seed.spec.sourceRef,
        worker: {
          dispatch: 'pull',
          batchSize: 64,
          timeoutSeconds: 60,
          taskQueue: `layer-pl.${ns}.${seed.metadata.name}`,
        },
        paused: false,
      },
    });
    expect(condition(cr, 'WorkflowReady')).toMatchObject({ status: 'True', reason: 'WorkflowRunning' });
    // Nothing is False any more, and the worker waits at zero for items, as a Function's for rows.
    // min 0: created at zero replicas (ADR 0128), so the worker is available by definition.
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(condition(cr, 'Degraded')).toMatchObject({ status: 'False', reason: 'NotDegraded' });
  });

  it('replicas over the pool ceiling → condition, no objects, engine untouched', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(h.custom, fn(ns, 'too-big', { scaling: { replicas: { min: 0, max: 50 } } }));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'too-big' });
    const cr = await readCr(h.custom, 'Function', ns, 'too-big');
    expect(condition(cr, 'ReplicasWithinLimit')).toMatchObject({
      status: 'False',
      reason: 'ReplicasExceedPoolLimit',
    });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasExceedPoolLimit' });
    expect(condition(cr, 'Ready')?.message).toContain('maxReplicasPerWorkload 3');
    expect(await deployment(ns, 'layer-fn-too-big')).toBeUndefined();
    expect(h.engine.syncsFor(ns, 'too-big')).toEqual([]);
  });

  it('unknown pool → condition naming the pools that exist, no objects', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(h.custom, fn(ns, 'lost', { scaling: { pool: 'no-such-pool' } }));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'lost' });
    const cr = await readCr(h.custom, 'Function', ns, 'lost');
    expect(condition(cr, 'PoolResolved')).toMatchObject({ status: 'False', reason: 'ComputePoolNotFound' });
    expect(condition(cr, 'PoolResolved')?.message).toContain(POOL);
    expect(await deployment(ns, 'layer-fn-lost')).toBeUndefined();
  });

  it('paused → 0 replicas, ScaledObject pruned, engine told to pause; spec change reaches the engine', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(h.custom, fn(ns, 'nap'));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'nap' });
    expect(await scaledObject(ns, 'layer-fn-nap')).toBeDefined();

    await applyCr(
      h.custom,
      fn(ns, 'nap', { paused: true, output: { attribute: 'tags', kind: 'tags', version: 'v2' } }),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'nap' });
    expect((await deployment(ns, 'layer-fn-nap'))?.spec?.replicas).toBe(0);
    expect(await scaledObject(ns, 'layer-fn-nap')).toBeUndefined();
    const cr = await readCr(h.custom, 'Function', ns, 'nap');
    // Paused is a requested zero: the worker is available by definition, so the workload is Ready.
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'True', reason: 'Paused' });
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(condition(cr, 'Ready')?.message).toContain('paused as asked');
    expect(condition(cr, 'WorkflowReady')).toMatchObject({ status: 'True', reason: 'WorkflowPaused' });
    expect(h.engine.syncsFor(ns, 'nap').at(-1)).toMatchObject({
      spec: { paused: true, output: { version: 'v2' }, generation: cr?.metadata.generation },
    });
  });

  it('InfraRules pool edited → the pod template follows on the next pass', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(h.custom, fn(ns, 'follow'));
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'follow' });
    expect((await deployment(ns, 'layer-fn-follow'))?.spec?.template.spec?.nodeSelector).toEqual({
      'hevlayer.com/test-pool': 'a',
    });
    await setPool({ nodeSelector: { 'hevlayer.com/test-pool': 'b' }, maxReplicasPerWorkload: 3 });
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'follow' });
    expect((await deployment(ns, 'layer-fn-follow'))?.spec?.template.spec?.nodeSelector).toEqual({
      'hevlayer.com/test-pool': 'b',
    });
    await setPool({ nodeSelector: { 'hevlayer.com/test-pool': 'a' }, maxReplicasPerWorkload: 3 });
  });

  it('delete → workflow stopped, owned objects deleted, finalizer removed, CR gone', async () => {
    const ns = await testNamespace(h.admin);
    await applyCr(
      h.custom,
      fn(ns, 'bye', { worker: { ...loadSeed('function').spec.worker, dispatch: 'push' } }),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'bye' });
    expect(await h.core.readNamespacedService({ name: 'layer-fn-bye', namespace: ns })).toBeDefined();
    expect(h.engine.syncsFor(ns, 'bye').at(-1)).toMatchObject({
      spec: { worker: { pushUrl: `http://layer-fn-bye.${ns}.svc:8080` } },
    });

    await h.custom.deleteNamespacedCustomObject({
      group: 'hevlayer.com',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'functions',
      name: 'bye',
    });
    expect((await readCr(h.custom, 'Function', ns, 'bye'))?.metadata.deletionTimestamp).toBeDefined();
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'bye' });
    expect(await readCr(h.custom, 'Function', ns, 'bye')).toBeUndefined();
    expect(await deployment(ns, 'layer-fn-bye')).toBeUndefined();
    expect(await scaledObject(ns, 'layer-fn-bye')).toBeUndefined();
    await expect(h.core.readNamespacedService({ name: 'layer-fn-bye', namespace: ns })).rejects.toMatchObject(
      { code: 404 },
    );
    expect(h.engine.stops).toContainEqual({ kind: 'Function', namespace: ns, name: 'bye' });
  });

  it('a CR the CRD admits but the schema refuses → SpecValid=False quoting the problem', async () => {
    // The CRD bounds leaseSeconds only below (int64 above); the operator's schema refuses integers
    // JavaScript cannot hold exactly.
    const ns = await testNamespace(h.admin);
    const huge = 2 ** 60;
    await applyCr(
      h.custom,
      fn(ns, 'odd', { schedule: { ...loadSeed('function').spec.schedule, leaseSeconds: huge } }),
    );
    await h.reconcile({ kind: 'Function', namespace: ns, name: 'odd' });
    const cr = await readCr(h.custom, 'Function', ns, 'odd');
    expect(condition(cr, 'SpecValid')).toMatchObject({ status: 'False', reason: 'SchemaInvalid' });
    expect(condition(cr, 'SpecValid')?.message).toContain('spec.schedule.leaseSeconds');
    expect(condition(cr, 'Ready')).toMatchObject({ status: 'False', reason: 'SchemaInvalid' });
    expect(await deployment(ns, 'layer-fn-odd')).toBeUndefined();
    expect(cr?.metadata.finalizers).toContain(FINALIZER);
  });

  it('InfraRules/default reports its pools and documentCache', async () => {
    await h.reconcile({ kind: 'InfraRules', name: 'default' });
    const cr = await eventually('InfraRules status', async () => {
      const r = await readCr(h.custom, 'InfraRules', undefined, 'default');
      return r?.status?.pools?.includes(POOL) ? r : undefined;
    });
    expect(condition(cr, 'DocumentCacheValid')).toMatchObject({ status: 'True', reason: 'CacheValid' });
    expect(condition(cr, 'DocumentCacheValid')?.message).toContain('256 GiB');
  });
});
