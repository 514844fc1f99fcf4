// VectorStore: the upstream store endpoint, its credential, and the gateway's inbound auth policy
// (install.md "Install shape" and "Gateway auth modes"; operator-overview.md).
import { z } from 'zod';
import { API_VERSION } from './group.js';
import {
  conditionsSchema,
  objectMetaSchema,
  observedGenerationSchema,
  secretKeyRefSchema,
  refineIssue,
} from './common.js';

/** Turbopuffer's AWS us-east-1 endpoint: the Helm default for vectorStore.endpoint.url. */
export const DEFAULT_STORE_URL = 'https://aws-us-east-1.turbopuffer.com';
/** Default key of the worker bearer in the worker Secret (install.md). */
export const DEFAULT_WORKER_SECRET_KEY = 'layer-inbound-worker-api-key';

export const inboundAuthModeSchema = z
  .enum(['deriveFromStore', 'keys', 'open'])
  .describe(
    'deriveFromStore: clients send the upstream store credential as the gateway bearer (single-tenant default). ' +
      'keys: gateway-only bearer keys with scopes. open: no inbound auth.',
  );

const inboundKeySchema = z
  .strictObject({
    name: z.string().min(1).max(63).describe('Key name, e.g. worker.'),
    scopes: z
      .array(z.enum(['read', 'write', 'admin']))
      .min(1)
      .max(3)
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('What the key may do: read, write and/or admin.'),
    apiKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Literal key, for charts that render it; prefer secretRef so the key lives only in a Secret.',
      ),
    secretRef: z
      .strictObject({
        name: z.string().optional().describe('Secret name; empty uses the release Secret.'),
        key: z.string().min(1).describe('Key inside the Secret.'),
      })
      .optional()
      .describe('Secret key holding the bearer key.'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'has(self.apiKey) || has(self.secretRef)', message: 'set apiKey or secretRef' },
    ],
  })
  .superRefine((k, ctx) => {
    if (k.apiKey === undefined && k.secretRef === undefined) {
      refineIssue(
        ctx,
        ['secretRef'],
        'a key needs apiKey or secretRef',
        'add secretRef (preferred) or apiKey',
      );
    }
  })
  .describe('A gateway-only bearer key.');

export const inboundAuthSchema = z
  .strictObject({
    mode: inboundAuthModeSchema.default('deriveFromStore'),
    keys: z
      .array(inboundKeySchema)
      .max(32)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .describe('Bearer keys for keys mode.'),
    workerSecretName: z
      .string()
      .optional()
      .describe(
        'Secret holding the bearer workers, KEDA and the dashboard use in keys mode; empty: the release Secret.',
      ),
    workerSecretKey: z
      .string()
      .min(1)
      .default(DEFAULT_WORKER_SECRET_KEY)
      .describe('Key of the worker bearer in that Secret.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "self.mode != 'keys' || (has(self.keys) && size(self.keys) > 0)",
        message: 'keys mode needs at least one key',
      },
    ],
  })
  .superRefine((a, ctx) => {
    if (a.mode === 'keys' && (a.keys ?? []).length === 0) {
      refineIssue(
        ctx,
        ['keys'],
        'keys mode needs at least one key',
        'add inboundAuth.keys or choose mode deriveFromStore or open',
      );
    }
  })
  .describe('How the gateway authenticates its clients.');

export const vectorStoreSpecSchema = z
  .strictObject({
    endpoint: z
      .strictObject({
        url: z
          .url()
          .default(DEFAULT_STORE_URL)
          .describe("Upstream store API base URL (default: Turbopuffer's AWS us-east-1)."),
        region: z.string().min(1).max(63).describe('Region label, e.g. aws-us-east-1.'),
      })
      .describe('Where the upstream store is.'),
    credential: z
      .strictObject({
        secretRef: secretKeyRefSchema.describe('Secret key holding the upstream API key.'),
      })
      .describe('Upstream store credential, by Secret reference only.'),
    // Full default values, not {}: the apiserver checks a default against the CEL rules as written.
    inboundAuth: inboundAuthSchema.prefault({
      mode: 'deriveFromStore',
      workerSecretKey: DEFAULT_WORKER_SECRET_KEY,
    }),
  })
  .describe('Desired state of a VectorStore.');

export const vectorStoreStatusSchema = z
  .strictObject({
    observedGeneration: observedGenerationSchema.optional(),
    conditions: conditionsSchema.optional(),
  })
  .describe('Observed state, written by the operator.');

export const vectorStoreSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('VectorStore'),
  metadata: objectMetaSchema,
  spec: vectorStoreSpecSchema,
  status: vectorStoreStatusSchema.optional(),
});
export type VectorStore = z.infer<typeof vectorStoreSchema>;
