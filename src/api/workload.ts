// The envelopes Pipeline and Function share (pipeline-crd.md: "Pipeline and Function resources
// share the same spec.worker and spec.scaling envelopes"), and the status both report.
import { z } from 'zod';
import {
  conditionsSchema,
  DNS_LABEL_RE,
  observedGenerationSchema,
  openObject,
  refineIssue,
} from './common.js';

/** Defaults the seeds imply (the Function seed's values); documented on each field. */
export const WORKER_DEFAULTS = { dispatch: 'pull', port: 8080, batchSize: 32, timeoutSeconds: 30 } as const;
const SCALING_DEFAULTS = { mode: 'autoscale', min: 0, max: 1 } as const;

const computeClassSchema = z
  .enum(['cpu', 'gpu'])
  .describe(
    'Stock pool class used when scaling.pool is empty: cpu selects the stock cpu pool, gpu the stock gpu pool. ' +
      'With neither set the workload runs on the cpu pool.',
  );

const rateLimitSchema = z
  .strictObject({
    key: z
      .string()
      .min(1)
      .max(63)
      .regex(DNS_LABEL_RE, 'must be a key name (lowercase letters, digits and -), e.g. openai')
      .describe(
        'Name of the shared budget. Every Function and Pipeline in this Kubernetes namespace with the same key ' +
          'shares one budget across all their workers and replicas (e.g. one provider API quota).',
      ),
    requestsPerSecond: z
      .number()
      .min(0.001)
      .max(100000)
      .optional()
      .describe('Handler calls (batches) per second the key allows, all its workloads together.'),
    rowsPerMinute: z
      .number()
      .min(1)
      .max(100000000)
      .optional()
      .describe('Rows (Function) or items (Pipeline) per minute the key allows, all its workloads together.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.requestsPerSecond) || has(self.rowsPerMinute)',
        message: 'worker.rateLimit needs requestsPerSecond, rowsPerMinute or both',
      },
    ],
  })
  .superRefine((r, ctx) => {
    if (r.requestsPerSecond === undefined && r.rowsPerMinute === undefined)
      refineIssue(
        ctx,
        ['requestsPerSecond'],
        'set requestsPerSecond, rowsPerMinute or both',
        'add worker.rateLimit.requestsPerSecond (calls/s) and/or worker.rateLimit.rowsPerMinute (rows/min), positive numbers',
      );
  })
  .describe(
    'A rate limit shared by key: workers ask the orchestrator for a permit before each handler call, and a 429 ' +
      '(Retry-After honoured) slows the shared budget down, recovering gradually. The workloads under one key ' +
      'get the strictest budget any of them declares.',
  );

export const workerSchema = z
  .strictObject({
    image: z.string().min(1).describe('Worker container image.'),
    dispatch: z
      .enum(['pull', 'push'])
      .default(WORKER_DEFAULTS.dispatch)
      .describe(
        'pull: SDK workers claim batches by polling their task queue (Deployment only). ' +
          'push: HTTP workers serve POST /run on worker.port (Deployment, Service and readiness probe).',
      ),
    port: z
      .int()
      .min(1)
      .max(65535)
      .default(WORKER_DEFAULTS.port)
      .describe('Port a push worker serves on; the Service and readiness probe use it. Ignored for pull.'),
    batchSize: z
      .int()
      .min(1)
      .max(10000)
      .default(WORKER_DEFAULTS.batchSize)
      .describe('Rows (Function) or work items (Pipeline) per batch.'),
    timeoutSeconds: z
      .int()
      .min(1)
      .max(86400)
      .default(WORKER_DEFAULTS.timeoutSeconds)
      .describe('Worker call timeout in seconds; a batch not finished in time is retried.'),
    computeClass: computeClassSchema.optional(),
    podSpec: openObject()
      .optional()
      .describe(
        'Optional pod-level JSON merge patch (RFC 7386) applied last to the worker PodSpec the operator builds. ' +
          'Lists such as containers are replaced whole; null deletes a field.',
      ),
    rateLimit: rateLimitSchema.optional(),
  })
  .describe('The worker the operator runs for this workload.');
export type Worker = z.infer<typeof workerSchema>;

const scalingModeSchema = z
  .enum(['autoscale', 'fixed', 'disabled'])
  .describe(
    'autoscale: a KEDA ScaledObject scales the Deployment between replicas.min and replicas.max on queue depth. ' +
      'fixed: replicas.min replicas, no ScaledObject. disabled: 0 replicas, no ScaledObject.',
  );

const replicasSchema = z
  .strictObject({
    min: z
      .int()
      .min(0)
      .max(1000)
      .default(SCALING_DEFAULTS.min)
      .describe('Lowest replica count (0 allows scale to zero).'),
    max: z
      .int()
      .min(1)
      .max(1000)
      .default(SCALING_DEFAULTS.max)
      .describe("Highest replica count; must not exceed the pool's maxReplicasPerWorkload."),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'self.min <= self.max', message: 'replicas.min must be <= replicas.max' },
    ],
  })
  .superRefine((r, ctx) => {
    if (r.min > r.max)
      refineIssue(
        ctx,
        ['min'],
        `min (${r.min}) is greater than max (${r.max})`,
        'lower replicas.min or raise replicas.max',
      );
  })
  .describe('Replica bounds.');

export const scalingSchema = z
  .strictObject({
    pool: z
      .string()
      .max(63)
      .regex(DNS_LABEL_RE, 'must be a pool name (lowercase letters, digits and -)')
      .optional()
      .describe(
        'Compute pool in InfraRules/default.spec.computePools. Empty: the stock pool for worker.computeClass.',
      ),
    mode: scalingModeSchema.default(SCALING_DEFAULTS.mode),
    // Full default values, not {}: the apiserver checks a default against the CEL rules as written.
    replicas: replicasSchema.prefault({ min: SCALING_DEFAULTS.min, max: SCALING_DEFAULTS.max }),
  })
  .describe('How many workers run and where (inline; there is no separate autoscaling resource).');

export const pausedSchema = z
  .boolean()
  .default(false)
  .describe('true scales the worker to zero and removes its ScaledObject until set back to false.');

const managedObjectSchema = z
  .strictObject({
    apiVersion: z.string().describe('API version of the object.'),
    kind: z.string().describe('Kind of the object.'),
    name: z.string().describe('Name of the object, in the workload namespace.'),
  })
  .describe('An object the operator created for this workload.');

export const workloadStatusSchema = z
  .strictObject({
    observedGeneration: observedGenerationSchema.optional(),
    conditions: conditionsSchema.optional(),
    pool: z.string().optional().describe('Compute pool the workload resolved to.'),
    taskQueue: z.string().optional().describe('Temporal task queue of the workload.'),
    phase: z
      .string()
      .max(64)
      .optional()
      .describe("The workflow's phase as last seen: running, paused, degraded, …."),
    pendingRows: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Rows (Functions) or items (Pipelines) still to do, as last seen.'),
    managedObjects: z
      .array(managedObjectSchema)
      .max(8)
      .optional()
      .describe('Objects the operator manages for this workload (deleted with it by garbage collection).'),
  })
  .describe('Observed state, written by the operator.');
