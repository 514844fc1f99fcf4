// A controlled cluster with the chart installed and `layer operator` running as the chart runs it,
// for the cluster tests that need the operator, KEDA and worker pods together (autoscale end to
// end, drain and rollout), and what those tests read back: the workloads' pods and worker
// processes, the example worker's call log, and the CRs as `kubectl get` prints them (the CRDs'
// printer columns, evaluated by the apiserver). Everything runs on loopback: KEDA reaches the
// operator's API at 127.0.0.1 (operator.extraEnv) and workers reach the store at its local URL
// (workers.storeUrl) with the worker key, where a cluster has layer-gateway (docs/adr/0091).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { stringify } from 'yaml';
import { startControlledCluster, type ControlledCluster } from '../../../src/dev/controllers.js';
import { kubeConfigFor } from '../../../src/dev/kube-apiserver.js';
import { freePorts } from '../../../src/dev/net.js';
import {
  startPodRunner,
  type PodRunner,
  type WorkerCommand,
  type WorkerRun,
} from '../../../src/dev/pod-runner.js';
import { logTail } from '../../../src/dev/process.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { temporalAddress } from '../../helpers/servers.js';
import { chartPath } from '../../unit/helm/chart-files.js';
import { findObject, manifestObjects, startHelm } from '../helm/helm.js';
import { kubeRequest, readObject } from '../helm/kube.js';
import {
  eventually,
  GROUP,
  pluralFor,
  startOperatorProcess,
  VERSION,
  type Live,
  type OperatorProcess,
} from '../operator/harness.js';
import type { CallLogLine } from './fixtures/logged-tag-products.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Namespace of the release and of the workloads the tests apply. */
export const NS = 'layer';
const RELEASE = 'layer';

