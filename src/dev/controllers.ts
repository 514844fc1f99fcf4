// A local cluster where controllers act, without Docker: kube-apiserver + etcd with the
// aggregation layer on, kube-controller-manager (Deployments → ReplicaSets → pods, the HPA
// controller, garbage collection), kube-scheduler, kwok (nodes shaped like the stock pools, pod
// lifecycles from the project's own Stages), and KEDA's operator and metrics API server run out
// of cluster on loopback. external.metrics.k8s.io reaches KEDA through an APIService whose Service
// is an ExternalName `localhost` (Endpoints may not hold loopback addresses; the aggregator dials
// an ExternalName's host as is). See docs/adr/0084-controllers-from-go-modules.md.
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { helmDefaultComputePools } from '../api/defaults.js';
import type { ComputePool } from '../api/infra-rules.js';
import { ProvisionError, type Logger } from './binaries.js';
import { resolveControllerBinaries, type ControllerBinaries } from './controller-binaries.js';
import { startKubeApiServer, type KubeApiServer } from './kube-apiserver.js';
import { KWOK_NODE_SELECTOR, kwokStagesYaml, poolNodes } from './kwok-nodes.js';
import { freePorts, httpsOk, waitFor } from './net.js';
import { ensureAggregationPki } from './pki.js';
import { startProcess, type ManagedProcess } from './process.js';

/** Namespace KEDA keeps its cluster objects in (KEDA_CLUSTER_OBJECT_NAMESPACE). */
const KEDA_NAMESPACE = 'keda';
/** The APIService KEDA's metrics server answers. */
export const EXTERNAL_METRICS_API_SERVICE = 'v1beta1.external.metrics.k8s.io';
const FIELD_MANAGER = 'layer-dev';

export interface ControlledClusterOptions {
  log: Logger;
  stateDir: string;
  detached?: boolean;
  fastEtcd?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Pools whose nodes kwok simulates (default: the stock pools of InfraRules/default). */
  pools?: ComputePool[];
  /** kwok nodes per distinct pool nodeSelector (default 2). */
  nodesPerGroup?: number;
  /** Also KEDA and the external metrics APIService (default true). */
  keda?: boolean;
  /** How often the HPA controller re-reads metrics (kube default 15 s; here 5 s). */
  hpaSyncPeriodSeconds?: number;
}

export interface ControllerPids {
  controllerManager: number;
  scheduler: number;
  kwok: number;
  /** 0 when started without KEDA. */
  kedaOperator: number;
  kedaAdapter: number;
}

export interface ControlledCluster {
  kube: KubeApiServer;
  pids: ControllerPids;
  /** Log files by component, for a test to quote when something does not happen. */
  logs: Record<keyof ControllerPids, string>;
  stop(): Promise<void>;
}

async function apply(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await client.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
}

/**
 * KEDA's CRDs, installed and Established. Loaded into the client's typed models (loadAllYaml):
 * KubernetesObjectApi serializes a known kind through its model, so plain YAML objects would lose
 * every field whose wire name differs from the model's (`x-kubernetes-int-or-string` →
 * `xKubernetesIntOrString`) and the apiserver would reject ScaledObject's `tolerance` schema.
 */
function kedaCrdObjects(dir: string): KubernetesObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAllYaml(readFileSync(join(dir, f), 'utf8')) as KubernetesObject[])
    .filter((o) => o !== null && typeof o === 'object' && 'kind' in o);
}

