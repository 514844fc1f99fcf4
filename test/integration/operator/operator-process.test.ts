// `layer operator` as the image runs it: a child process configured only through its
// environment, on the real apiserver (with exactly deploy/operator's ClusterRole) and the real
// Temporal dev server. A Function CR becomes a Deployment and a ScaledObject rendered with the
// worker settings the process was given, its workflow runs on the task queue the process polls
// (so a pull worker writes every row back), its status follows the Deployment and the worker pods
// (Ready when available, Degraded on a crash loop) without a pass the test starts, and deleting
// the CR removes it all.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTaskQueue, functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { runFunctionWorker } from '../../../packages/worker/src/function-worker.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { range, readAll, seedRows, taggingHandler } from '../function/harness.js';
import {
  apiBaseOf,
  applyCr,
  condition,
  eventually,
  readCr,
  startOperatorProcess,
  type OperatorProcess,
  operatorProcessSetup,
} from './harness.js';

const WORKER_TEMPORAL = 'temporal-frontend.example.svc:7233';
const WORKER_STORE = 'http://layer-gateway.example.svc:8080';

let admin: KubeConfig;
let dir: string;
let storeServer: StoreServer;
let store: StoreClient;
let operator: OperatorProcess | undefined;
let ns: string;
const taskQueue = `layer-orchestrator-proc-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  let kubeconfigFile: string;
  ({ admin, ns, dir, kubeconfigFile } = await operatorProcessSetup('proc'));
  storeServer = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: storeServer.url, apiKey: 'test' });
  operator = await startOperatorProcess({
    KUBECONFIG: kubeconfigFile,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    LAYER_ORCHESTRATOR_TASK_QUEUE: taskQueue,
    LAYER_STORE_URL: storeServer.url,
    LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    // Only this test's namespace: other files' CRs are theirs.
    LAYER_WATCH_NAMESPACES: ns,
    LAYER_WORKER_TEMPORAL_ADDRESS: WORKER_TEMPORAL,
    LAYER_WORKER_STORE_URL: WORKER_STORE,
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await storeServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('layer operator (child process)', () => {
  it('turns a Function CR into its objects with the configured worker settings, runs it on its own task queue, and removes it all on delete', async () => {
    const custom = admin.makeApiClient(CustomObjectsApi);
    const apps = admin.makeApiClient(AppsV1Api);
    const name = 'tag-products';
    const storeNs = `products-${randomUUID().slice(0, 8)}`;
    await seedRows(store, storeNs, range(1, 65));
    const seed = loadSeed('function');
    await applyCr(custom, {
      ...seed,
      metadata: { name, namespace: ns },
      // min 1: created with a replica, so the Deployment status written below is one it could report
      // (a min-0 Function is created at zero and waits for rows: ADR 0128).
      spec: {
        ...seed.spec,
        targetNamespaces: [storeNs],
        scaling: { ...seed.spec.scaling, replicas: { min: 1, max: 2 } },
      },
    });

    // The objects, rendered with what this process was configured with.
    const objectName = workloadObjectName('Function', name);
    const deployment = await eventually(
      'Deployment',
      () => apps.readNamespacedDeployment({ namespace: ns, name: objectName }).catch(() => undefined),
      60_000,
    );
    const env = Object.fromEntries(
      (deployment.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      LAYER_TEMPORAL_ADDRESS: WORKER_TEMPORAL,
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: WORKER_STORE,
      LAYER_TASK_QUEUE: functionTaskQueue(ns, name),
      LAYER_WORKER_CONCURRENCY: String(seed.spec.schedule.maxInFlightBatches),
    });
    await eventually(
      'ScaledObject',
      () =>
        custom
          .getNamespacedCustomObject({
            group: 'keda.sh',
            version: 'v1alpha1',
            namespace: ns,
            plural: 'scaledobjects',
            name: objectName,
          })
          .catch(() => undefined),
      30_000,
    );

    // KEDA's queue depth, from the process's own API and the real running workflow: 64 pending
    // rows in batches of 32, before any worker exists.
    const apiBase = apiBaseOf(operator!.log());
    expect(apiBase).toBeDefined();
    const depthUrl = `${apiBase}/v1/queue-depth/functions/${ns}/${name}`;
    const depth = async () => ((await (await fetch(depthUrl)).json()) as { queueDepth: number }).queueDepth;
    await eventually(
      'queue depth from the running workflow',
      async () => ((await depth()) === 2 ? true : undefined),
      60_000,
    );

    // The Function workflow runs on the process's task queue: a pull worker writes every row.
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const controller = new AbortController();
    const worker = runFunctionWorker({
      handler: taggingHandler(),
      taskQueue: functionTaskQueue(ns, name),
      temporal: { connection, namespace: temporalNamespace() },
      store,
      signal: controller.signal,
    });
    try {
      await eventually(
        'every row tagged',
        async () => {
          const rows = await readAll(store, storeNs, ['tags', 'tags_v']);
          return rows.length === 64 && rows.every((r) => r.tags_v === 'v1') ? rows : undefined;
        },
        90_000,
      );
      const rows = await readAll(store, storeNs, ['tags']);
      expect(rows.map((r) => r.tags)).toEqual(
        range(1, 65).map((id) => ['product', 'number', String(id), 'deluxe']),
      );
      const cr = await eventually(
        'WorkflowReady',
        async () => {
          const live = await readCr(custom, 'Function', ns, name);
          return condition(live, 'WorkflowReady')?.status === 'True' ? live : undefined;
        },
        30_000,
      );
      expect(condition(cr, 'WorkflowReady')?.reason).toBe('WorkflowRunning');

      // There is no kubelet: the test plays it through the status subresources. The watcher sees
      // the Deployment become available and a pod crash-loop, and the status follows without any
      // pass started by the test.
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      await apps.patchNamespacedDeploymentStatus(
        {
          name: objectName,
          namespace: ns,
          body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 } },
        },
        merge,
      );
      const ready = await eventually(
        'Ready once the Deployment is available',
        async () => {
          const live = await readCr(custom, 'Function', ns, name);
          return condition(live, 'Ready')?.status === 'True' ? live : undefined;
        },
        30_000,
      );
      expect(condition(ready, 'WorkerAvailable')?.reason).toBe('DeploymentAvailable');
      const core = admin.makeApiClient(CoreV1Api);
      const podName = `${objectName}-crash1`;
      await core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: podName, labels: deployment.spec!.template.metadata!.labels! },
          spec: { containers: [{ name: 'worker', image: 'example/tagger:1' }] },
        },
      });
      await core.patchNamespacedPodStatus(
        {
          name: podName,
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
                  restartCount: 4,
                  state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s' } },
                },
              ],
            },
          },
        },
        merge,
      );
      const degraded = await eventually(
        'Degraded=CrashLoop from the pod',
        async () => {
          const live = await readCr(custom, 'Function', ns, name);
          return condition(live, 'Degraded')?.status === 'True' ? live : undefined;
        },
        30_000,
      );
      expect(condition(degraded, 'Degraded')?.reason).toBe('CrashLoop');
      expect(condition(degraded, 'Ready')).toMatchObject({ status: 'False', reason: 'CrashLoop' });
      await core.deleteNamespacedPod({ name: podName, namespace: ns, gracePeriodSeconds: 0 });
      await eventually(
        'Ready again once the pod is gone',
        async () => {
          const live = await readCr(custom, 'Function', ns, name);
          return condition(live, 'Ready')?.status === 'True' ? live : undefined;
        },
        30_000,
      );
      // Nothing left to do: KEDA reads 0 and may scale the worker to zero.
      await eventually('queue depth 0', async () => ((await depth()) === 0 ? true : undefined), 60_000);
    } finally {
      controller.abort();
      await worker;
      await connection.close();
    }

    // Deleted: objects and CR gone, the workflow stopped.
    await custom.deleteNamespacedCustomObject({
      group: 'hevlayer.com',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'functions',
      name,
    });
    await eventually(
      'CR and Deployment gone',
      async () => {
        const cr = await readCr(custom, 'Function', ns, name);
        const dep = await apps
          .readNamespacedDeployment({ namespace: ns, name: objectName })
          .catch(() => undefined);
        return cr === undefined && dep === undefined ? true : undefined;
      },
      60_000,
    );
    const connection2 = await Connection.connect({ address: temporalAddress() });
    try {
      const client = new Client({ connection: connection2, namespace: temporalNamespace() });
      const desc = await eventually(
        'workflow stopped',
        async () => {
          const d = await client.workflow.getHandle(functionWorkflowId(ns, name)).describe();
          return d.status.name !== 'RUNNING' ? d : undefined;
        },
        30_000,
      );
      expect(desc.taskQueue).toBe(taskQueue);
    } finally {
      await connection2.close();
    }
  });
});
