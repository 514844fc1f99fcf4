// End to end on a cluster where controllers act (issue 23 item 3): `helm upgrade --install` of
// deploy/helm/layer, then `layer operator` started as the chart's Deployment would start it (its
// env, its Secret values, a token of its ServiceAccount), against kube-apiserver with
// kube-controller-manager (Deployments, the HPA controller), kube-scheduler, kwok nodes shaped
// like the stock pools, and KEDA's operator and metrics API server. Worker pods run as the example
// worker (src/dev/pod-runner.ts). A `mode: autoscale, min 0, max 4` Function idles at zero
// replicas, wakes when rows arrive (KEDA 0 → 1), scales out on queue depth (the HPA reading
// external.metrics.k8s.io → KEDA → the operator's queue-depth endpoint), writes every row exactly,
// and goes back to zero after its cooldown. No test writes status: the CR's conditions come from
// the operator observing the real Deployment and pods.
//
// Two things differ from a cluster, both because everything runs on loopback: KEDA reaches the
// operator's API at 127.0.0.1 (operator.extraEnv sets LAYER_OPERATOR_API_URL; a pod would use the
// chart's Service DNS name), and the workers reach the store at its local URL (workers.storeUrl)
// with the worker key, where a cluster has layer-gateway.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { NODE_ROLE_LABEL } from '../../../src/api/defaults.js';
import { startControlledCluster, type ControlledCluster } from '../../../src/dev/controllers.js';
import { kubeConfigFor } from '../../../src/dev/kube-apiserver.js';
import { freePorts } from '../../../src/dev/net.js';
import { startPodRunner, type PodRunner } from '../../../src/dev/pod-runner.js';
import { logTail } from '../../../src/dev/process.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { tagsForTitle } from '../../../examples/tag-products/handler.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { temporalAddress } from '../../helpers/servers.js';
import { chartPath } from '../../unit/helm/chart-files.js';
import { range, readAll, seedRows } from '../function/harness.js';
import { findObject, manifestObjects, startHelm, type Helm } from '../helm/helm.js';
import { kubeRequest, readObject } from '../helm/kube.js';
import {
  applyCr,
  condition,
  eventually,
  readCr,
  startOperatorProcess,
  type OperatorProcess,
  type Live,
} from '../operator/harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER_IMAGE = 'ghcr.io/hev/tag-products:latest';
const RELEASE = 'layer';
const NS = 'layer';
const FN = 'tag-autoscale';
const ROWS = 4000;
/** Extra handler time per batch, so the queue stays deep while the HPA reacts. */
const BATCH_MS = 1000;
const STORE_KEY = `tpuf_${randomUUID()}`;
const WORKER_KEY = `layer_worker_${randomUUID()}`;
const POLLING_S = 2;
const COOLDOWN_S = 10;
const log = (line: string) => process.stderr.write(`[autoscale] ${line}\n`);

let dir: string;
let cluster: ControlledCluster;
let admin: KubeConfig;
let helm: Helm;
let store: StoreServer;
let storeClient: StoreClient;
let runner: PodRunner;
let operator: OperatorProcess | undefined;
let apiPort: number;
const storeNs = `products-${randomUUID().slice(0, 8)}`;
const temporalNs = `autoscale-${randomUUID().slice(0, 8)}`;

/** A fresh Temporal namespace, usable once a workflow can be started in it. */
async function registerTemporalNamespace(namespace: string): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await eventually(
      `Temporal namespace ${namespace}`,
      async () => {
        const workflowId = `probe-${randomUUID()}`;
        await connection.workflowService.startWorkflowExecution({
          namespace,
          workflowId,
          workflowType: { name: 'probe' },
          taskQueue: { name: 'probe' },
          requestId: randomUUID(),
        });
        await connection.workflowService.terminateWorkflowExecution({
          namespace,
          workflowExecution: { workflowId },
        });
        return true;
      },
      60_000,
    );
  } finally {
    await connection.close();
  }
}

