// Pipeline: worker-owned indexing work whose row count can change (pipeline-crd.md).
import { z } from 'zod';
import { API_VERSION } from './group.js';
import { objectMetaSchema, openObject } from './common.js';
import { pausedSchema, scalingSchema, workerSchema, workloadStatusSchema } from './workload.js';

export const pipelineSpecSchema = z
  .strictObject({
    target: z
      .strictObject({
        namespace: z.string().min(1).max(128).describe('Turbopuffer namespace the pipeline writes.'),
      })
      .describe('Where the pipeline writes; the gateway pipeline API owns document state for it.'),
    sourceRef: openObject()
      .optional()
      .describe(
        'Open JSON naming the external source that feeds the worker (SQS, Kafka, S3 events, ...). ' +
          'Kept exactly as written and passed to the worker; the worker image owns its meaning.',
      ),
    worker: workerSchema,
    scaling: scalingSchema.prefault({}),
    paused: pausedSchema,
  })
  .describe('Desired state of a Pipeline.');

export const pipelineStatusSchema = workloadStatusSchema;

export const pipelineSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Pipeline'),
  metadata: objectMetaSchema,
  spec: pipelineSpecSchema,
  status: pipelineStatusSchema.optional(),
});
export type LayerPipeline = z.infer<typeof pipelineSchema>;
