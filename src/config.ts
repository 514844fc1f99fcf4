// The process configuration of every `layer` entry point that talks to Temporal, the store,
// Kubernetes or serves the HTTP API. Parsed once, at the entry point, from the environment
// (nothing else in the project reads process.env for these); a value that is wrong fails here
// with the variable's name and how to fix it, not later as a confusing connection error.
//
// Defaults follow the local workflow: when `layer dev up` is running, its Temporal, store and
// kubeconfig are used, so `layer apply` / `layer orchestrator` need no variables at all.
import { DEFAULT_PUSH_MAX_ANSWER_BYTES, PUSH_MAX_ANSWER_BYTES_ENV } from './engine/push-call.js';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DataConverter } from '@temporalio/common';
import { s3DataConverter } from './codec/s3-payload-codec.js';
import { ORCHESTRATOR_TASK_QUEUE } from './contracts/function.js';
import { readDevState, type DevState } from './dev/environment.js';
import { devStateDir } from './dev/paths.js';
import type { OperatorSettingsInput } from './operator/settings.js';
import { InvalidInputError } from './util/errors.js';

/** Where the Temporal frontend is when neither TEMPORAL_ADDRESS nor a `layer dev up` env says. */
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
/** The embedded store's default address (`layer store serve`). */
export const DEFAULT_STORE_URL = 'http://127.0.0.1:8787';
export const DEFAULT_API_PORT = 8080;
/** Service-account files Kubernetes mounts into every pod (in-cluster configuration). */
export const IN_CLUSTER_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Every variable loadConfig reads, by the config field it sets. */
export const ConfigEnv = {
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  temporalUiUrl: 'LAYER_TEMPORAL_UI_URL',
  /** The Temporal SDKs' standard client variables (docs.temporal.io, environment configuration). */
  temporalApiKey: 'TEMPORAL_API_KEY',
  temporalTls: 'TEMPORAL_TLS',
  temporalTlsClientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  temporalTlsClientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  temporalTlsServerCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  temporalTlsServerName: 'TEMPORAL_TLS_SERVER_NAME',
  taskQueue: 'LAYER_ORCHESTRATOR_TASK_QUEUE',
  storeUrl: 'LAYER_STORE_URL',
  storeApiKey: 'LAYER_STORE_API_KEY',
  apiPort: 'LAYER_API_PORT',
  apiHost: 'LAYER_API_HOST',
  vectorStore: 'LAYER_VECTOR_STORE',
  kubeconfig: 'KUBECONFIG',
  kubernetesServiceHost: 'KUBERNETES_SERVICE_HOST',
  payloadBucket: 'LAYER_PAYLOAD_BUCKET',
  payloadPrefix: 'LAYER_PAYLOAD_PREFIX',
  payloadThresholdBytes: 'LAYER_PAYLOAD_THRESHOLD_BYTES',
  /** Ceiling of one push worker's answer in bytes (docs/adr/0073). */
  pushMaxAnswerBytes: PUSH_MAX_ANSWER_BYTES_ENV,
  /** Operator: the Temporal frontend as worker pods reach it (default: TEMPORAL_ADDRESS). */
  workerTemporalAddress: 'LAYER_WORKER_TEMPORAL_ADDRESS',
  /** Operator: the Temporal namespace worker pods use (default: TEMPORAL_NAMESPACE). */
  workerTemporalNamespace: 'LAYER_WORKER_TEMPORAL_NAMESPACE',
  /** Operator: Secret (in each workload's namespace) with the API key worker pods send to Temporal. */
  workerTemporalApiKeySecretName: 'LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME',
  /** Operator: key in that Secret (default `api-key`, the chart's temporal.apiKey.key default). */
  workerTemporalApiKeySecretKey: 'LAYER_WORKER_TEMPORAL_API_KEY_SECRET_KEY',
  /** Operator: `true`/`false` written as TEMPORAL_TLS into worker pods (default: unset). */
  workerTemporalTls: 'LAYER_WORKER_TEMPORAL_TLS',
  /** Operator: KEDA ScaledObject pollingInterval of worker Deployments (seconds, default 15). */
  kedaPollingIntervalSeconds: 'LAYER_KEDA_POLLING_INTERVAL_SECONDS',
  /** Operator: KEDA cooldownPeriod (seconds, default 300). */
  kedaCooldownPeriodSeconds: 'LAYER_KEDA_COOLDOWN_PERIOD_SECONDS',
  /** Operator: queued batches per replica KEDA aims for (default 1). */
  kedaTargetQueueDepthPerReplica: 'LAYER_KEDA_TARGET_QUEUE_DEPTH_PER_REPLICA',
  /** Operator: the orchestrator HTTP API as worker pods and KEDA reach it. */
  operatorApiUrl: 'LAYER_OPERATOR_API_URL',
  /** Operator: the store (gateway) URL pull workers read and write through. */
  workerStoreUrl: 'LAYER_WORKER_STORE_URL',
  /** Operator: the Helm release Secret (worker bearer in keys mode, store credential). */
  releaseSecretName: 'LAYER_RELEASE_SECRET_NAME',
  /** `true`: the HTTP API serves control calls unauthenticated even in a cluster (development only). */
  apiOpen: 'LAYER_API_OPEN',
  /** Operator: reconcile only resources in these Kubernetes namespaces (comma-separated; default all). */
  watchNamespaces: 'LAYER_WATCH_NAMESPACES',
  /** Operator: `true` runs the watcher only on the replica holding a Lease (default: true in a pod). */
  leaderElect: 'LAYER_LEADER_ELECT',
  /** Operator: namespace of that Lease (default: the pod's namespace, else `default`). */
  leaderElectionNamespace: 'LAYER_LEADER_ELECTION_NAMESPACE',
  /** Operator: name of that Lease, one per installation (default `layer-operator`). */
  leaderElectionId: 'LAYER_LEADER_ELECTION_ID',
  /** Log level of the role processes: trace, debug, info (default), warn, error, fatal, silent (src/observe). */
  logLevel: 'LAYER_LOG_LEVEL',
  /** host:port of the Temporal SDK's Prometheus exporter /metrics appends (default a free loopback port; `off`). */
  temporalMetricsAddress: 'LAYER_TEMPORAL_METRICS_ADDRESS',
  /** Operator: `true` creates an Index CR per store namespace no Index claims (leader only). */
  indexDiscovery: 'LAYER_INDEX_DISCOVERY',
  /** Operator: namespace of the discovered Index CRs (default: the leader election namespace). */
  indexDiscoveryNamespace: 'LAYER_INDEX_DISCOVERY_NAMESPACE',
  /** Operator: seconds between discovery passes (default 60). */
  indexDiscoveryIntervalSeconds: 'LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS',
  /** Operator: `true` deletes discovered Index CRs whose store namespace is gone. */
  indexGc: 'LAYER_INDEX_GC',
} as const;