function clusterLogs(): string {
  return [
    ...Object.entries(cluster.logs).map(([name, file]) => `--- ${name}\n${logTail(file, 12)}`),
    `--- operator\n${operator?.log().slice(-3000) ?? ''}`,
  ].join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'layer-autoscale-'));
  [cluster, helm] = await Promise.all([
    startControlledCluster({
      log,
      stateDir: join(dir, 'cluster'),
      fastEtcd: true,
      keda: true,
    }),
    startHelm(),
  ]);
  admin = cluster.kube.adminKubeConfig();
  [apiPort = 0] = await freePorts(1);
  await registerTemporalNamespace(temporalNs);
  // The store stands in for the gateway too (workers.storeUrl points at it): worker pods send the
  // inbound worker key there (LAYER_STORE_API_KEY from the release Secret), as they would to
  // layer-gateway, so it accepts that key beside the operator's store credential.
  store = await startStoreServer({ memory: true, apiKeys: [STORE_KEY, WORKER_KEY] });
  storeClient = createStoreClient({ baseUrl: store.url, apiKey: STORE_KEY });
  runner = await startPodRunner({
    kubeConfig: admin,
    log,
    logDir: join(dir, 'workers'),
    baseEnv: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    // The example's handler, a second per batch: range claims finish 4,000 no-op rows in about two
    // seconds on one pod, before the HPA's first sync could scale out on the queue depth.
    commandFor: (image) =>
      image === WORKER_IMAGE
        ? {
            command: process.execPath,
            args: ['--import', 'tsx', 'test/integration/cluster/fixtures/logged-tag-products.ts'],
            cwd: ROOT,
            env: { TAG_PRODUCTS_SLOW_MS: String(BATCH_MS) },
          }
        : undefined,
  });
}, 60 * 60_000);

