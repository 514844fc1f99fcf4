// What the planner needs to know about the operator's environment: where Temporal and the
// orchestrator API are, and which Secret holds the bearer workers and KEDA send. Parsed once at
// the entry point (the operator's config loader, or `layer render` flags); the planner only reads.
import { z } from 'zod';
import { inboundAuthModeSchema } from '../api/vector-store.js';
import { DEFAULT_WORKER_SECRET_KEY } from '../api/vector-store.js';
import { secretKeyRefSchema, type SecretKeyRef } from '../api/common.js';
import type { VectorStore } from '../api/vector-store.js';

/** Name of the Helm release Secret (release name `layer` in install.md). */
export const DEFAULT_RELEASE_SECRET_NAME = 'layer';
/** Key of the upstream store credential the chart renders into the release Secret. */
export const DEFAULT_STORE_CREDENTIAL_KEY = 'vector-store-api-key';

export const operatorSettingsSchema = z.object({
  temporal: z
    .object({
      address: z.string().min(1).default('layer-temporal-frontend.layer.svc:7233'),
      namespace: z.string().min(1).default('default'),
      /** Secret key with a Temporal API key; worker pods get it as LAYER_TEMPORAL_API_KEY. */
      apiKeySecretRef: secretKeyRefSchema.optional(),
      /** TLS to the frontend without a client certificate (implied by an API key). */
      tls: z.boolean().optional(),
    })
    .prefault({}),
  /**
   * The orchestrator's S3 payload codec; worker pods get the same LAYER_PAYLOAD_* variables so
   * they decode and encode what the orchestrator does (absent: payloads stay in history).
   */
  payloads: z
    .object({
      bucket: z.string().min(1),
      prefix: z.string().min(1).default('layer-payloads/'),
      thresholdBytes: z.int().min(1).optional(),
    })
    .optional(),
  /** Orchestrator HTTP API base URL, reachable from worker pods and from KEDA. */
  apiBaseUrl: z.url().default('http://layer-orchestrator.layer.svc:8080'),
  /**
   * Turbopuffer-compatible base URL pull workers read rows from and write outputs to: the hev
   * layer gateway (install.md), authenticated with the worker bearer.
   */
  storeUrl: z.url().default('http://layer-gateway.layer.svc:8080'),
  inboundAuth: z
    .object({
      mode: inboundAuthModeSchema.default('deriveFromStore'),
      /** keys mode: Secret with the worker bearer; empty uses releaseSecretName. */
      workerSecretName: z.string().optional(),
      workerSecretKey: z.string().min(1).default(DEFAULT_WORKER_SECRET_KEY),
      /** deriveFromStore mode: the upstream credential, which is also the gateway bearer. */
      storeCredential: secretKeyRefSchema.optional(),
    })
    .prefault({}),
  releaseSecretName: z.string().min(1).default(DEFAULT_RELEASE_SECRET_NAME),
  keda: z
    .object({
      pollingIntervalSeconds: z.int().min(1).default(15),
      cooldownPeriodSeconds: z.int().min(0).default(300),
      /** Queued batches per replica KEDA aims for (the trigger's target, AverageValue). */
      targetQueueDepthPerReplica: z.int().min(1).default(1),
      /**
       * host:port of the operator's KEDA external-push scaler as KEDA reaches it: set, the
       * ScaledObjects use the `external-push` trigger and KEDA activates a workload the moment
       * its queue depth leaves 0 (docs/adr/0131); unset, the `metrics-api` trigger polls the HTTP API.
       */
      scalerAddress: z
        .string()
        .regex(/^[^\s:/]+:\d+$/, 'expected host:port, e.g. layer-orchestrator.layer.svc:9090')
        .optional(),
    })
    .prefault({}),
});
export type OperatorSettings = z.infer<typeof operatorSettingsSchema>;
export type OperatorSettingsInput = z.input<typeof operatorSettingsSchema>;

/** Settings with every default filled in (for tests and `layer render`). */
export function operatorSettings(input: OperatorSettingsInput = {}): OperatorSettings {
  return operatorSettingsSchema.parse(input);
}

/** Copy a VectorStore's inbound auth policy into the settings (it decides the worker bearer). */
export function withVectorStore(settings: OperatorSettings, store: VectorStore): OperatorSettings {
  const auth = store.spec.inboundAuth;
  return {
    ...settings,
    inboundAuth: {
      mode: auth.mode,
      workerSecretName: auth.workerSecretName,
      workerSecretKey: auth.workerSecretKey,
      storeCredential: store.spec.credential.secretRef,
    },
  };
}

/**
 * The Secret key workers and KEDA send as their bearer to the orchestrator API, or undefined when
 * inbound auth is open. keys mode: the worker key (blank name → release Secret). deriveFromStore:
 * the upstream store credential, because in that mode it is the gateway bearer (install.md).
 */
export function workerBearerSecret(settings: OperatorSettings): SecretKeyRef | undefined {
  const auth = settings.inboundAuth;
  switch (auth.mode) {
    case 'open':
      return undefined;
    case 'keys':
      return { name: auth.workerSecretName || settings.releaseSecretName, key: auth.workerSecretKey };
    case 'deriveFromStore':
      return auth.storeCredential ?? { name: settings.releaseSecretName, key: DEFAULT_STORE_CREDENTIAL_KEY };
  }
}