/** The pod's namespace, as Kubernetes mounts it beside the service account token. */
export const IN_CLUSTER_NAMESPACE_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Payloads above this size go to S3 when a payload bucket is configured (Temporal warns at 256 KiB). */
export const DEFAULT_PAYLOAD_THRESHOLD_BYTES = 128 * 1024;

const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const k8sName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const configSchema = z.object({
  temporal: z.object({
    /** Temporal frontend `host:port`. */
    address: z
      .string()
      .regex(hostPort, 'expected host:port')
      .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'port is above 65535'),
    namespace: z.string().min(1),
    /** Task queue of the orchestrator Worker; workflows are started on it. */
    taskQueue: z.string().min(1),
    /** Temporal Web UI base URL, for links the CLI prints (the dev env's, when running). */
    uiUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    /** TEMPORAL_API_KEY (Temporal Cloud); implies TLS unless TEMPORAL_TLS=false. */
    apiKey: z.string().min(1).optional(),
    /** TLS to the frontend: absent when off; the files are PEM paths (mTLS needs cert and key). */
    tls: z
      .object({
        clientCertPath: z.string().min(1).optional(),
        clientKeyPath: z.string().min(1).optional(),
        serverCaCertPath: z.string().min(1).optional(),
        serverName: z.string().min(1).optional(),
      })
      .refine((t) => !t.clientCertPath === !t.clientKeyPath, {
        path: ['clientCertPath'],
        error: 'set both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or neither',
      })
      .optional(),
  }),
  store: z.object({
    /** Base URL of the Turbopuffer-compatible store (embedded store, gateway or Turbopuffer). */
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    apiKey: z.string().min(1).optional(),
  }),
  api: z.object({
    /** Port of the orchestrator HTTP API (0: any free port). */
    port: z.coerce
      .number()
      .int('expected an integer')
      .min(0, 'expected a port number >= 0')
      .max(65535, 'expected a port number <= 65535'),
    host: z.string().min(1),
    /** `namespace/name` of the VectorStore whose inboundAuth guards the API; absent: open. */
    vectorStore: z
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
    /** LAYER_API_OPEN: serve control calls without auth when no VectorStore guards the API. */
    open: z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true'),
  }),
  payloads: z.object({
    /**
     * S3 bucket for payloads over the threshold (the S3 payload codec); absent: no codec, every
     * payload stays in history — the embedded default, which needs no setup. S3 endpoint and
     * credentials come from the AWS SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_S3, ...).
     */
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'expected an S3 bucket name')
      .optional(),
    prefix: z.string(),
    thresholdBytes: z.coerce.number().int('expected an integer').min(1, 'expected a byte count >= 1'),
  }),
  push: z.object({
    /** Ceiling of one push worker's answer (below it: batch rows × the store's 8 MiB value limit). */
    maxAnswerBytes: z.coerce
      .number()
      .int('expected an integer')
      .min(1024 * 1024, 'expected a byte count >= 1048576 (1 MiB)'),
  }),
  /**
   * What the operator writes into the objects it renders (src/operator/settings.ts fills the
   * rest with its defaults). Worker pods reach Temporal where this process does unless told.
   */
  operator: z.object({
    workerTemporalAddress: z.string().regex(hostPort, 'expected host:port'),
    apiBaseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    workerStoreUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    releaseSecretName: z.string().regex(k8sName, 'expected a Kubernetes Secret name').optional(),
    /** Only resources in these namespaces are reconciled (cluster-scoped ones too are skipped). */
    workerTemporalNamespace: z.string().min(1).optional(),
    workerTemporalApiKeySecret: z
      .object({
        name: z.string().regex(k8sName, 'expected a Kubernetes Secret name'),
        key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key'),
      })
      .optional(),
    workerTemporalTls: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .transform((v) => v === 'true')
      .optional(),
    keda: z.object({
      pollingIntervalSeconds: z.coerce.number().int('expected an integer').min(1).optional(),
      cooldownPeriodSeconds: z.coerce.number().int('expected an integer').min(0).optional(),
      targetQueueDepthPerReplica: z.coerce.number().int('expected an integer').min(1).optional(),
    }),
    watchNamespaces: z
      .array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected Kubernetes namespace names'))
      .min(1)
      .optional(),
    /** Lease-based leader election of the watcher (replicas > 1); off: every replica watches. */
    leaderElection: z.object({
      enabled: z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true'),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes namespace name'),
      name: z.string().regex(k8sName, 'expected a Kubernetes object name'),
    }),
    /** Index discovery (src/operator/index-discovery.ts), on the leader. */
    indexDiscovery: z.object({
      enabled: z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true'),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes namespace name'),
      intervalSeconds: z.coerce
        .number()
        .int('expected an integer')
        .min(5, 'expected at least 5 seconds')
        .max(86_400, 'expected at most 86400 seconds'),
      gc: z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true'),
    }),
  }),
  kube: z.object({
    /** Explicit kubeconfig file (KUBECONFIG, or the `layer dev up --kube` one). */
    kubeconfig: z.string().min(1).optional(),
    /** Running in a pod: use the mounted service account. */
    inCluster: z.boolean(),
    /**
     * KUBERNETES_SERVICE_HOST is set but no service-account token is mounted (a pod with
     * automountServiceAccountToken: false, or a copied environment): not in-cluster, so the API
     * stays on 127.0.0.1 and open only there; the operator says so.
     */
    serviceHostWithoutToken: z.boolean(),
  }),
});

