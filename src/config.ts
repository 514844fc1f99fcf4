// The process configuration of every `layer` entry point that talks to Temporal, the store,
// Kubernetes or serves the HTTP API. Parsed once, at the entry point, from the environment
// (nothing else in the project reads process.env for these); a value that is wrong fails here
// with the variable's name and how to fix it, not later as a confusing connection error.
//
// One row per variable (`configVars`): its name, where it goes, its schema, its default and its
// hint; the schema, the Config type, the names (`ConfigEnv`) and the error hints come from the rows
// (src/util/env-table.ts). The local defaults of `layer dev up` are passed in by the CLI
// (src/cli/config.ts), so `layer apply` / `layer orchestrator` need no variables at all.
//
// Over 400 lines on purpose: the bulk is `configVars`, one row per variable; the rows are the point
// of the file (one place per variable).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DataConverter } from '@temporalio/common';
import { DEFAULT_PAYLOAD_PREFIX, PayloadEnv, TemporalEnv } from '../packages/worker/src/env.js';
import { s3DataConverter } from '../packages/worker/src/codec/s3-payload-codec.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../packages/worker/src/contracts/function.js';
import { DEFAULT_PUSH_MAX_ANSWER_BYTES, PUSH_MAX_ANSWER_BYTES_ENV } from './activities/push-call.js';
import { DEFAULT_RECONCILE_CONCURRENCY } from './contracts/reconcile.js';
import type { OperatorSettingsInput } from './operator/settings.js';
import { envTable, type EnvContext, type EnvRow } from './util/env-table.js';

/** Where the Temporal frontend is when neither TEMPORAL_ADDRESS nor a `layer dev up` env says. */
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
/** The embedded store's default address (`layer store serve`). */
export const DEFAULT_STORE_URL = 'http://127.0.0.1:8787';
const DEFAULT_API_PORT = 8080;
/** Service-account files Kubernetes mounts into every pod (in-cluster configuration). */
const IN_CLUSTER_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** The pod's namespace, as Kubernetes mounts it beside the service account token. */
const IN_CLUSTER_NAMESPACE_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
/** Payloads above this size go to S3 when a payload bucket is configured (Temporal warns at 256 KiB). */
export const DEFAULT_PAYLOAD_THRESHOLD_BYTES = 128 * 1024;

/** What a running `layer dev up` offers as defaults (the CLI reads its state file; servers pass none). */
export interface DevDefaults {
  temporal: { address: string; namespace: string; uiUrl?: string | undefined };
  store?: { url: string } | undefined;
  kube?: { kubeconfigPath: string } | undefined;
}

interface Ctx extends EnvContext<string> {
  dev: DevDefaults | undefined;
  /** KUBERNETES_SERVICE_HOST is set and a service-account token is mounted. */
  inCluster: boolean;
}

const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const k8sName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const k8sNamespaceName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const text = z.string().min(1);
const flag = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true');
const integer = z.coerce.number().int('expected an integer');
const secretName = z.string().regex(k8sName, 'expected a Kubernetes Secret name');
const row = <const R extends EnvRow<Ctx>>(r: R) => r;
/** The dev env's Temporal (namespace, UI) only belongs with the dev env's server. */
const devTemporal = (c: Ctx) => (c.dev && !c.isSet('temporalAddress') ? c.dev.temporal : undefined);
const podNamespace = (c: Ctx) => (c.inCluster ? readFileQuietly(IN_CLUSTER_NAMESPACE_PATH) : undefined);

