// A cluster where controllers act (src/dev/controllers.ts) and pods are worker processes
// (src/dev/pod-runner.ts): the planner's worker Deployment becomes a ReplicaSet and pods through
// the real kube-controller-manager, kube-scheduler puts them on the kwok nodes of their pool, and
// each Running pod is the example worker started with exactly its container's environment, polling
// the Function's task queue on the shared Temporal dev server. A wrong variable in the rendered
// Deployment shows here as a crash loop or a task queue nobody polls.
//
// This file starts its own cluster (controllers would act on every other file's objects on the
// shared apiserver), lazily: only when this file runs. Cold, that includes the Go builds of
// kube-controller-manager, kube-scheduler, kwok and KEDA (`layer dev provision --controllers`
// fills the cache first in CI).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ROLE_LABEL } from '../../../src/api/defaults.js';
import { startControlledCluster, type ControlledCluster } from '../../../src/dev/controllers.js';
import { CRASH_LOOP_IMAGE } from '../../../src/dev/kwok-nodes.js';
import { containerEnvironment } from '../../../src/dev/pod-env.js';
import { POD_RUNNER_FINALIZER, startPodRunner, type PodRunner } from '../../../src/dev/pod-runner.js';
import { logTail } from '../../../src/dev/process.js';
import { planWorkloadObjects, type PlannedDeployment } from '../../../src/operator/workload-objects.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { operatorSettings } from '../../../src/operator/settings.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { fn, helmRules } from '../../unit/operator/builders.js';

const WORKER_IMAGE = 'ghcr.io/hev/tag-products:latest';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NS = 'team-a';
const WORKER_KEY = 'worker-bearer-for-test';
const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

let dir: string;
let cluster: ControlledCluster;
let runner: PodRunner;
let admin: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;

function clusterLogs(): string {
  return Object.entries(cluster.logs)
    .map(([name, file]) => `--- ${name}\n${logTail(file, 15)}`)
    .join('\n');
}

/** The planner's Deployment for a Function on `pool`, `replicas` fixed, as the operator renders it. */
function plannedDeployment(name: string, pool: string, replicas: number): V1Deployment {
  const workload = fn({
    metadata: { name, namespace: NS },
    spec: {
      worker: { image: WORKER_IMAGE, dispatch: 'pull', timeoutSeconds: 5 },
      scaling: { pool, mode: 'fixed', replicas: { min: replicas, max: replicas } },
    },
  });
  const settings = operatorSettings({
    temporal: { address: temporalAddress(), namespace: temporalNamespace() },
    inboundAuth: { mode: 'keys', workerSecretName: 'layer-worker', workerSecretKey: 'key' },
  });
  const plan = planWorkloadObjects({ workload, infraRules: helmRules() }, settings);
  const d = plan.apply.find((o) => o.kind === 'Deployment') as PlannedDeployment | undefined;
  if (!d) throw new Error('no Deployment planned');
  // No Function CR exists here: an owner reference to one would have the garbage collector delete it.
  delete d.metadata.ownerReferences;
  return d as V1Deployment;
}

/** Retries `fn` until it stops throwing (its expectations hold), rethrowing the last failure at the deadline. */
async function until<T>(fn: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The pods of a Function's worker Deployment (ReplicaSet pods are named after the Deployment). */
async function podsOf(fnName: string): Promise<V1Pod[]> {
  const deployment = workloadObjectName('Function', fnName);
  const all = await core.listNamespacedPod({ namespace: NS });
  return all.items.filter((p) => p.metadata?.generateName?.startsWith(`${deployment}-`));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'layer-cluster-'));
  // KEDA is not needed here (the autoscale test starts it); without it its build is skipped too.
  cluster = await startControlledCluster({
    log,
    stateDir: join(dir, 'cluster'),
    fastEtcd: true,
    keda: false,
  });
  admin = cluster.kube.adminKubeConfig();
  core = admin.makeApiClient(CoreV1Api);
  apps = admin.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: 'layer-worker' }, stringData: { key: WORKER_KEY } },
  });
  runner = await startPodRunner({
    kubeConfig: admin,
    log,
    logDir: join(dir, 'workers'),
    baseEnv: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    commandFor: (image) =>
      image === WORKER_IMAGE
        ? { command: process.execPath, args: ['--import', 'tsx', 'examples/tag-products/main.ts'], cwd: ROOT }
        : undefined,
  });
}, 60 * 60_000);