export type Config = z.infer<typeof configSchema>;

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

/** Which env var feeds each schema path, for error messages. */
const envOfPath: Record<string, string> = {
  'temporal.address': ConfigEnv.temporalAddress,
  'temporal.namespace': ConfigEnv.temporalNamespace,
  'temporal.taskQueue': ConfigEnv.taskQueue,
  'temporal.uiUrl': ConfigEnv.temporalUiUrl,
  'temporal.apiKey': ConfigEnv.temporalApiKey,
  'temporal.tls.clientCertPath': ConfigEnv.temporalTlsClientCertPath,
  'temporal.tls.clientKeyPath': ConfigEnv.temporalTlsClientKeyPath,
  'temporal.tls.serverCaCertPath': ConfigEnv.temporalTlsServerCaCertPath,
  'temporal.tls.serverName': ConfigEnv.temporalTlsServerName,
  'store.url': ConfigEnv.storeUrl,
  'store.apiKey': ConfigEnv.storeApiKey,
  'api.port': ConfigEnv.apiPort,
  'api.host': ConfigEnv.apiHost,
  'api.vectorStore': ConfigEnv.vectorStore,
  'api.open': ConfigEnv.apiOpen,
  'kube.kubeconfig': ConfigEnv.kubeconfig,
  'payloads.bucket': ConfigEnv.payloadBucket,
  'payloads.prefix': ConfigEnv.payloadPrefix,
  'payloads.thresholdBytes': ConfigEnv.payloadThresholdBytes,
  'push.maxAnswerBytes': ConfigEnv.pushMaxAnswerBytes,
  'operator.workerTemporalAddress': ConfigEnv.workerTemporalAddress,
  'operator.apiBaseUrl': ConfigEnv.operatorApiUrl,
  'operator.workerStoreUrl': ConfigEnv.workerStoreUrl,
  'operator.releaseSecretName': ConfigEnv.releaseSecretName,
  'operator.watchNamespaces': ConfigEnv.watchNamespaces,
  'operator.workerTemporalNamespace': ConfigEnv.workerTemporalNamespace,
  'operator.workerTemporalApiKeySecret.name': ConfigEnv.workerTemporalApiKeySecretName,
  'operator.workerTemporalApiKeySecret.key': ConfigEnv.workerTemporalApiKeySecretKey,
  'operator.workerTemporalTls': ConfigEnv.workerTemporalTls,
  'operator.keda.pollingIntervalSeconds': ConfigEnv.kedaPollingIntervalSeconds,
  'operator.keda.cooldownPeriodSeconds': ConfigEnv.kedaCooldownPeriodSeconds,
  'operator.keda.targetQueueDepthPerReplica': ConfigEnv.kedaTargetQueueDepthPerReplica,
  'operator.leaderElection.enabled': ConfigEnv.leaderElect,
  'operator.leaderElection.namespace': ConfigEnv.leaderElectionNamespace,
  'operator.leaderElection.name': ConfigEnv.leaderElectionId,
  'operator.indexDiscovery.enabled': ConfigEnv.indexDiscovery,
  'operator.indexDiscovery.namespace': ConfigEnv.indexDiscoveryNamespace,
  'operator.indexDiscovery.intervalSeconds': ConfigEnv.indexDiscoveryIntervalSeconds,
  'operator.indexDiscovery.gc': ConfigEnv.indexGc,
};

