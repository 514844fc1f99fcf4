// The environment of a worker container: ONE schema that the operator's planner writes
// (src/operator/plan-pod.ts renders these variables into the worker Deployment) and the SDK reads
// (runWorker, runFunctionWorker, runPipelineWorker). Kubernetes env values are strings; numbers are
// decimal, booleans `true`/`false` (never coerced: "false" must stay false).
//
// Temporal connection variables: the operator writes the LAYER_TEMPORAL_* names; the SDK also
// accepts the Temporal SDKs' standard client variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
// TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME), so a worker run by hand against
// Temporal Cloud is configured the way every Temporal client is. A LAYER_* value wins.
import { z } from 'zod';
import { WorkerEnv } from './contracts/names.js';

export { WorkerEnv };

/** The Temporal SDKs' environment configuration names (docs.temporal.io, client environment configuration). */
export const TemporalEnv = {
  address: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  apiKey: 'TEMPORAL_API_KEY',
  tls: 'TEMPORAL_TLS',
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
} as const;

/** Payload codec variables, the same the orchestrator reads (src/config.ts). */
export const PayloadEnv = {
  bucket: 'LAYER_PAYLOAD_BUCKET',
  prefix: 'LAYER_PAYLOAD_PREFIX',
  thresholdBytes: 'LAYER_PAYLOAD_THRESHOLD_BYTES',
} as const;

export const DEFAULT_WORKER_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_PUSH_PORT = 8080;
export const DEFAULT_WORKER_CONCURRENCY = 4;
export const DEFAULT_PAYLOAD_PREFIX = 'layer-payloads/';

const text = z.string().trim().min(1);
const positiveInt = z
  .string()
  .trim()
  .regex(/^[1-9][0-9]*$/, 'a positive whole number')
  .transform(Number);
const CONCURRENCY_MESSAGE = 'expected a whole number from 1 to 1000 (claims run at once)';
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * A worker pod's environment, variable by variable. Every variable is optional so that a worker
 * run by hand needs only what it uses; `loadWorkerEnv` fills defaults and says what is missing.
 */
export const workerEnvSchema = z.object({
  [WorkerEnv.temporalAddress]: text
    .optional()
    .describe('Temporal frontend host:port (else TEMPORAL_ADDRESS, else localhost:7233)'),
  [WorkerEnv.temporalNamespace]: text
    .optional()
    .describe('Temporal namespace (else TEMPORAL_NAMESPACE, else default)'),
  [WorkerEnv.temporalApiKey]: text
    .optional()
    .describe('Temporal API key, from a Secret (else TEMPORAL_API_KEY); implies TLS'),
  [TemporalEnv.address]: text.optional(),
  [TemporalEnv.namespace]: text.optional(),
  [TemporalEnv.apiKey]: text.optional(),
  [TemporalEnv.tls]: bool
    .optional()
    .describe('true: TLS without a client certificate; false: plain even with an API key'),
  [TemporalEnv.clientCertPath]: text.optional().describe('mTLS client certificate (PEM file)'),
  [TemporalEnv.clientKeyPath]: text.optional().describe('mTLS client key (PEM file)'),
  [TemporalEnv.serverCaCertPath]: text.optional().describe('CA of the Temporal frontend (PEM file)'),
  [TemporalEnv.serverName]: text.optional().describe('TLS server name (SNI) override'),
  [WorkerEnv.taskQueue]: text.optional().describe('task queue; else derived from kind, namespace and name'),
  [WorkerEnv.workloadKind]: z.enum(['Function', 'Pipeline']).optional(),
  [WorkerEnv.workloadNamespace]: text.optional().describe('Kubernetes namespace of the workload CR'),
  [WorkerEnv.workloadName]: text.optional(),
  [WorkerEnv.dispatch]: z
    .enum(['pull', 'push'])
    .optional()
    .describe('pull (poll the task queue) or push (serve HTTP)'),
  [WorkerEnv.port]: positiveInt.optional().describe('port a push worker listens on (default 8080)'),
  [WorkerEnv.batchSize]: positiveInt.optional(),
  [WorkerEnv.timeoutSeconds]: positiveInt.optional(),
  [WorkerEnv.concurrency]: z
    .string()
    .trim()
    .regex(/^[0-9]+$/, CONCURRENCY_MESSAGE)
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, CONCURRENCY_MESSAGE)
    .optional()
    .describe('claims run at once (the operator sets maxInFlightBatches)'),
  [WorkerEnv.apiBaseUrl]: z.url().optional().describe('orchestrator HTTP API'),
  [WorkerEnv.apiKey]: text.optional(),
  [WorkerEnv.storeUrl]: z
    .url()
    .optional()
    .describe(
      'In a worker: the Turbopuffer-compatible endpoint it reads rows from and writes to — the hev layer gateway, ' +
        'not the upstream store (the orchestrator reads the same name as the upstream store; the name is kept for compatibility).',
    ),
  [WorkerEnv.storeApiKey]: text.optional().describe('bearer for LAYER_STORE_URL (the worker bearer)'),
  [WorkerEnv.targetNamespace]: text.optional().describe('Pipeline: Turbopuffer namespace written'),
  [WorkerEnv.sourceRef]: text.optional().describe('Pipeline: spec.sourceRef as JSON'),
  [PayloadEnv.bucket]: text
    .optional()
    .describe('S3 bucket of the payload codec (must match the orchestrator)'),
  [PayloadEnv.prefix]: text.optional(),
  [PayloadEnv.thresholdBytes]: positiveInt.optional(),
});
export type WorkerEnvVars = z.input<typeof workerEnvSchema>;