export interface OperatorCluster {
  dir: string;
  cluster: ControlledCluster;
  admin: KubeConfig;
  store: StoreServer;
  storeClient: StoreClient;
  runner: PodRunner;
  operator: OperatorProcess;
  /** A Temporal client in the release's namespace (workflow status, promote). */
  temporal: Client;
  apiPort: number;
  workerKey: string;
  /** The tails of every component's log, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

/** A fresh Temporal namespace, usable once a workflow can be started in it. */
async function registerTemporalNamespace(connection: Connection, namespace: string): Promise<void> {
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
}

/**
 * Starts the cluster (with KEDA), the store, the pod runner (images → commands), installs the chart
 * with `helm upgrade --install` and starts `layer operator` with the env of the chart's Deployment.
 */
export async function startOperatorCluster(opts: {
  label: string;
  log: (line: string) => void;
  commandFor: (image: string) => WorkerCommand | undefined;
  keda?: { pollingIntervalSeconds: number; cooldownPeriodSeconds: number };
  /** The chart's keda.pushScaler: ScaledObjects use the operator's external-push scaler (ADR 0131). */
  pushScaler?: boolean;
}): Promise<OperatorCluster> {
  const dir = mkdtempSync(join(tmpdir(), `layer-${opts.label}-`));
  /** What is running so far, stopped in reverse if a later step fails. */
  const started: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  try {
    return await startIn(dir, opts, started);
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

async function startIn(
  dir: string,
  opts: Parameters<typeof startOperatorCluster>[0],
  started: (() => Promise<unknown>)[],
): Promise<OperatorCluster> {
  const storeKey = `tpuf_${randomUUID()}`;
  const workerKey = `layer_worker_${randomUUID()}`;
  const temporalNs = `${opts.label}-${randomUUID().slice(0, 8)}`;
  const [cluster, helm] = await Promise.all([
    startControlledCluster({ log: opts.log, stateDir: join(dir, 'cluster'), fastEtcd: true, keda: true }),
    startHelm(),
  ]);
  started.push(() => cluster.stop());
  const admin = cluster.kube.adminKubeConfig();
  const [apiPort = 0, scalerPort = 0] = await freePorts(2);
  const connection = await Connection.connect({ address: temporalAddress() });
  started.push(() => connection.close());
  await registerTemporalNamespace(connection, temporalNs);
  const temporal = new Client({ connection, namespace: temporalNs });
  // The store stands in for the gateway too: worker pods send it the inbound worker key.
  const store = await startStoreServer({ memory: true, apiKeys: [storeKey, workerKey] });
  started.push(() => store.close());
  const storeClient = createStoreClient({ baseUrl: store.url, apiKey: storeKey });
  const runner = await startPodRunner({
    kubeConfig: admin,
    log: opts.log,
    logDir: join(dir, 'workers'),
    baseEnv: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    commandFor: opts.commandFor,
  });
  started.push(() => runner.stop());

  const values = loadSeed('valuesKeys');
  values.vectorStore.credential.apiKey = storeKey;
  values.vectorStore.inboundAuth.keys[0].apiKey = workerKey;
  values.vectorStore.endpoint = { url: store.url, region: 'local' };
  values.temporal = {
    address: temporalAddress(),
    namespace: temporalNs,
    taskQueue: `layer-orchestrator-${opts.label}-${randomUUID().slice(0, 8)}`,
  };
  values.keda = {
    installed: true,
    ...(opts.keda ?? { pollingIntervalSeconds: 2, cooldownPeriodSeconds: 10 }),
    ...(opts.pushScaler ? { pushScaler: { enabled: true, port: scalerPort } } : {}),
  };
  values.workers = { storeUrl: store.url };
  values.operator = {
    apiPort,
    // KEDA and the workers reach this operator on loopback, not through the chart's Service name.
    extraEnv: [
      { name: 'LAYER_OPERATOR_API_URL', value: `http://127.0.0.1:${apiPort}` },
      ...(opts.pushScaler ? [{ name: 'LAYER_KEDA_SCALER_ADDRESS', value: `127.0.0.1:${scalerPort}` }] : []),
    ],
  };
  const valuesFile = join(dir, 'values.yaml');
  writeFileSync(valuesFile, stringify(values));
  const kubeArgs = ['--kubeconfig', cluster.kube.kubeconfigPath];
  await helm.ok([
    'upgrade',
    '--install',
    RELEASE,
    chartPath(),
    '-n',
    NS,
    '--create-namespace',
    '-f',
    valuesFile,
    ...kubeArgs,
  ]);

  // `layer operator` with the env of the chart's Deployment and a token of its ServiceAccount.
  const manifest = manifestObjects(await helm.ok(['get', 'manifest', RELEASE, '-n', NS, ...kubeArgs]));
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
  if (token.status !== 201) throw new Error(`TokenRequest for ${sa}: ${token.status}`);
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
  const operator = await startOperatorProcess(
    { ...env, KUBECONFIG: kubeconfigFile, LAYER_STATE_DIR: join(dir, 'no-dev-env') },
    undefined,
    Number(env.LAYER_API_PORT),
  );

  return {
    dir,
    cluster,
    admin,
    store,
    storeClient,
    runner,
    operator,
    temporal,
    apiPort,
    workerKey,
    logs: () =>
      [
        ...Object.entries(cluster.logs).map(([name, file]) => `--- ${name}\n${logTail(file, 12)}`),
        `--- operator\n${operator.log().slice(-3000)}`,
      ].join('\n'),
    stop: async () => {
      await operator.stop();
      for (const stop of started.reverse()) await stop();
    },
  };
}

/** The command of a worker image whose process is one of ./fixtures, with what its image sets. */
export function fixtureCommand(
  file: 'logged-tag-products.ts' | 'chunk-documents.ts',
  env: Record<string, string> = {},
): WorkerCommand {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', `test/integration/cluster/fixtures/${file}`],
    cwd: ROOT,
    env,
  };
}

/** spec.worker.timeoutSeconds of functionCr; a worker pod's grace is this + 15 s (plan-pod.ts). */
export const WORKER_TIMEOUT_SECONDS = 10;

/**
 * The seed Function with a test's name, store namespace, image, output version and scaling:
 * small batches, discovery every 2 s, and a filter that selects rows not yet at the version.
 */
export function functionCr(
  name: string,
  storeNs: string,
  o: {
    image: string;
    scaling: Record<string, unknown>;
    version?: string;
    batchSize?: number;
    canaryRows?: number;
    paused?: boolean;
  },
) {
  const seed = loadSeed('function');
  const version = o.version ?? 'v1';
  return {
    ...seed,
    metadata: { name, namespace: NS },
    spec: {
      ...seed.spec,
      targetNamespaces: [storeNs],
      output: { ...seed.spec.output, version },
      filter: [
        'Or',
        [
          ['tags_v', 'NotEq', version],
          ['tags_v', 'Eq', null],
        ],
      ],
      worker: {
        ...seed.spec.worker,
        image: o.image,
        batchSize: o.batchSize ?? 20,
        timeoutSeconds: WORKER_TIMEOUT_SECONDS,
      },
      schedule: {
        ...seed.spec.schedule,
        discoveryIntervalSeconds: 2,
        leaseSeconds: 120,
        maxInFlightBatches: 8,
      },
      scaling: o.scaling,
      ...(o.canaryRows ? { rollout: { canaryRows: o.canaryRows } } : {}),
      ...(o.paused ? { paused: true } : {}),
    },
  };
}

/** The call log the logged example worker writes (every handler call and return), oldest first. */
export function readCallLog(file: string): CallLogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CallLogLine);
}