const hintOfEnv: Record<string, string> = {
  [ConfigEnv.temporalAddress]: `set ${ConfigEnv.temporalAddress} to host:port, e.g. localhost:7233 (or unset it to use \`layer dev up\`)`,
  [ConfigEnv.temporalNamespace]: `set ${ConfigEnv.temporalNamespace} to a Temporal namespace, e.g. default`,
  [ConfigEnv.temporalUiUrl]: `set ${ConfigEnv.temporalUiUrl} to the Temporal Web UI's URL, e.g. http://localhost:8233`,
  [ConfigEnv.taskQueue]: `set ${ConfigEnv.taskQueue} to a task queue name, or unset it for ${ORCHESTRATOR_TASK_QUEUE}`,
  [ConfigEnv.storeUrl]: `set ${ConfigEnv.storeUrl} to the store's base URL, e.g. ${DEFAULT_STORE_URL}`,
  [ConfigEnv.storeApiKey]: `set ${ConfigEnv.storeApiKey} to the store's bearer key, or unset it`,
  [ConfigEnv.apiPort]: `set ${ConfigEnv.apiPort} to a port number 0-65535, e.g. ${DEFAULT_API_PORT}`,
  [ConfigEnv.apiHost]: `set ${ConfigEnv.apiHost} to an address to listen on, e.g. 0.0.0.0`,
  [ConfigEnv.vectorStore]: `set ${ConfigEnv.vectorStore} to <namespace>/<name> of a VectorStore, e.g. layer/default`,
  [ConfigEnv.apiOpen]: `set ${ConfigEnv.apiOpen} to true (development only) or false, or unset it`,
  [ConfigEnv.kubeconfig]: `set ${ConfigEnv.kubeconfig} to a kubeconfig file path, or unset it`,
  [ConfigEnv.payloadBucket]: `set ${ConfigEnv.payloadBucket} to an S3 bucket name (lowercase), or unset it to keep payloads in history`,
  [ConfigEnv.payloadPrefix]: `set ${ConfigEnv.payloadPrefix} to a key prefix such as layer-payloads/`,
  [ConfigEnv.payloadThresholdBytes]: `set ${ConfigEnv.payloadThresholdBytes} to a byte count, e.g. ${DEFAULT_PAYLOAD_THRESHOLD_BYTES}`,
  [ConfigEnv.pushMaxAnswerBytes]: `set ${ConfigEnv.pushMaxAnswerBytes} to a byte count of at least 1 MiB, e.g. ${DEFAULT_PUSH_MAX_ANSWER_BYTES}`,
  [ConfigEnv.workerTemporalAddress]: `set ${ConfigEnv.workerTemporalAddress} to host:port of the Temporal frontend as worker pods reach it, e.g. temporal-frontend.temporal.svc:7233`,
  [ConfigEnv.operatorApiUrl]: `set ${ConfigEnv.operatorApiUrl} to the orchestrator API's in-cluster URL, e.g. http://layer-orchestrator.layer.svc:8080`,
  [ConfigEnv.workerStoreUrl]: `set ${ConfigEnv.workerStoreUrl} to the gateway URL workers use, e.g. http://layer-gateway.layer.svc:8080`,
  [ConfigEnv.releaseSecretName]: `set ${ConfigEnv.releaseSecretName} to the Helm release Secret's name, e.g. layer`,
  [ConfigEnv.leaderElect]: `set ${ConfigEnv.leaderElect} to true (replicas share a Lease, one watches) or false (every replica watches)`,
  [ConfigEnv.leaderElectionNamespace]: `set ${ConfigEnv.leaderElectionNamespace} to the namespace the operator runs in, e.g. layer`,
  [ConfigEnv.indexDiscovery]: `set ${ConfigEnv.indexDiscovery} to true (create an Index per new store namespace) or false`,
  [ConfigEnv.indexDiscoveryNamespace]: `set ${ConfigEnv.indexDiscoveryNamespace} to the namespace discovered Index CRs go to, e.g. layer`,
  [ConfigEnv.indexDiscoveryIntervalSeconds]: `set ${ConfigEnv.indexDiscoveryIntervalSeconds} to seconds between discovery passes (5-86400), e.g. 60`,
  [ConfigEnv.indexGc]: `set ${ConfigEnv.indexGc} to true (delete discovered Index CRs whose namespace is gone) or false`,
  [ConfigEnv.leaderElectionId]: `set ${ConfigEnv.leaderElectionId} to a Lease name, e.g. layer-operator`,
  [ConfigEnv.temporalTls]: `set ${ConfigEnv.temporalTls} to true or false, or unset it (an API key or TLS files turn TLS on)`,
  [ConfigEnv.temporalTlsClientCertPath]: `set both ${ConfigEnv.temporalTlsClientCertPath} and ${ConfigEnv.temporalTlsClientKeyPath} to PEM files (mTLS), or neither`,
  [ConfigEnv.workerTemporalApiKeySecretName]: `set ${ConfigEnv.workerTemporalApiKeySecretName} to the Secret with the Temporal API key worker pods use, e.g. temporal-api-key`,
  [ConfigEnv.workerTemporalTls]: `set ${ConfigEnv.workerTemporalTls} to true or false, or unset it`,
  [ConfigEnv.kedaPollingIntervalSeconds]: `set ${ConfigEnv.kedaPollingIntervalSeconds} to whole seconds >= 1, e.g. 15`,
  [ConfigEnv.kedaCooldownPeriodSeconds]: `set ${ConfigEnv.kedaCooldownPeriodSeconds} to whole seconds >= 0, e.g. 300`,
  [ConfigEnv.kedaTargetQueueDepthPerReplica]: `set ${ConfigEnv.kedaTargetQueueDepthPerReplica} to a whole number >= 1, e.g. 1`,
  [ConfigEnv.watchNamespaces]: `set ${ConfigEnv.watchNamespaces} to comma-separated namespace names, e.g. layer,team-a, or unset it to reconcile every namespace`,
};

