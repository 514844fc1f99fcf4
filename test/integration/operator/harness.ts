// Shared set-up of the operator integration tests: CRDs installed, the operator's kube client
// minted from deploy/operator's ClusterRole, a Temporal Worker running the reconcile workflow with
// the real Kubernetes activities and a recording fake engine, and small helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { beforeEach } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1ClusterRole,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { parse, parseAllDocuments } from 'yaml';
import { createKubernetesActivities } from '../../../src/activities/kubernetes-activities.js';
import { reconcileSignal, type ReconcileRef, reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import type { FunctionRuntimeSpec } from '../../../src/contracts/function.js';
import { operatorSettings, type OperatorSettingsInput } from '../../../src/operator/settings.js';
import type { EngineRef, EngineSync, WorkloadWorkflows } from '../../../src/operator/workload-workflows.js';
import { workflowRunning } from '../../../src/operator/workload-workflows.js';
import { mintServiceAccountCredentials } from '../../../src/dev/kube-apiserver.js';
import { reconcileWorkflow } from '../../../src/workflows/reconcile-workflow.js';
import { kubeConfig, temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { loadSeed } from '../../fixtures/seeds.js';

export const GROUP = 'hevlayer.com';
export const VERSION = 'v1alpha1';
export const OPERATOR_ROLE = 'layer-operator';

const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The deploy/operator ClusterRole, exactly as shipped. */
export function operatorClusterRole(): V1ClusterRole {
  const text = readFileSync(new URL('../../../deploy/operator/10-rbac.yaml', import.meta.url), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as { kind: string });
  const role = docs.find((d) => d.kind === 'ClusterRole');
  if (!role) throw new Error('deploy/operator/10-rbac.yaml has no ClusterRole');
  return role as V1ClusterRole;
}

async function installCrd(admin: KubeConfig, crd: V1CustomResourceDefinition): Promise<void> {
  const ext = admin.makeApiClient(ApiextensionsV1Api);
  await ext.patchCustomResourceDefinition(
    { name: crd.metadata!.name!, body: crd, fieldManager: 'layer-test', force: true },
    ssa,
  );
  await eventually(`${crd.metadata?.name} Established`, async () => {
    const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
    return got.status?.conditions?.find((c) => c.type === 'Established')?.status === 'True'
      ? true
      : undefined;
  });
}

/** Install the generated CRDs, the KEDA CRDs, and the operator ClusterRole (idempotent). */
export async function installOperatorPrerequisites(admin: KubeConfig): Promise<void> {
  for (const dir of [
    new URL('../../../deploy/crds/', import.meta.url),
    new URL('../../fixtures/keda/', import.meta.url),
  ]) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      await installCrd(admin, parse(readFileSync(new URL(f, dir), 'utf8')) as V1CustomResourceDefinition);
    }
  }
  const role = operatorClusterRole();
  await admin
    .makeApiClient(RbacAuthorizationV1Api)
    .patchClusterRole(
      { name: role.metadata!.name!, body: role, fieldManager: 'layer-test', force: true },
      ssa,
    );
}

/** Records every engine call; behaves like a healthy Function and Pipeline engine. */
export class FakeEngine implements WorkloadWorkflows {
  readonly syncs: EngineSync[] = [];
  readonly stops: EngineRef[] = [];
  async sync(action: EngineSync) {
    this.syncs.push(JSON.parse(JSON.stringify(action)) as EngineSync);
    return workflowRunning(action.spec.paused ?? false, action.spec.generation ?? 0);
  }
  async stop(ref: EngineRef) {
    this.stops.push({ kind: ref.kind, namespace: ref.namespace, name: ref.name });
    return true;
  }
  syncsFor(namespace: string, name: string): EngineSync[] {
    return this.syncs.filter((s) => s.spec.k8sNamespace === namespace && s.spec.name === name);
  }
}