/** What a worker process needs, resolved from its environment. */
export interface WorkerSettings {
  temporal: {
    address: string;
    namespace: string;
    apiKey?: string;
    /** undefined: plain connection. */
    tls?: { clientCertPath?: string; clientKeyPath?: string; serverCaCertPath?: string; serverName?: string };
  };
  workload: { kind?: 'Function' | 'Pipeline'; k8sNamespace?: string; name?: string; taskQueue?: string };
  dispatch: 'pull' | 'push';
  port: number;
  concurrency?: number;
  batchSize?: number;
  timeoutSeconds?: number;
  apiBaseUrl?: string;
  store?: { url: string; apiKey?: string };
  targetNamespace?: string;
  sourceRef?: unknown;
  payloads?: { bucket: string; prefix: string; thresholdBytes?: number };
}

/** A worker environment that does not parse: names each variable and what it should be. */
export class WorkerEnvError extends Error {
  constructor(
    message: string,
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'WorkerEnvError';
  }
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads a worker's environment (default process.env) into settings.
 *
 * @example
 * const settings = loadWorkerEnv({ LAYER_DISPATCH: 'push', LAYER_PORT: '9000' });
 * settings.port; // 9000
 */
export function loadWorkerEnv(env: Record<string, string | undefined> = process.env): WorkerSettings {
  const known = Object.keys(workerEnvSchema.shape);
  const picked = Object.fromEntries(
    known.map((k) => [k, env[k]?.trim() ? env[k] : undefined]).filter(([, v]) => v !== undefined),
  );
  const parsed = workerEnvSchema.safeParse(picked);
  if (!parsed.success) {
    const vars = parsed.error.issues.map((i) => String(i.path[0]));
    throw new WorkerEnvError(
      `invalid worker environment: ${parsed.error.issues
        .map((i) => `${String(i.path[0])}=${String(picked[String(i.path[0])])}: ${i.message}`)
        .join('; ')}`,
      vars,
    );
  }
  const e = parsed.data;
  const apiKey = e[WorkerEnv.temporalApiKey] ?? e[TemporalEnv.apiKey];
  const certPath = e[TemporalEnv.clientCertPath];
  const keyPath = e[TemporalEnv.clientKeyPath];
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new WorkerEnvError(
      `set both ${TemporalEnv.clientCertPath} and ${TemporalEnv.clientKeyPath} (mTLS), or neither`,
      [TemporalEnv.clientCertPath, TemporalEnv.clientKeyPath],
    );
  }
  const tlsFiles = definedOnly({
    clientCertPath: certPath,
    clientKeyPath: keyPath,
    serverCaCertPath: e[TemporalEnv.serverCaCertPath],
    serverName: e[TemporalEnv.serverName],
  });
  // As the Temporal SDKs do: TLS when asked, when TLS files are given, or with an API key —
  // unless TEMPORAL_TLS=false says otherwise.
  const tlsOn = e[TemporalEnv.tls] ?? (Boolean(apiKey) || Object.keys(tlsFiles).length > 0);
  const storeUrl = e[WorkerEnv.storeUrl] ?? e[WorkerEnv.apiBaseUrl];
  const storeKey = e[WorkerEnv.storeApiKey] ?? e[WorkerEnv.apiKey];
  const bucket = e[PayloadEnv.bucket];
  const sourceRef = e[WorkerEnv.sourceRef];
  let parsedSourceRef: unknown;
  if (sourceRef !== undefined) {
    try {
      parsedSourceRef = JSON.parse(sourceRef);
    } catch {
      throw new WorkerEnvError(`${WorkerEnv.sourceRef} must be JSON (the Pipeline's spec.sourceRef)`, [
        WorkerEnv.sourceRef,
      ]);
    }
  }
  return definedOnly<WorkerSettings>({
    temporal: definedOnly({
      address: e[WorkerEnv.temporalAddress] ?? e[TemporalEnv.address] ?? DEFAULT_WORKER_TEMPORAL_ADDRESS,
      namespace: e[WorkerEnv.temporalNamespace] ?? e[TemporalEnv.namespace] ?? 'default',
      apiKey,
      tls: tlsOn ? tlsFiles : undefined,
    }),
    workload: definedOnly({
      kind: e[WorkerEnv.workloadKind],
      k8sNamespace: e[WorkerEnv.workloadNamespace],
      name: e[WorkerEnv.workloadName],
      taskQueue: e[WorkerEnv.taskQueue],
    }),
    dispatch: e[WorkerEnv.dispatch] ?? 'pull',
    port: e[WorkerEnv.port] ?? DEFAULT_PUSH_PORT,
    concurrency: e[WorkerEnv.concurrency],
    batchSize: e[WorkerEnv.batchSize],
    timeoutSeconds: e[WorkerEnv.timeoutSeconds],
    apiBaseUrl: e[WorkerEnv.apiBaseUrl],
    store: storeUrl ? definedOnly({ url: storeUrl, apiKey: storeKey }) : undefined,
    targetNamespace: e[WorkerEnv.targetNamespace],
    sourceRef: parsedSourceRef,
    payloads: bucket
      ? definedOnly({
          bucket,
          prefix: e[PayloadEnv.prefix] ?? DEFAULT_PAYLOAD_PREFIX,
          thresholdBytes: e[PayloadEnv.thresholdBytes],
        })
      : undefined,
  });
}