export interface LoadConfigOptions {
  /** The running `layer dev up` environment; default: read from $LAYER_STATE_DIR / ./.layer/dev. */
  devState?: DevState | null;
}

/** An env var's value, with blank treated as unset (Kubernetes renders absent values as ""). */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
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
  const dev =
    opts.devState === undefined ? readDevStateSafely(devStateDir(env)) : (opts.devState ?? undefined);
  const kubeconfig = read(env, ConfigEnv.kubeconfig) ?? dev?.kube?.kubeconfigPath;
  const serviceHost = !!read(env, ConfigEnv.kubernetesServiceHost);
  const inCluster = serviceHost && existsSync(IN_CLUSTER_TOKEN_PATH);
  const raw = {
    temporal: {
      address: read(env, ConfigEnv.temporalAddress) ?? dev?.temporal.address ?? DEFAULT_TEMPORAL_ADDRESS,
      namespace:
        read(env, ConfigEnv.temporalNamespace) ??
        (dev && !read(env, ConfigEnv.temporalAddress) ? dev.temporal.namespace : 'default'),
      taskQueue: read(env, ConfigEnv.taskQueue) ?? ORCHESTRATOR_TASK_QUEUE,
      // The dev env's UI only belongs with the dev env's server.
      uiUrl:
        read(env, ConfigEnv.temporalUiUrl) ??
        (dev && !read(env, ConfigEnv.temporalAddress) ? dev.temporal.uiUrl : undefined),
      apiKey: read(env, ConfigEnv.temporalApiKey),
      tls: temporalTls(env),
    },
    store: {
      url: read(env, ConfigEnv.storeUrl) ?? dev?.store?.url ?? DEFAULT_STORE_URL,
      apiKey: read(env, ConfigEnv.storeApiKey),
    },
    api: {
      port: read(env, ConfigEnv.apiPort) ?? DEFAULT_API_PORT,
      // In a pod the API must be reachable from KEDA and workers; locally keep it private. Only
      // a mounted token makes it a pod: without one the API would be open on every interface.
      host: read(env, ConfigEnv.apiHost) ?? (inCluster ? '0.0.0.0' : '127.0.0.1'),
      vectorStore: read(env, ConfigEnv.vectorStore),
      open: read(env, ConfigEnv.apiOpen) ?? 'false',
    },
    payloads: {
      bucket: read(env, ConfigEnv.payloadBucket),
      prefix: read(env, ConfigEnv.payloadPrefix) ?? 'layer-payloads/',
      thresholdBytes: read(env, ConfigEnv.payloadThresholdBytes) ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES,
    },
    push: { maxAnswerBytes: read(env, ConfigEnv.pushMaxAnswerBytes) ?? DEFAULT_PUSH_MAX_ANSWER_BYTES },
    operator: {
      workerTemporalAddress:
        read(env, ConfigEnv.workerTemporalAddress) ??
        read(env, ConfigEnv.temporalAddress) ??
        dev?.temporal.address ??
        DEFAULT_TEMPORAL_ADDRESS,
      apiBaseUrl: read(env, ConfigEnv.operatorApiUrl),
      workerStoreUrl: read(env, ConfigEnv.workerStoreUrl),
      workerTemporalNamespace: read(env, ConfigEnv.workerTemporalNamespace),
      workerTemporalApiKeySecret: read(env, ConfigEnv.workerTemporalApiKeySecretName)
        ? {
            name: read(env, ConfigEnv.workerTemporalApiKeySecretName),
            key: read(env, ConfigEnv.workerTemporalApiKeySecretKey) ?? 'api-key',
          }
        : undefined,
      workerTemporalTls: read(env, ConfigEnv.workerTemporalTls),
      keda: {
        pollingIntervalSeconds: read(env, ConfigEnv.kedaPollingIntervalSeconds),
        cooldownPeriodSeconds: read(env, ConfigEnv.kedaCooldownPeriodSeconds),
        targetQueueDepthPerReplica: read(env, ConfigEnv.kedaTargetQueueDepthPerReplica),
      },
      releaseSecretName: read(env, ConfigEnv.releaseSecretName),
      watchNamespaces: read(env, ConfigEnv.watchNamespaces)
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean),
      leaderElection: {
        enabled: read(env, ConfigEnv.leaderElect) ?? String(inCluster),
        namespace:
          read(env, ConfigEnv.leaderElectionNamespace) ??
          (inCluster ? readFileQuietly(IN_CLUSTER_NAMESPACE_PATH) : undefined) ??
          'default',
        name: read(env, ConfigEnv.leaderElectionId) ?? 'layer-operator',
      },
      indexDiscovery: {
        enabled: read(env, ConfigEnv.indexDiscovery) ?? 'false',
        namespace:
          read(env, ConfigEnv.indexDiscoveryNamespace) ??
          read(env, ConfigEnv.leaderElectionNamespace) ??
          (inCluster ? readFileQuietly(IN_CLUSTER_NAMESPACE_PATH) : undefined) ??
          'default',
        intervalSeconds: read(env, ConfigEnv.indexDiscoveryIntervalSeconds) ?? 60,
        gc: read(env, ConfigEnv.indexGc) ?? 'false',
      },
    },
    kube: { kubeconfig, inCluster, serviceHostWithoutToken: serviceHost && !inCluster },
  };
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  // A list's element (operator.watchNamespaces.1) is reported under the list's variable.
  const name = envOfPath[path] ?? envOfPath[path.replace(/(\.\d+)+$/, '')] ?? path;
  const value = path
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw);
  throw new InvalidInputError(
    name,
    `${issue.message} (got ${JSON.stringify(value)})`,
    hintOfEnv[name] ?? `fix ${name}`,
  );
}