export interface OperatorHarness {
  admin: KubeConfig;
  /** The operator's own credentials: exactly the deploy/operator ClusterRole. */
  operatorKc: KubeConfig;
  client: Client;
  taskQueue: string;
  engine: FakeEngine;
  worker: Worker;
  custom: CustomObjectsApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  /** Signal-with-start the reconcile workflow of one object and wait for the run to finish. */
  reconcile(ref: ReconcileRef): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    settings?: OperatorSettingsInput;
    defaultVectorStore?: { namespace: string; name: string };
    /** Counts rows for status.plan of paused Functions (the operator process passes its store). */
    planRows?: (spec: FunctionRuntimeSpec) => Promise<Record<string, number>>;
    /** A real engine (workflows run) instead of the recording fake; `engine` then records nothing. */
    workloadEngine?: WorkloadWorkflows;
  } = {},
): Promise<OperatorHarness> {
  const admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  const minted = await mintServiceAccountCredentials(admin, {
    name: `operator-${randomUUID().slice(0, 6)}`,
    namespace: 'layer-optest',
    clusterRole: OPERATOR_ROLE,
  });
  const operatorKc = minted.kubeConfig;
  // RBAC takes a moment to reach the authorizer.
  await eventually('operator RBAC', () =>
    operatorKc
      .makeApiClient(AppsV1Api)
      .listDeploymentForAllNamespaces({ limit: 1 })
      .then(() => true),
  );
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection, namespace: temporalNamespace() });
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `optest-${randomUUID()}`;
  const engine = new FakeEngine();
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: temporalNamespace(),
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: createKubernetesActivities({
      kubeConfig: operatorKc,
      engine: opts.workloadEngine ?? engine,
      settings: operatorSettings(opts.settings ?? { inboundAuth: { mode: 'open' } }),
      ...(opts.defaultVectorStore ? { defaultVectorStore: opts.defaultVectorStore } : {}),
      ...(opts.planRows ? { planRows: opts.planRows } : {}),
      watchNamespaces: namespacesOfThisFile,
    }),
  });
  const running = worker.run();
  return {
    admin,
    operatorKc,
    client,
    taskQueue,
    engine,
    worker,
    custom: admin.makeApiClient(CustomObjectsApi),
    apps: admin.makeApiClient(AppsV1Api),
    core: admin.makeApiClient(CoreV1Api),
    async reconcile(ref) {
      const handle = await client.workflow.signalWithStart(reconcileWorkflow, {
        workflowId: reconcileWorkflowId(ref.kind, ref.namespace, ref.name),
        taskQueue,
        args: [{ ref }],
        signal: reconcileSignal,
        signalArgs: [{ reason: 'test' }],
      });
      await handle.result();
    },
    async close() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}

/** A fresh namespace for one test. */
/**
 * The namespaces this test file created: the harness's operator is scoped to them, as a
 * LAYER_WATCH_NAMESPACES operator is, so Functions of test files running at the same time on the
 * shared apiserver never take part in its output-ownership decisions (ADR 0070).
 */
const namespacesOfThisFile: string[] = [];
// Per test, in fact: tests of one file reuse the seed's `tag-products` (output `tags` into
// `products`) in a namespace each, and an earlier test's Function would own the attribute.
beforeEach(() => {
  namespacesOfThisFile.length = 0;
});

export async function testNamespace(admin: KubeConfig, prefix = 'op'): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  namespacesOfThisFile.push(name);
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Server-side apply a CR as a user would (`kubectl apply --server-side`). */
export async function applyCr(
  custom: CustomObjectsApi,
  obj: Record<string, unknown>,
  fieldManager = 'kubectl',
): Promise<void> {
  const meta = obj.metadata as { name: string; namespace?: string };
  const plural = pluralFor(obj.kind as string);
  const common = {
    group: GROUP,
    version: VERSION,
    plural,
    name: meta.name,
    body: obj,
    fieldManager,
    force: true,
  };
  if (meta.namespace) await custom.patchNamespacedCustomObject({ ...common, namespace: meta.namespace }, ssa);
  else await custom.patchClusterCustomObject(common, ssa);
}