/** Every variable loadConfig reads: one row each. */
const configVars = {
  temporalAddress: row({
    env: TemporalEnv.address,
    path: 'temporal.address',
    schema: z
      .string()
      .regex(hostPort, 'expected host:port')
      .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'port is above 65535'),
    default: (c) => c.dev?.temporal.address ?? DEFAULT_TEMPORAL_ADDRESS,
    hint: 'to host:port, e.g. localhost:7233 (or unset it to use `layer dev up`)',
  }),
  temporalNamespace: row({
    env: TemporalEnv.namespace,
    path: 'temporal.namespace',
    schema: text,
    default: (c) => devTemporal(c)?.namespace ?? 'default',
    hint: 'to a Temporal namespace, e.g. default',
  }),
  /** Task queue of the orchestrator Worker; workflows are started on it. */
  taskQueue: row({
    env: 'LAYER_ORCHESTRATOR_TASK_QUEUE',
    path: 'temporal.taskQueue',
    schema: text,
    default: () => ORCHESTRATOR_TASK_QUEUE,
    hint: `to a task queue name, or unset it for ${ORCHESTRATOR_TASK_QUEUE}`,
  }),
  /**
   * Workflows the orchestrator Worker keeps in memory between tasks; unset: Temporal's default,
   * from the heap size. Each cached Function or Pipeline workflow is ~1–2 MB of RSS; one that is
   * not cached replays its history at its next task (ADR 0115).
   */
  maxCachedWorkflows: row({
    env: 'LAYER_MAX_CACHED_WORKFLOWS',
    path: 'temporal.maxCachedWorkflows',
    schema: integer.min(2, 'expected at least 2').optional(),
    default: () => undefined,
    hint: 'to a number of workflows of at least 2, e.g. 200 (or unset it for the heap-based default)',
  }),
  /**
   * The SDK's per-call watchdog in the workflow threads (a 5 s limit on one synchronous run of
   * workflow code): off by default, as each call paid for a thread of its own (ADR 0125).
   */
  workflowWatchdog: row({
    env: 'LAYER_WORKFLOW_WATCHDOG',
    path: 'temporal.workflowWatchdog',
    schema: flag,
    default: () => 'false',
    hint: 'to true (the SDK detects a workflow stuck in a loop, at ~120 µs of CPU per call into it) or false',
  }),
  /** Temporal Web UI base URL, for links the CLI prints (the dev env's, when running). */
  temporalUiUrl: row({
    env: 'LAYER_TEMPORAL_UI_URL',
    path: 'temporal.uiUrl',
    schema: httpUrl.optional(),
    default: (c) => devTemporal(c)?.uiUrl,
    hint: "to the Temporal Web UI's URL, e.g. http://localhost:8233",
  }),
  /** Temporal Cloud; implies TLS unless TEMPORAL_TLS=false. */
  temporalApiKey: row({
    env: TemporalEnv.apiKey,
    path: 'temporal.apiKey',
    schema: text.optional(),
    hint: 'to the Temporal API key, or unset it',
  }),
  /** TLS to the frontend: on with true, an API key or any TLS file; false: plain even with an API key. */
  temporalTls: row({
    env: TemporalEnv.tls,
    schema: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
    hint: 'to true or false, or unset it (an API key or TLS files turn TLS on)',
  }),
  temporalTlsClientCertPath: row({
    env: TemporalEnv.clientCertPath,
    path: 'temporal.tls?.clientCertPath',
    schema: text.optional(),
    hint: `and ${TemporalEnv.clientKeyPath} to PEM files (mTLS needs both), or neither`,
  }),
  temporalTlsClientKeyPath: row({
    env: TemporalEnv.clientKeyPath,
    path: 'temporal.tls?.clientKeyPath',
    schema: text.optional(),
    hint: `and ${TemporalEnv.clientCertPath} to PEM files (mTLS needs both), or neither`,
  }),
  temporalTlsServerCaCertPath: row({
    env: TemporalEnv.serverCaCertPath,
    path: 'temporal.tls?.serverCaCertPath',
    schema: text.optional(),
    hint: "to the server CA's PEM file, or unset it",
  }),
  temporalTlsServerName: row({
    env: TemporalEnv.serverName,
    path: 'temporal.tls?.serverName',
    schema: text.optional(),
    hint: "to the name in the frontend's certificate, or unset it",
  }),
  /** Base URL of the Turbopuffer-compatible store (embedded store, gateway or Turbopuffer). */
  storeUrl: row({
    env: 'LAYER_STORE_URL',
    path: 'store.url',
    schema: httpUrl,
    default: (c) => c.dev?.store?.url ?? DEFAULT_STORE_URL,
    hint: `to the store's base URL, e.g. ${DEFAULT_STORE_URL}`,
  }),
  storeApiKey: row({
    env: 'LAYER_STORE_API_KEY',
    path: 'store.apiKey',
    schema: text.optional(),
    hint: "to the store's bearer key, or unset it",
  }),
  /** Port of the orchestrator HTTP API (0: any free port). */
  apiPort: row({
    env: 'LAYER_API_PORT',
    path: 'api.port',
    schema: integer.min(0, 'expected a port number >= 0').max(65535, 'expected a port number <= 65535'),
    default: () => DEFAULT_API_PORT,
    hint: `to a port number 0-65535, e.g. ${DEFAULT_API_PORT}`,
  }),
  apiHost: row({
    env: 'LAYER_API_HOST',
    path: 'api.host',
    schema: text,
    // In a pod the API must be reachable from KEDA and workers; locally keep it private. Only a
    // mounted token makes it a pod: without one the API would be open on every interface.
    default: (c) => (c.inCluster ? '0.0.0.0' : '127.0.0.1'),
    hint: 'to an address to listen on, e.g. 0.0.0.0',
  }),
  /** `namespace/name` of the VectorStore whose inboundAuth guards the API; absent: open. */
  vectorStore: row({
    env: 'LAYER_VECTOR_STORE',
    path: 'api.vectorStore',
    schema: z
      .string()
      .refine((v) => {
        const [ns, name, ...rest] = v.split('/');
        return rest.length === 0 && !!ns && !!name && k8sName.test(ns) && k8sName.test(name);
      }, 'expected namespace/name')
      .transform((v) => {
        const [namespace = '', name = ''] = v.split('/');
        return { namespace, name };
      })
      .optional(),
    hint: 'to <namespace>/<name> of a VectorStore, e.g. layer/default',
  }),
  /** `true`: the HTTP API serves control calls unauthenticated even in a cluster (development only). */
  apiOpen: row({
    env: 'LAYER_API_OPEN',
    path: 'api.open',
    schema: flag,
    default: () => 'false',
    hint: 'to true (development only) or false, or unset it',
  }),
  /**
   * S3 bucket for payloads over the threshold (the S3 payload codec); absent: no codec, every
   * payload stays in history — the embedded default, which needs no setup. S3 endpoint and
   * credentials come from the AWS SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_S3, ...).
   */
  payloadBucket: row({
    env: PayloadEnv.bucket,
    path: 'payloads.bucket',
    schema: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'expected an S3 bucket name')
      .optional(),
    hint: 'to an S3 bucket name (lowercase), or unset it to keep payloads in history',
  }),
  payloadPrefix: row({
    env: PayloadEnv.prefix,
    path: 'payloads.prefix',
    schema: z.string(),
    default: () => DEFAULT_PAYLOAD_PREFIX,
    hint: `to a key prefix such as ${DEFAULT_PAYLOAD_PREFIX}`,
  }),
  payloadThresholdBytes: row({
    env: PayloadEnv.thresholdBytes,
    path: 'payloads.thresholdBytes',
    schema: integer.min(1, 'expected a byte count >= 1'),
    default: () => DEFAULT_PAYLOAD_THRESHOLD_BYTES,
    hint: `to a byte count, e.g. ${DEFAULT_PAYLOAD_THRESHOLD_BYTES}`,
  }),
  /** Ceiling of one push worker's answer (below it: batch rows × the store's 8 MiB value limit; ADR 0073). */
  pushMaxAnswerBytes: row({
    env: PUSH_MAX_ANSWER_BYTES_ENV,
    path: 'push.maxAnswerBytes',
    schema: integer.min(1024 * 1024, 'expected a byte count >= 1048576 (1 MiB)'),
    default: () => DEFAULT_PUSH_MAX_ANSWER_BYTES,
    hint: `to a byte count of at least 1 MiB, e.g. ${DEFAULT_PUSH_MAX_ANSWER_BYTES}`,
  }),
  /** Operator: the Temporal frontend as worker pods reach it (default: where this process does). */
  workerTemporalAddress: row({
    env: 'LAYER_WORKER_TEMPORAL_ADDRESS',
    path: 'operator.workerTemporalAddress',
    schema: z.string().regex(hostPort, 'expected host:port'),
    default: (c) => c.value('temporalAddress'),
    hint: 'to host:port of the Temporal frontend as worker pods reach it, e.g. temporal-frontend.temporal.svc:7233',
  }),
  /** Operator: the Temporal namespace worker pods use (default: TEMPORAL_NAMESPACE). */
  workerTemporalNamespace: row({
    env: 'LAYER_WORKER_TEMPORAL_NAMESPACE',
    path: 'operator.workerTemporalNamespace',
    schema: text.optional(),
    hint: 'to the Temporal namespace worker pods use, or unset it for TEMPORAL_NAMESPACE',
  }),
  /** Operator: Secret (in each workload's namespace) with the API key worker pods send to Temporal. */
  workerTemporalApiKeySecretName: row({
    env: 'LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME',
    path: 'operator.workerTemporalApiKeySecret?.name',
    schema: secretName,
    hint: 'to the Secret with the Temporal API key worker pods use, e.g. temporal-api-key',
  }),
  /** Operator: key in that Secret (default `api-key`, the chart's temporal.apiKey.key default). */
  workerTemporalApiKeySecretKey: row({
    env: 'LAYER_WORKER_TEMPORAL_API_KEY_SECRET_KEY',
    path: 'operator.workerTemporalApiKeySecret?.key',
    schema: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key'),
    default: () => 'api-key',
    hint: 'to a key of that Secret, e.g. api-key',
  }),
  /** Operator: `true`/`false` written as TEMPORAL_TLS into worker pods (default: unset). */
  workerTemporalTls: row({
    env: 'LAYER_WORKER_TEMPORAL_TLS',
    path: 'operator.workerTemporalTls',
    schema: flag.optional(),
    hint: 'to true or false, or unset it',
  }),
  /** Operator: KEDA ScaledObject pollingInterval of worker Deployments (seconds, default 15). */
  kedaPollingIntervalSeconds: row({
    env: 'LAYER_KEDA_POLLING_INTERVAL_SECONDS',
    path: 'operator.keda.pollingIntervalSeconds',
    schema: integer.min(1).optional(),
    hint: 'to whole seconds >= 1, e.g. 15',
  }),
  /** Operator: KEDA cooldownPeriod (seconds, default 300). */
  kedaCooldownPeriodSeconds: row({
    env: 'LAYER_KEDA_COOLDOWN_PERIOD_SECONDS',
    path: 'operator.keda.cooldownPeriodSeconds',
    schema: integer.min(0).optional(),
    hint: 'to whole seconds >= 0, e.g. 300',
  }),
  /** Operator: queued batches per replica KEDA aims for (default 1). */
  kedaTargetQueueDepthPerReplica: row({
    env: 'LAYER_KEDA_TARGET_QUEUE_DEPTH_PER_REPLICA',
    path: 'operator.keda.targetQueueDepthPerReplica',
    schema: integer.min(1).optional(),
    hint: 'to a whole number >= 1, e.g. 1',
  }),
  /** Operator: host:port of its KEDA external-push scaler as KEDA reaches it (unset: metrics-api polling). */
  kedaScalerAddress: row({
    env: 'LAYER_KEDA_SCALER_ADDRESS',
    path: 'operator.keda.scalerAddress',
    schema: z
      .string()
      .regex(/^[^\s:/]+:\d+$/, 'expected host:port')
      .optional(),
    hint: "to the operator's gRPC scaler address as KEDA reaches it, e.g. layer-orchestrator.layer.svc:9090, or unset it",
  }),
  /** Operator: port its KEDA external-push scaler listens on (unset: not served; 0: any free port). */
  kedaScalerPort: row({
    env: 'LAYER_KEDA_SCALER_PORT',
    path: 'operator.kedaScalerPort',
    schema: integer
      .min(0, 'expected a port number >= 0')
      .max(65535, 'expected a port number <= 65535')
      .optional(),
    hint: 'to a port number 0-65535, e.g. 9090, or unset it',
  }),
  /** Operator: the orchestrator HTTP API as worker pods and KEDA reach it. */
  operatorApiUrl: row({
    env: 'LAYER_OPERATOR_API_URL',
    path: 'operator.apiBaseUrl',
    schema: httpUrl.optional(),
    hint: "to the orchestrator API's in-cluster URL, e.g. http://layer-orchestrator.layer.svc:8080",
  }),
  /** Operator: the store (gateway) URL pull workers read and write through. */
  workerStoreUrl: row({
    env: 'LAYER_WORKER_STORE_URL',
    path: 'operator.workerStoreUrl',
    schema: httpUrl.optional(),
    hint: 'to the gateway URL workers use, e.g. http://layer-gateway.layer.svc:8080',
  }),
  /** Operator: the Helm release Secret (worker bearer in keys mode, store credential). */
  releaseSecretName: row({
    env: 'LAYER_RELEASE_SECRET_NAME',
    path: 'operator.releaseSecretName',
    schema: secretName.optional(),
    hint: "to the Helm release Secret's name, e.g. layer",
  }),
  /**
   * Operator: reconcile passes one replica runs at once (its reconcile Worker's activity slots).
   * The watcher's resync signals every resource at once; with the SDK's 100 slots those passes
   * took the process's CPU from the Function workflows beside them (docs/adr/0135).
   */
  reconcileConcurrency: row({
    env: 'LAYER_RECONCILE_CONCURRENCY',
    path: 'operator.reconcileConcurrency',
    schema: integer.min(1, 'expected at least 1').max(1000, 'expected at most 1000'),
    default: () => DEFAULT_RECONCILE_CONCURRENCY,
    hint: `to a number of passes from 1 to 1000, e.g. ${DEFAULT_RECONCILE_CONCURRENCY}`,
  }),
  /** Operator: reconcile only resources in these Kubernetes namespaces (comma-separated; default all). */
  watchNamespaces: row({
    env: 'LAYER_WATCH_NAMESPACES',
    path: 'operator.watchNamespaces',
    schema: z
      .array(z.string().regex(k8sNamespaceName, 'expected Kubernetes namespace names'))
      .min(1)
      .optional(),
    read: (v) =>
      v
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    hint: 'to comma-separated namespace names, e.g. layer,team-a, or unset it to reconcile every namespace',
  }),
  /** Operator: `true` runs the watcher only on the replica holding a Lease (default: true in a pod). */
  leaderElect: row({
    env: 'LAYER_LEADER_ELECT',
    path: 'operator.leaderElection.enabled',
    schema: flag,
    default: (c) => String(c.inCluster),
    hint: 'to true (replicas share a Lease, one watches) or false (every replica watches)',
  }),
  /** Operator: namespace of that Lease (default: the pod's namespace, else `default`). */
  leaderElectionNamespace: row({
    env: 'LAYER_LEADER_ELECTION_NAMESPACE',
    path: 'operator.leaderElection.namespace',
    schema: z.string().regex(k8sNamespaceName, 'expected a Kubernetes namespace name'),
    default: (c) => podNamespace(c) ?? 'default',
    hint: 'to the namespace the operator runs in, e.g. layer',
  }),
  /** Operator: name of that Lease, one per installation. */
  leaderElectionId: row({
    env: 'LAYER_LEADER_ELECTION_ID',
    path: 'operator.leaderElection.name',
    schema: z.string().regex(k8sName, 'expected a Kubernetes object name'),
    default: () => 'layer-operator',
    hint: 'to a Lease name, e.g. layer-operator',
  }),
  /** Operator: `true` creates an Index CR per store namespace no Index claims (leader only). */
  indexDiscovery: row({
    env: 'LAYER_INDEX_DISCOVERY',
    path: 'operator.indexDiscovery.enabled',
    schema: flag,
    default: () => 'false',
    hint: 'to true (create an Index per new store namespace) or false',
  }),
  /** Operator: namespace of the discovered Index CRs (default: the leader election namespace). */
  indexDiscoveryNamespace: row({
    env: 'LAYER_INDEX_DISCOVERY_NAMESPACE',
    path: 'operator.indexDiscovery.namespace',
    schema: z.string().regex(k8sNamespaceName, 'expected a Kubernetes namespace name'),
    default: (c) => c.value('leaderElectionNamespace'),
    hint: 'to the namespace discovered Index CRs go to, e.g. layer',
  }),
  /** Operator: seconds between discovery passes. */
  indexDiscoveryIntervalSeconds: row({
    env: 'LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS',
    path: 'operator.indexDiscovery.intervalSeconds',
    schema: integer.min(5, 'expected at least 5 seconds').max(86_400, 'expected at most 86400 seconds'),
    default: () => 60,
    hint: 'to seconds between discovery passes (5-86400), e.g. 60',
  }),
  /** Operator: `true` deletes discovered Index CRs whose store namespace is gone. */
  indexGc: row({
    env: 'LAYER_INDEX_GC',
    path: 'operator.indexDiscovery.gc',
    schema: flag,
    default: () => 'false',
    hint: 'to true (delete discovered Index CRs whose namespace is gone) or false',
  }),
  /** Explicit kubeconfig file (KUBECONFIG, or the `layer dev up --kube` one). */
  kubeconfig: row({
    env: 'KUBECONFIG',
    path: 'kube.kubeconfig',
    schema: text.optional(),
    default: (c) => c.dev?.kube?.kubeconfigPath,
    hint: 'to a kubeconfig file path, or unset it',
  }),
  /** Set by Kubernetes in every pod; with a mounted token it means in-cluster. */
  kubernetesServiceHost: row({ env: 'KUBERNETES_SERVICE_HOST', schema: z.string().optional() }),
  /** Running in a pod: use the mounted service account. */
  inCluster: row({ path: 'kube.inCluster', schema: z.boolean(), default: (c) => c.inCluster }),
  /**
   * KUBERNETES_SERVICE_HOST is set but no service-account token is mounted (a pod with
   * automountServiceAccountToken: false, or a copied environment): not in-cluster, so the API
   * stays on 127.0.0.1 and open only there; the operator says so.
   */
  serviceHostWithoutToken: row({
    path: 'kube.serviceHostWithoutToken',
    schema: z.boolean(),
    default: (c) => c.isSet('kubernetesServiceHost') && !c.inCluster,
  }),
  /** Log level of the role processes: trace, debug, info (default), warn, error, fatal, silent (src/observe). */
  logLevel: row({ env: 'LAYER_LOG_LEVEL', schema: z.string().optional() }),
  /** host:port of the Temporal SDK's Prometheus exporter /metrics appends (default a free loopback port; `off`). */
  temporalMetricsAddress: row({ env: 'LAYER_TEMPORAL_METRICS_ADDRESS', schema: z.string().optional() }),
};