afterAll(async () => {
  await operator?.stop();
  await runner?.stop();
  await store?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const helmArgs = (...args: string[]) => [...args, '--kubeconfig', cluster.kube.kubeconfigPath];

/** One look at everything the test follows, for the timeline. */
interface Sample {
  t: number;
  specReplicas: number | undefined;
  readyReplicas: number;
  hpaDesired: number | undefined;
  runningPods: V1Pod[];
  workerReason: string | undefined;
  ready: string | undefined;
  queueDepth: number | undefined;
}

async function sample(started: number): Promise<Sample> {
  const apps = admin.makeApiClient(AppsV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  const hpas = admin.makeApiClient(AutoscalingV2Api);
  const name = workloadObjectName('Function', FN);
  const d = await apps.readNamespacedDeployment({ namespace: NS, name }).catch(() => undefined);
  const hpa = (await hpas.listNamespacedHorizontalPodAutoscaler({ namespace: NS })).items[0];
  const pods = (await core.listNamespacedPod({ namespace: NS })).items.filter(
    (p) => p.metadata?.generateName?.startsWith(`${name}-`) && p.status?.phase === 'Running',
  );
  const cr = await readCr(admin.makeApiClient(CustomObjectsApi), 'Function', NS, FN);
  return {
    t: Date.now() - started,
    specReplicas: d?.spec?.replicas,
    readyReplicas: d?.status?.readyReplicas ?? 0,
    hpaDesired: hpa?.status?.desiredReplicas,
    runningPods: pods,
    workerReason: condition(cr, 'WorkerAvailable')?.reason as string | undefined,
    ready: condition(cr, 'Ready')?.status as string | undefined,
    queueDepth: await queueDepth().catch(() => undefined),
  };
}

async function queueDepth(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/v1/queue-depth/functions/${NS}/${FN}`, {
    headers: { authorization: `Bearer ${WORKER_KEY}` },
  });
  return ((await res.json()) as { queueDepth: number }).queueDepth;
}

const brief = (s: Sample) =>
  `t=${(s.t / 1000).toFixed(1)}s replicas=${s.specReplicas} ready=${s.readyReplicas} hpa=${s.hpaDesired} ` +
  `running=${s.runningPods.length} depth=${s.queueDepth} WorkerAvailable=${s.workerReason} Ready=${s.ready}`;

describe('autoscale end to end: helm install, layer operator, KEDA, HPA, pods as worker processes', () => {
  it('helm upgrade --install puts the chart on the cluster', async () => {
    const values = loadSeed('valuesKeys');
    values.vectorStore.credential.apiKey = STORE_KEY;
    values.vectorStore.inboundAuth.keys[0].apiKey = WORKER_KEY;
    values.vectorStore.endpoint = { url: store.url, region: 'local' };
    values.temporal = {
      address: temporalAddress(),
      namespace: temporalNs,
      taskQueue: `layer-orchestrator-autoscale-${randomUUID().slice(0, 8)}`,
    };
    values.keda = { installed: true, pollingIntervalSeconds: POLLING_S, cooldownPeriodSeconds: COOLDOWN_S };
    values.workers = { storeUrl: store.url };
    values.operator = {
      apiPort,
      // KEDA runs out of cluster on loopback: it reaches the API here, not at the Service's DNS name.
      extraEnv: [{ name: 'LAYER_OPERATOR_API_URL', value: `http://127.0.0.1:${apiPort}` }],
    };
    const valuesFile = join(dir, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    const out = await helm.ok(
      helmArgs(
        'upgrade',
        '--install',
        RELEASE,
        chartPath(),
        '-n',
        NS,
        '--create-namespace',
        '-f',
        valuesFile,
      ),
    );
    expect(out).toContain('STATUS: deployed');
  }, 300_000);

  it('layer operator, configured as the chart configures it, renders the Function; KEDA idles it at zero', async () => {
    const manifest = manifestObjects(await helm.ok(helmArgs('get', 'manifest', RELEASE, '-n', NS)));
    const deployment = findObject(manifest, 'Deployment', 'layer-orchestrator');
    const container = deployment.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const e of container.env as { name: string; value?: string; valueFrom?: Live }[]) {
      if (e.valueFrom) {
        const ref = e.valueFrom.secretKeyRef as { name: string; key: string };
        const secret = await readObject(admin, 'v1', 'Secret', NS, ref.name);
        env[e.name] = Buffer.from((secret?.data as Record<string, string>)[ref.key]!, 'base64').toString();
      } else env[e.name] = e.value!;
    }
    const sa = deployment.spec.template.spec.serviceAccountName as string;
    const token = await kubeRequest(admin, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    expect(token.status).toBe(201);
    const kubeconfigFile = join(dir, 'operator-kubeconfig');
    writeFileSync(
      kubeconfigFile,
      kubeConfigFor(
        cluster.kube.serverUrl,
        cluster.kube.caData,
        sa,
        token.body.status.token as string,
      ).exportConfig(),
    );
    operator = await startOperatorProcess(
      { ...env, KUBECONFIG: kubeconfigFile, LAYER_STATE_DIR: join(dir, 'no-dev-env') },
      undefined,
      Number(env.LAYER_API_PORT),
    );

    // One row the filter does not match (already tagged): the Function starts with nothing to do.
    await seedRows(storeClient, storeNs, [0], () => ({ tags: ['done'], tags_v: 'v1' }));
    const seed = loadSeed('function');
    await applyCr(admin.makeApiClient(CustomObjectsApi), {
      ...seed,
      metadata: { name: FN, namespace: NS },
      spec: {
        ...seed.spec,
        targetNamespaces: [storeNs],
        schedule: { ...seed.spec.schedule, discoveryIntervalSeconds: 2 },
        scaling: { pool: 'cpu', mode: 'autoscale', replicas: { min: 0, max: 4 } },
      },
    });
    // The Deployment starts at 1 (KEDA owns replicas); with an empty queue KEDA takes it to 0.
    const started = Date.now();
    const idle = await eventually(
      'KEDA scales the idle Function to zero, and the CR says so',
      async () => {
        const s = await sample(started);
        log(brief(s));
        return s.specReplicas === 0 && s.workerReason === 'ScaledToZero' && s.ready === 'True'
          ? s
          : undefined;
      },
      COOLDOWN_S * 1000 + 120_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${clusterLogs()}`);
    });
    expect(idle.runningPods).toHaveLength(0);
    const so = (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'scaledobjects',
      name: workloadObjectName('Function', FN),
    })) as Live;
    expect(so.spec).toMatchObject({
      minReplicaCount: 0,
      maxReplicaCount: 4,
      pollingInterval: POLLING_S,
      cooldownPeriod: COOLDOWN_S,
    });
    expect(condition(so, 'Ready')?.status, JSON.stringify(so.status)).toBe('True');
  }, 600_000);

  it('rows arrive: KEDA activates it, the HPA scales out on queue depth, pods on cpu nodes write every row exactly, then back to zero', async () => {
    expect(operator).toBeDefined();
    const ids = range(1, ROWS + 1);
    await seedRows(storeClient, storeNs, ids);
    const started = Date.now();
    const timeline: Sample[] = [];
    const done = await eventually(
      'every row written, the queue at 0 and KEDA back at zero replicas',
      async () => {
        const s = await sample(started);
        timeline.push(s);
        log(brief(s));
        if (s.specReplicas !== 0 || s.queueDepth !== 0 || s.workerReason !== 'ScaledToZero') return undefined;
        const rows = await readAll(storeClient, storeNs, ['title', 'tags', 'tags_v']);
        return rows.every((r) => r.tags_v === 'v1') ? rows : undefined;
      },
      600_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${timeline.map(brief).join('\n')}\n${clusterLogs()}`);
    });

    // Every row, with exactly the value the example's handler computes (row 0 untouched).
    expect(done).toHaveLength(ROWS + 1);
    for (const r of done) {
      if (r.id === 0) expect(r.tags).toEqual(['done']);
      else expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
    }
    // KEDA woke it (0 → ≥1) and the HPA went past one replica on the queue-depth metric.
    const firstUp = timeline.findIndex((s) => (s.specReplicas ?? 0) >= 1);
    expect(firstUp, timeline.map(brief).join('\n')).toBeGreaterThan(-1);
    const maxHpa = Math.max(...timeline.map((s) => s.hpaDesired ?? 0));
    const maxRunning = Math.max(...timeline.map((s) => s.runningPods.length));
    log(`max HPA desired ${maxHpa}, max running pods ${maxRunning}`);
    expect(maxHpa, timeline.map(brief).join('\n')).toBeGreaterThan(1);
    expect(maxHpa).toBeLessThanOrEqual(4);
    // Pods landed on the cpu pool's nodes and each was a worker process.
    const core = admin.makeApiClient(CoreV1Api);
    const nodes = new Map((await core.listNode()).items.map((n) => [n.metadata!.name!, n]));
    const seenPods = new Map(timeline.flatMap((s) => s.runningPods).map((p) => [p.metadata!.name!, p]));
    expect(seenPods.size).toBeGreaterThan(0);
    for (const p of seenPods.values()) {
      expect(nodes.get(p.spec!.nodeName!)?.metadata?.labels?.[NODE_ROLE_LABEL]).toBe('worker-cpu');
      expect(runner.runs().some((r) => r.pod === `${NS}/${p.metadata!.name}`)).toBe(true);
    }
    // The CR followed the real Deployment: available while pods were ready, ScaledToZero at the end.
    const reasons = [...new Set(timeline.map((s) => s.workerReason))];
    log(`WorkerAvailable reasons seen: ${reasons.join(' → ')}`);
    expect(reasons).toContain('DeploymentAvailable');
    // The status follows the Deployment within a reconcile pass: a sample taken in the moment between
    // a pod turning ready and the pass that records it may still read ScaledToZero, none later.
    const STATUS_LAG_S = 3;
    const readySince = (i: number) => {
      let j = i;
      while (j > 0 && timeline[j - 1]!.readyReplicas > 0) j -= 1;
      return timeline[i]!.t - timeline[j]!.t; // ms
    };
    const stale = timeline.filter(
      (s, i) =>
        s.readyReplicas > 0 && s.workerReason === 'ScaledToZero' && readySince(i) > STATUS_LAG_S * 1000,
    );
    expect(stale.map(brief)).toEqual([]);
    expect(timeline.at(-1)!.ready).toBe('True');
    const cr = await readCr(admin.makeApiClient(CustomObjectsApi), 'Function', NS, FN);
    expect(condition(cr, 'WorkerAvailable')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
  }, 900_000);
});