export function pluralFor(kind: string): string {
  return (
    {
      Function: 'functions',
      Pipeline: 'pipelines',
      Index: 'indexes',
      VectorStore: 'vectorstores',
      InfraRules: 'infrarules',
    } as Record<string, string>
  )[kind]!;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Live = Record<string, any>;

export async function readCr(
  custom: CustomObjectsApi,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<Live | undefined> {
  try {
    const target = { group: GROUP, version: VERSION, plural: pluralFor(kind), name };
    return (
      namespace
        ? await custom.getNamespacedCustomObject({ ...target, namespace })
        : await custom.getClusterCustomObject(target)
    ) as Live;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export function condition(obj: Live | undefined, type: string): Live | undefined {
  return (obj?.status?.conditions as Live[] | undefined)?.find((c) => c.type === type);
}

/** `layer operator` as a child process (the image's entry point), with its log captured. */
export interface OperatorProcess {
  child: ChildProcess;
  log(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** The process's JSON log lines (src/observe/logger.ts) whose role is `role` and message matches. */
export function roleSaid(log: string, role: string, msg: RegExp): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((r) => r.role === role && typeof r.msg === 'string' && msg.test(r.msg));
}

/** The HTTP API's base URL from its `listening on <url>` line. */
export const apiBaseOf = (log: string): string | undefined =>
  /^listening on (http:\/\/\S+)/.exec(
    String(roleSaid(log, 'operator/api', /^listening on /)[0]?.msg ?? ''),
  )?.[1];

/** This process's identity from its `leading: …` log line (field identity), once it leads. */
export const leaderIdentity = (op: OperatorProcess): string | undefined => {
  const id = roleSaid(op.log(), 'operator/watcher', /^leading:/)[0]?.identity;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Starts `layer operator` with only `env` (plus PATH and HOME) and resolves once its informers
 * and HTTP API are up, so a test can apply objects knowing the operator sees them.
 */
export async function startOperatorProcess(
  env: Record<string, string>,
  /** When the process counts as started (default: informers started and the API listening). */
  startedWhen: (log: string) => boolean = (log) =>
    log.includes('informers started') && apiBaseOf(log) !== undefined,
  /** HTTP API port (default 0: any free one); fixed when something must reach it at a known URL. */
  port = 0,
): Promise<OperatorProcess> {
  const bin = fileURLToPath(new URL('../../../bin/layer.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'operator', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LAYER_FROM_SOURCE: '1', ...env },
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => void (log += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (startedWhen(log)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`layer operator exited with ${code}:\n${log}`)));
    // Fail with what it said rather than a bare hook timeout.
    setTimeout(
      () => reject(new Error(`layer operator not started after 150 s:\n${log.slice(-4000)}`)),
      150_000,
    ).unref();
  });
  return {
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * What a test that runs `layer operator` as a child process sets up first: CRDs, the seed
 * InfraRules/default (shared by every file, applied as they all do), a fresh namespace, and a
 * kubeconfig file in a temp dir holding a service account bound to exactly deploy/operator's
 * ClusterRole.
 */
export async function operatorProcessSetup(
  prefix: string,
): Promise<{ admin: KubeConfig; ns: string; dir: string; kubeconfigFile: string }> {
  const admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  await applyCr(admin.makeApiClient(CustomObjectsApi), loadSeed('infraRules'));
  const ns = await testNamespace(admin, prefix);
  const minted = await mintServiceAccountCredentials(admin, {
    name: `operator-${prefix}-${randomUUID().slice(0, 6)}`,
    namespace: 'layer-optest',
    clusterRole: OPERATOR_ROLE,
  });
  const dir = mkdtempSync(join(tmpdir(), `layer-operator-${prefix}-`));
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, minted.kubeConfig.exportConfig());
  return { admin, ns, dir, kubeconfigFile };
}