/**
 * TLS settings from the Temporal SDKs' variables: on with TEMPORAL_TLS=true, an API key or any TLS
 * file; off with TEMPORAL_TLS=false (a plain connection even with an API key).
 */
function temporalTls(env: NodeJS.ProcessEnv): Record<string, string | undefined> | undefined {
  const flag = read(env, ConfigEnv.temporalTls);
  if (flag !== undefined && flag !== 'true' && flag !== 'false') {
    throw new InvalidInputError(
      ConfigEnv.temporalTls,
      `expected true or false (got ${JSON.stringify(flag)})`,
      hintOfEnv[ConfigEnv.temporalTls]!,
    );
  }
  const files = {
    clientCertPath: read(env, ConfigEnv.temporalTlsClientCertPath),
    clientKeyPath: read(env, ConfigEnv.temporalTlsClientKeyPath),
    serverCaCertPath: read(env, ConfigEnv.temporalTlsServerCaCertPath),
    serverName: read(env, ConfigEnv.temporalTlsServerName),
  };
  const any = Object.values(files).some(Boolean) || !!read(env, ConfigEnv.temporalApiKey);
  if (flag === 'false' || (flag === undefined && !any)) return undefined;
  return files;
}

function readFileQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A corrupt state file must not stop commands that do not need the dev env. */
function readDevStateSafely(stateDir: string): DevState | undefined {
  try {
    return readDevState(stateDir);
  } catch {
    return undefined;
  }
}