/** KEDA's CRDs, installed and Established. */
async function installKedaCrds(kc: KubeConfig, dir: string): Promise<void> {
  const crds = kedaCrdObjects(dir);
  await apply(kc, crds);
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata?.name} Established`, async () => {
      const live = (await client.read({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crd.metadata!.name! },
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return (live.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

/** The Service + APIService that send external.metrics.k8s.io to KEDA's server on loopback. */
export function externalMetricsApiObjects(port: number, caPem: string): KubernetesObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'keda-metrics-apiserver', namespace: KEDA_NAMESPACE },
      spec: { type: 'ExternalName', externalName: 'localhost' },
    } as KubernetesObject,
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: EXTERNAL_METRICS_API_SERVICE },
      spec: {
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        caBundle: Buffer.from(caPem).toString('base64'),
        service: { name: 'keda-metrics-apiserver', namespace: KEDA_NAMESPACE, port },
      },
    } as KubernetesObject,
  ];
}

/**
 * Starts the whole cluster. Binaries are resolved (or built) while the apiserver starts; a
 * component that cannot start fails with ProvisionError quoting its log.
 */
export async function startControlledCluster(opts: ControlledClusterOptions): Promise<ControlledCluster> {
  const env = opts.env ?? process.env;
  const dir = opts.stateDir;
  mkdirSync(dir, { recursive: true });
  const pki = await ensureAggregationPki(join(dir, 'pki'));
  const withKeda = opts.keda !== false;
  const binsP = resolveControllerBinaries(opts.log, env, { keda: withKeda });
  binsP.catch(() => undefined);
  const kube = await startKubeApiServer({
    log: opts.log,
    stateDir: join(dir, 'kube'),
    detached: opts.detached,
    fastEtcd: opts.fastEtcd,
    env,
    aggregation: pki,
  });
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop();
    await kube.stop();
  };
  try {
    const bins: ControllerBinaries = await binsP;
    const kc = kube.adminKubeConfig();
    const [kcmPort = 0, schedPort = 0, kwokPort = 0, grpcPort = 0, adapterPort = 0, ...more] =
      await freePorts(9);
    const [opMetricsPort = 0, opProbePort = 0, adapterMetricsPort = 0] = more;
    const kcfg = kube.kubeconfigPath;
    const logs = {
      controllerManager: join(dir, 'kube-controller-manager.log'),
      scheduler: join(dir, 'kube-scheduler.log'),
      kwok: join(dir, 'kwok.log'),
      kedaOperator: join(dir, 'keda-operator.log'),
      kedaAdapter: join(dir, 'keda-adapter.log'),
    };
    const run = (name: string, command: string, args: string[], logFile: string, extraEnv = {}) => {
      const p = startProcess({
        name,
        command,
        args,
        logFile,
        env: { ...env, ...extraEnv },
        detached: opts.detached,
      });
      started.push(p);
      return p;
    };
    const auth = [
      `--kubeconfig=${kcfg}`,
      `--authentication-kubeconfig=${kcfg}`,
      `--authorization-kubeconfig=${kcfg}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
    ];
    const kcm = run(
      'kube-controller-manager',
      bins.controllerManager,
      [
        ...auth,
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        '--controllers=*',
        `--service-account-private-key-file=${kube.serviceAccountKeyFile}`,
        `--root-ca-file=${kube.caFile}`,
        '--use-service-account-credentials=false',
        `--horizontal-pod-autoscaler-sync-period=${opts.hpaSyncPeriodSeconds ?? 5}s`,
        // client-go's default of 20 requests/s per controller held a ReplicaSet's new pod back
        // 70 s at 1,000 Deployments (bench:operator -- --controllers); a managed control plane
        // sets its own, higher. The dev cluster's controllers should not be the slowest part.
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        '--v=1',
      ],
      logs.controllerManager,
    );
    const scheduler = run(
      'kube-scheduler',
      bins.scheduler,
      [...auth, `--secure-port=${schedPort}`, `--cert-dir=${join(dir, 'scheduler-certs')}`, '--v=1'],
      logs.scheduler,
    );
    const stagesFile = join(dir, 'kwok-stages.yaml');
    writeFileSync(stagesFile, kwokStagesYaml());
    const kwok = run(
      'kwok',
      bins.kwok,
      [
        `--kubeconfig=${kcfg}`,
        `--config=${stagesFile}`,
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_SELECTOR}`,
        `--server-address=127.0.0.1:${kwokPort}`,
        '--node-lease-duration-seconds=40',
      ],
      logs.kwok,
    );
    const core = kc.makeApiClient(CoreV1Api);
    // Nodes shaped like the pools; kwok makes them Ready.
    await apply(kc, poolNodes(opts.pools ?? helmDefaultComputePools(), opts.nodesPerGroup ?? 2));
    const keda = withKeda ? await startKeda() : undefined;
    await Promise.all([
      waitFor('kube-controller-manager', () => httpsOk(`https://127.0.0.1:${kcmPort}/healthz`), {
        timeoutMs: 120_000,
        isAlive: kcm.exitReason,
      }),
      waitFor('kube-scheduler', () => httpsOk(`https://127.0.0.1:${schedPort}/healthz`), {
        timeoutMs: 120_000,
        isAlive: scheduler.exitReason,
      }),
      waitFor(
        'kwok nodes Ready',
        async () => {
          const nodes = await core.listNode();
          return (
            nodes.items.length > 0 &&
            nodes.items.every((n) =>
              (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
            )
          );
        },
        { timeoutMs: 120_000, isAlive: kwok.exitReason },
      ),
      ...(keda
        ? [
            waitFor('keda-operator', async () => (await fetch(`http://127.0.0.1:${opProbePort}/readyz`)).ok, {
              timeoutMs: 180_000,
              isAlive: keda.operator.exitReason,
            }),
            // Through the aggregator: the APIService is available only when the apiserver reaches KEDA.
            waitFor(
              'external.metrics.k8s.io through the aggregation layer',
              () =>
                httpsOk(`${kube.serverUrl}/apis/external.metrics.k8s.io/v1beta1`, {
                  token: kube.adminToken,
                  ca: kube.caData,
                }),
              { timeoutMs: 180_000, intervalMs: 500, isAlive: keda.adapter.exitReason },
            ),
          ]
        : []),
    ]);
    opts.log(
      `controllers ready: kube-controller-manager, kube-scheduler, kwok${keda ? ', KEDA' : ''} (logs in ${dir})`,
    );
    return {
      kube,
      pids: {
        controllerManager: kcm.pid,
        scheduler: scheduler.pid,
        kwok: kwok.pid,
        kedaOperator: keda?.operator.pid ?? 0,
        kedaAdapter: keda?.adapter.pid ?? 0,
      },
      logs,
      stop,
    };

    /** KEDA: its namespace and CRDs first (the operator watches all of them at start). */
    async function startKeda(): Promise<{ operator: ManagedProcess; adapter: ManagedProcess }> {
      await core.createNamespace({ body: { metadata: { name: KEDA_NAMESPACE } } }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
      await installKedaCrds(kc, bins.kedaCrdDir);
      const kedaEnv = {
        KUBECONFIG: kcfg,
        WATCH_NAMESPACE: '',
        POD_NAMESPACE: KEDA_NAMESPACE,
        KEDA_CLUSTER_OBJECT_NAMESPACE: KEDA_NAMESPACE,
      };
      const kedaOperator = run(
        'keda-operator',
        bins.kedaOperator,
        [
          `--metrics-bind-address=127.0.0.1:${opMetricsPort}`,
          `--health-probe-bind-address=127.0.0.1:${opProbePort}`,
          `--metrics-service-bind-address=127.0.0.1:${grpcPort}`,
          `--cert-dir=${pki.kedaCertDir}`,
          `--ca-dir=${pki.kedaCertDir}`,
          '--enable-cert-rotation=false',
          '--leader-elect=false',
          '--zap-log-level=info',
        ],
        logs.kedaOperator,
        kedaEnv,
      );
      const kedaAdapter = run(
        'keda-adapter',
        bins.kedaAdapter,
        [
          `--secure-port=${adapterPort}`,
          '--bind-address=127.0.0.1',
          `--cert-dir=${pki.kedaCertDir}`,
          `--tls-cert-file=${join(pki.kedaCertDir, 'tls.crt')}`,
          `--tls-private-key-file=${join(pki.kedaCertDir, 'tls.key')}`,
          `--lister-kubeconfig=${kcfg}`,
          `--authentication-kubeconfig=${kcfg}`,
          `--authorization-kubeconfig=${kcfg}`,
          `--metrics-service-address=127.0.0.1:${grpcPort}`,
          `--port=${adapterMetricsPort}`,
          '--zap-log-level=info',
        ],
        logs.kedaAdapter,
        kedaEnv,
      );
      await apply(kc, externalMetricsApiObjects(adapterPort, readFileSync(pki.ca.cert, 'utf8')));
      return { operator: kedaOperator, adapter: kedaAdapter };
    }
  } catch (err) {
    await stop();
    throw err instanceof ProvisionError ? err : new ProvisionError('controllers', (err as Error).message);
  }
}
