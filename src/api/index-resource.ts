// Index: one resource per Turbopuffer namespace the gateway manages (operator-overview.md;
// install.md names spec.backend.storeRef, spec.snapshot.facetFields and spec.scan.threads).
// The file is not called index.ts because that name is the module's entry point.
import { z } from 'zod';
import { API_VERSION } from './group.js';
import { conditionsSchema, objectMetaSchema, observedGenerationSchema } from './common.js';

export const indexSpecSchema = z
  .strictObject({
    namespace: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Turbopuffer namespace this Index manages; empty: metadata.name.'),
    backend: z
      .strictObject({
        storeRef: z
          .strictObject({ name: z.string().min(1).max(253).describe('VectorStore name.') })
          .optional()
          .describe('VectorStore serving this namespace; empty: the default VectorStore.'),
      })
      .optional()
      .describe('Which upstream store serves the namespace.'),
    snapshot: z
      .strictObject({
        facetFields: z
          .array(z.string().min(1).max(128))
          .max(64)
          .optional()
          .meta({ 'x-kubernetes-list-type': 'set' })
          .describe('Attributes the gateway precomputes facet counts for in snapshots.'),
      })
      .optional()
      .describe('Snapshot policy.'),
    scan: z
      .strictObject({
        threads: z
          .int()
          .min(1)
          .max(256)
          .optional()
          .describe('Parallel scan threads the gateway uses for this namespace.'),
      })
      .optional()
      .describe('Scan policy.'),
  })
  .describe('Desired state of an Index.');

export const indexStatusSchema = z
  .strictObject({
    observedGeneration: observedGenerationSchema.optional(),
    conditions: conditionsSchema.optional(),
  })
  .describe('Observed state, written by the operator.');

export const indexSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Index'),
  metadata: objectMetaSchema,
  spec: indexSpecSchema.prefault({}),
  status: indexStatusSchema.optional(),
});
export type LayerIndex = z.infer<typeof indexSchema>;