afterAll(async () => {
  await runner?.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pods as worker processes on a cluster where controllers act', () => {
  it('a planned gpu Deployment gets pods on gpu nodes, each the example worker with exactly its env, polling its task queue', async () => {
    const d = plannedDeployment('tag-gpu', 'gpu', 2);
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    const pods = await until(async () => {
      const pods = (await podsOf('tag-gpu')).filter((p) => p.status?.phase === 'Running');
      expect(pods, clusterLogs()).toHaveLength(2);
      return pods;
    }, 120_000);
    const nodes = new Map((await core.listNode()).items.map((n) => [n.metadata!.name!, n]));
    for (const p of pods) {
      // The scheduler honoured the pool's nodeSelector, toleration and nvidia.com/gpu request.
      expect(nodes.get(p.spec!.nodeName!)?.metadata?.labels?.[NODE_ROLE_LABEL]).toBe('worker-gpu');
    }
    const runs = await until(() => {
      const runs = runner.runs().filter((r) => pods.some((p) => `${NS}/${p.metadata!.name}` === r.pod));
      expect(runs).toHaveLength(2);
      return runs;
    }, 60_000);
    const container = d.spec!.template.spec!.containers[0]!;
    for (const r of runs) {
      const pod = pods.find((p) => `${NS}/${p.metadata!.name}` === r.pod)!;
      // Exactly the container's variables, the Secret resolved: nothing more, nothing less.
      expect(r.env).toEqual(
        containerEnvironment(pod, container, {
          secret: (_ns, name) => (name === 'layer-worker' ? { key: WORKER_KEY } : undefined),
          configMap: () => undefined,
        }),
      );
      expect(r.env.LAYER_API_KEY).toBe(WORKER_KEY);
      expect(r.exitedAt, logTail(r.logFile)).toBeUndefined();
    }
    // The processes are real workers: both poll the Function's task queue on Temporal.
    const taskQueue = container.env!.find((e) => e.name === 'LAYER_TASK_QUEUE')!.value!;
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      await until(async () => {
        const res = await connection.workflowService.describeTaskQueue({
          namespace: temporalNamespace(),
          taskQueue: { name: taskQueue },
          taskQueueType: 2, // activity: pull workers poll the Function's claims as activities
        });
        const wf = await connection.workflowService.describeTaskQueue({
          namespace: temporalNamespace(),
          taskQueue: { name: taskQueue },
          taskQueueType: 1,
        });
        expect(
          (res.pollers?.length ?? 0) + (wf.pollers?.length ?? 0),
          runs.map((r) => logTail(r.logFile)).join('\n'),
        ).toBeGreaterThanOrEqual(2);
      }, 90_000);
    } finally {
      await connection.close();
    }
  }, 300_000);

  it('scaling the Deployment in sends SIGTERM and the pod stays Terminating until the process exits', async () => {
    const name = workloadObjectName('Function', 'tag-gpu');
    const before = runner
      .runs()
      .filter((r) => r.pod.startsWith(`${NS}/${name}-`) && r.exitedAt === undefined);
    expect(before.length).toBe(2);
    await apps.replaceNamespacedDeploymentScale({
      name,
      namespace: NS,
      body: { metadata: { name, namespace: NS }, spec: { replicas: 0 } },
    });
    await until(async () => {
      for (const r of before) expect(runner.runs().find((x) => x.pid === r.pid)?.exitedAt).toBeDefined();
      const left = await podsOf('tag-gpu');
      expect(left).toHaveLength(0);
    }, 90_000);
    for (const r of before) {
      const done = runner.runs().find((x) => x.pid === r.pid)!;
      expect(done.terminatingAt).toBeDefined();
      expect(done.killed).toBeFalsy();
      log(`SIGTERM → exit: ${done.exitedAt! - done.terminatingAt!} ms (${done.pod})`);
    }
  }, 300_000);

  it('a wrong variable in the rendered Deployment crash-loops the pod, reported in its status', async () => {
    const d = plannedDeployment('tag-bad-env', 'cpu', 1);
    const env = d.spec!.template.spec!.containers[0]!.env!;
    env.find((e) => e.name === 'LAYER_DISPATCH')!.value = 'pul';
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    const pod = await until(async () => {
      const pod = (await podsOf('tag-bad-env'))[0];
      const status = pod?.status?.containerStatuses?.[0];
      expect(status?.restartCount ?? 0, clusterLogs()).toBeGreaterThanOrEqual(1);
      expect(status?.state?.waiting?.reason ?? status?.lastState?.terminated?.reason).toBeDefined();
      return pod!;
    }, 90_000);
    const node = await core.readNode({ name: pod.spec!.nodeName! });
    expect(node.metadata?.labels?.[NODE_ROLE_LABEL]).toBe('worker-cpu');
    const run = runner.runs().find((r) => r.pod === `${NS}/${pod.metadata!.name}`)!;
    expect(run.exitCode).not.toBe(0);
    expect(logTail(run.logFile)).toMatch(/LAYER_DISPATCH/);
  }, 300_000);

  it('a missing Secret is CreateContainerConfigError and no process starts', async () => {
    const d = plannedDeployment('tag-no-secret', 'cpu', 1);
    const env = d.spec!.template.spec!.containers[0]!.env!;
    const ref = env.find((e) => e.valueFrom?.secretKeyRef)!;
    ref.valueFrom!.secretKeyRef!.name = 'no-such-secret';
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    await until(async () => {
      const pod = (await podsOf('tag-no-secret'))[0];
      expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CreateContainerConfigError');
      expect(pod?.metadata?.finalizers ?? []).not.toContain(POD_RUNNER_FINALIZER);
    }, 90_000);
    expect(
      runner
        .configErrors()
        .map((e) => e.message)
        .join('\n'),
    ).toMatch(/no-such-secret/);
    const prefix = `${NS}/${workloadObjectName('Function', 'tag-no-secret')}-`;
    expect(runner.runs().filter((r) => r.pod.startsWith(prefix))).toHaveLength(0);
  }, 300_000);

  it('an image that crash-loops (kwok stage) reports CrashLoopBackOff', async () => {
    const d = plannedDeployment('tag-crash', 'cpu', 1);
    d.spec!.template.spec!.containers[0]!.image = CRASH_LOOP_IMAGE;
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    await until(async () => {
      const pod = (await podsOf('tag-crash'))[0];
      expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason, clusterLogs()).toBe(
        'CrashLoopBackOff',
      );
    }, 90_000);
  }, 300_000);
});