const table = envTable(configVars, {
  'temporal.tls': {
    present: (c: Ctx) => {
      const tls = c.value('temporalTls');
      const files = ['temporalTlsClientCertPath', 'temporalTlsClientKeyPath', 'temporalTlsServerCaCertPath'];
      const any = [...files, 'temporalTlsServerName', 'temporalApiKey'].some((k) => c.isSet(k));
      return tls === 'true' || (tls === undefined && any);
    },
    refine: (tls) =>
      tls.refine((t) => !t.clientCertPath === !t.clientKeyPath, {
        path: ['clientCertPath'],
        error: `set both ${TemporalEnv.clientCertPath} and ${TemporalEnv.clientKeyPath}, or neither`,
      }),
  },
  'operator.workerTemporalApiKeySecret': { present: (c: Ctx) => c.isSet('workerTemporalApiKeySecretName') },
});

/** Every variable loadConfig reads, by its row. */
export const ConfigEnv = table.names;

export type Config = ReturnType<typeof table.load>;

/**
 * The operator's settings from the configuration: worker pods get this process's Temporal
 * namespace and the addresses configured for them; the rest keeps the settings' defaults.
 */
export function operatorSettingsInput(config: Config): OperatorSettingsInput {
  const o = config.operator;
  const keda = Object.fromEntries(Object.entries(o.keda).filter(([, v]) => v !== undefined));
  const p = config.payloads;
  return {
    temporal: {
      address: o.workerTemporalAddress,
      namespace: o.workerTemporalNamespace ?? config.temporal.namespace,
      ...(o.workerTemporalApiKeySecret ? { apiKeySecretRef: o.workerTemporalApiKeySecret } : {}),
      ...(o.workerTemporalTls !== undefined ? { tls: o.workerTemporalTls } : {}),
    },
    ...(o.apiBaseUrl ? { apiBaseUrl: o.apiBaseUrl } : {}),
    ...(o.workerStoreUrl ? { storeUrl: o.workerStoreUrl } : {}),
    ...(o.releaseSecretName ? { releaseSecretName: o.releaseSecretName } : {}),
    ...(Object.keys(keda).length ? { keda } : {}),
    // Workers must decode what the orchestrator encodes: they get its payload codec settings.
    ...(p.bucket
      ? { payloads: { bucket: p.bucket, prefix: p.prefix, thresholdBytes: p.thresholdBytes } }
      : {}),
  };
}