/** Handler calls per row id of one store namespace (one Function), output attribute and version. */
export function callsPerRow(
  lines: CallLogLine[],
  namespace: string,
  attribute: string,
  version: string,
): Map<string, CallLogLine[]> {
  const out = new Map<string, CallLogLine[]>();
  for (const l of lines) {
    if (l.event !== 'call' || l.namespace !== namespace || l.attribute !== attribute || l.version !== version)
      continue;
    for (const id of l.ids) out.set(String(id), [...(out.get(String(id)) ?? []), l]);
  }
  return out;
}

type WorkloadKind = 'Function' | 'Pipeline';

/** Whether a pod belongs to the workload's Deployment (its ReplicaSets name pods after it). */
export const isPodOf =
  (name: string, kind: WorkloadKind = 'Function') =>
  (p: V1Pod) =>
    p.metadata?.generateName?.startsWith(`${workloadObjectName(kind, name)}-`) ?? false;

/** Of `pods`, the workload's that are Running and not being deleted. */
export const runningOf = (pods: V1Pod[], name: string, kind: WorkloadKind = 'Function') =>
  pods.filter(
    (p) => isPodOf(name, kind)(p) && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
  );

/** The workload's pods that are Running and not being deleted. */
export async function runningPods(c: OperatorCluster, name: string, kind: WorkloadKind = 'Function') {
  const pods = await c.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS });
  return runningOf(pods.items, name, kind);
}

/** The worker processes the pod runner started for the workload's pods. */
export const runsOf = (c: OperatorCluster, name: string, kind: WorkloadKind = 'Function'): WorkerRun[] =>
  c.runner.runs().filter((r) => r.pod.startsWith(`${NS}/${workloadObjectName(kind, name)}-`));

/** One CR as `kubectl get` prints it: the printer columns by name, and the object they came from. */
export interface PrintedRow {
  columns: Record<string, unknown>;
  object: Live;
}

/**
 * The CRs of one kind in NS as a Table (what `kubectl get` asks for): the apiserver evaluates the
 * CRD's additionalPrinterColumns JSONPaths, all priorities included; each row carries its whole
 * object, so columns and conditions come from one read.
 */
export async function printedRows(admin: KubeConfig, kind: WorkloadKind): Promise<Map<string, PrintedRow>> {
  const r = await kubeRequest(
    admin,
    'GET',
    `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${pluralFor(kind)}?includeObject=Object`,
    undefined,
    undefined,
    'application/json;as=Table;v=v1;g=meta.k8s.io',
  );
  if (r.status !== 200 || r.body.kind !== 'Table')
    throw new Error(`GET ${kind} as Table: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  const names = (r.body.columnDefinitions as { name: string }[]).map((d) => d.name);
  return new Map(
    (r.body.rows as { cells: unknown[]; object: Live }[]).map((row) => [
      row.object.metadata.name as string,
      { columns: Object.fromEntries(names.map((n, i) => [n, row.cells[i]])), object: row.object },
    ]),
  );
}