/**
 * How the HTTP API authenticates: by the configured VectorStore's policy; else open when asked
 * (LAYER_API_OPEN=true) or outside a cluster (a developer's machine, bound to 127.0.0.1 by
 * default); else — in a pod with no VectorStore — read-only: anyone who can reach the API may
 * read status and queue depth, nobody may force discovery or replay dead letters.
 */
export function apiAuthMode(config: Config): 'vectorStore' | 'open' | 'readOnly' {
  if (config.api.vectorStore) return 'vectorStore';
  if (config.api.open || !config.kube.inCluster) return 'open';
  return 'readOnly';
}

/** The data converter every Client and Worker of this process uses (undefined: SDK default). */
export function payloadDataConverter(config: Config): DataConverter | undefined {
  if (!config.payloads.bucket) return undefined;
  return s3DataConverter({
    bucket: config.payloads.bucket,
    prefix: config.payloads.prefix,
    thresholdBytes: config.payloads.thresholdBytes,
  });
}

export interface LoadConfigOptions {
  /** The running `layer dev up` environment, whose servers are the defaults (src/cli/config.ts). */
  devState?: DevDefaults | null | undefined;
}

/**
 * Parse the process configuration. Call once per entry point and pass the result down.
 *
 * @example
 * const config = loadConfig();
 * const connection = await Connection.connect({ address: config.temporal.address });
 *
 * @throws InvalidInputError naming the variable and the fix when a value is wrong.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Config {
  const serviceHost = !!env[ConfigEnv.kubernetesServiceHost]?.trim();
  return table.load(env, {
    dev: opts.devState ?? undefined,
    inCluster: serviceHost && existsSync(IN_CLUSTER_TOKEN_PATH),
  });
}

function readFileQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
