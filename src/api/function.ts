// Function: row-preserving compute over an Index (function-crd.md). The operator runs its worker;
// the orchestrator owns discovery, queueing, retries, leases and writeback.
import { z } from 'zod';
import { API_VERSION } from './group.js';
import { labelSelectorSchema, objectMetaSchema, openValue, refineIssue } from './common.js';
import { pausedSchema, scalingSchema, workerSchema, workloadStatusSchema } from './workload.js';
import {
  attributeNameProblem,
  namespaceNameProblem,
  outputAttributeProblem,
  ownedAttributes,
} from './store-names.js';

/** Defaults the Function seed implies (its example values). */
const FUNCTION_DEFAULTS = {
  schedule: {
    discoveryIntervalSeconds: 300,
    leaseSeconds: 120,
    maxInFlightBatches: 8,
    maxConcurrentScans: 1,
  },
  retry: { maxAttempts: 8, initialBackoffSeconds: 5, maxBackoffSeconds: 300 },
  triggers: ['discovery'],
} as const;

const functionOutputSchema = z
  .strictObject({
    attribute: z.string().min(1).max(128).describe('Row attribute the worker output is patched onto.'),
    kind: z
      .string()
      .min(1)
      .max(63)
      .describe('What the output is, e.g. tags, text or embedding. embedding requires dim.'),
    version: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe('Output version; rows whose <attribute>_v differs are recomputed (see filter).'),
    dim: z
      .int()
      .min(1)
      .max(65536)
      .optional()
      .describe('Vector length for kind embedding, so consumers can validate shape.'),
    inputFingerprint: z
      .boolean()
      .optional()
      .describe(
        'Also write <attribute>_fp, a hash of the inputs the value was computed from, and re-run rows ' +
          'whose inputs changed since without a version bump. Turning it on re-runs rows that have no ' +
          '<attribute>_fp yet once.',
      ),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "self.kind != 'embedding' || has(self.dim)",
        message: 'output.dim is required when output.kind is embedding',
      },
    ],
  })
  .superRefine((o, ctx) => {
    const attributeProblem = outputAttributeProblem(o.attribute);
    if (attributeProblem) {
      refineIssue(
        ctx,
        ['attribute'],
        `${JSON.stringify(o.attribute)} ${attributeProblem}`,
        'rename output.attribute, e.g. tags or embedding_v2 (the engine also writes <attribute>_v, _error, _fp and __canary)',
      );
    }
    if (o.kind === 'embedding' && o.dim === undefined) {
      refineIssue(
        ctx,
        ['dim'],
        'required when output.kind is embedding',
        'set output.dim to the length of the embedding vectors',
      );
    }
  })
  .describe('Where and what the function writes.');

const functionScheduleSchema = z
  .strictObject({
    discoveryIntervalSeconds: z
      .int()
      .min(1)
      .default(FUNCTION_DEFAULTS.schedule.discoveryIntervalSeconds)
      .describe('Seconds between discovery scans for rows matching filter.'),
    leaseSeconds: z
      .int()
      .min(1)
      .default(FUNCTION_DEFAULTS.schedule.leaseSeconds)
      .describe('Seconds a claimed batch stays leased to one worker before it can be claimed again.'),
    maxInFlightBatches: z
      .int()
      .min(1)
      .default(FUNCTION_DEFAULTS.schedule.maxInFlightBatches)
      .describe('Most batches queued or running at once for this function.'),
    maxConcurrentScans: z
      .int()
      .min(1)
      .default(FUNCTION_DEFAULTS.schedule.maxConcurrentScans)
      .describe('Most namespaces scanned at once during discovery.'),
  })
  .describe('Discovery and batching cadence.');

const functionRetrySchema = z
  .strictObject({
    maxAttempts: z
      .int()
      .min(1)
      .default(FUNCTION_DEFAULTS.retry.maxAttempts)
      .describe('Attempts per batch before its rows are recorded as failed.'),
    initialBackoffSeconds: z
      .int()
      .min(0)
      .default(FUNCTION_DEFAULTS.retry.initialBackoffSeconds)
      .describe('Delay before the first retry; doubles per attempt.'),
    maxBackoffSeconds: z
      .int()
      .min(0)
      .default(FUNCTION_DEFAULTS.retry.maxBackoffSeconds)
      .describe('Upper bound of the retry delay.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'self.initialBackoffSeconds <= self.maxBackoffSeconds',
        message: 'retry.initialBackoffSeconds must be <= retry.maxBackoffSeconds',
      },
    ],
  })
  .superRefine((r, ctx) => {
    if (r.initialBackoffSeconds > r.maxBackoffSeconds) {
      refineIssue(
        ctx,
        ['initialBackoffSeconds'],
        'must be <= maxBackoffSeconds',
        'lower initialBackoffSeconds or raise maxBackoffSeconds',
      );
    }
  })
  .describe('Retry policy for failed batches.');

const functionRolloutSchema = z
  .strictObject({
    canaryRows: z
      .int()
      .min(1)
      .max(10000)
      .describe(
        'When output.version changes, first compute this many sampled rows (a deterministic sample) into ' +
          '<attribute>__canary and wait in phase awaitingPromotion for `layer function promote` or `layer function abort`.',
      ),
  })
  .describe('How a new output.version is rolled out. Absent: over every row at once.');

const functionTriggerSchema = z
  .enum(['discovery'])
  .describe('discovery: periodic scans find rows that match filter.');

export const functionSpecSchema = z
  .strictObject({
    targetNamespaces: z
      .array(z.string().min(1).max(128))
      .max(256)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('Turbopuffer namespaces to run over, listed explicitly. Set this or indexSelector.'),
    indexSelector: labelSelectorSchema
      .optional()
      .describe(
        'Selects Index resources by label; their namespaces are the targets. Set this or targetNamespaces.',
      ),
    inputs: z.array(z.string().min(1).max(128)).min(1).max(64).describe('Row attributes sent to the worker.'),
    output: functionOutputSchema,
    filter: openValue()
      .optional()
      .describe(
        'Optional Turbopuffer filter (any JSON, including array form) limiting which rows are processed. ' +
          'Stored exactly as written and evaluated during discovery.',
      ),
    worker: workerSchema,
    // Full default values, not {}: the apiserver checks a default against the CEL rules as written.
    schedule: functionScheduleSchema.prefault({ ...FUNCTION_DEFAULTS.schedule }),
    retry: functionRetrySchema.prefault({ ...FUNCTION_DEFAULTS.retry }),
    triggers: z
      .array(functionTriggerSchema)
      .max(4)
      .default([...FUNCTION_DEFAULTS.triggers])
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('What starts work for this function.'),
    scaling: scalingSchema.prefault({}),
    paused: pausedSchema,
    rollout: functionRolloutSchema.optional(),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.targetNamespaces) != has(self.indexSelector)',
        message: 'set exactly one of targetNamespaces or indexSelector',
      },
    ],
  })
  .superRefine((s, ctx) => {
    if ((s.targetNamespaces === undefined) === (s.indexSelector === undefined)) {
      refineIssue(
        ctx,
        ['targetNamespaces'],
        'set exactly one of targetNamespaces or indexSelector',
        'keep targetNamespaces (explicit namespaces) or indexSelector (Index labels), not both and not neither',
      );
    }
    (s.targetNamespaces ?? []).forEach((ns, i) => {
      const problem = namespaceNameProblem(ns);
      if (problem)
        refineIssue(
          ctx,
          ['targetNamespaces', i],
          `${JSON.stringify(ns)} ${problem}`,
          'name the store namespace itself, e.g. products (no paths)',
        );
    });
    s.inputs.forEach((attr, i) => {
      const problem = attributeNameProblem(attr);
      if (problem)
        refineIssue(
          ctx,
          ['inputs', i],
          `${JSON.stringify(attr)} ${problem}`,
          'name an attribute the rows carry',
        );
    });
    // The engine's own attributes as inputs: every write changes the input, so with fingerprints
    // every row is recomputed forever.
    if (s.output.inputFingerprint) {
      const owned = new Set(ownedAttributes(s.output.attribute));
      s.inputs.forEach((attr, i) => {
        if (owned.has(attr))
          refineIssue(
            ctx,
            ['inputs', i],
            `${JSON.stringify(attr)} is written by this Function (output.attribute ${s.output.attribute}); with output.inputFingerprint each write changes the inputs and the row is recomputed forever`,
            'remove it from inputs, or set output.inputFingerprint: false',
          );
      });
    }
  })
  .describe('Desired state of a Function.');

const functionPlanStatusSchema = z
  .strictObject({
    rows: z
      .int()
      .nonnegative()
      .optional()
      .describe('Rows the Function would process now, in all target namespaces.'),
    namespaces: z
      .record(z.string(), z.int().nonnegative())
      .optional()
      .describe('Those rows per target namespace (exact counts).'),
    batches: z.int().nonnegative().optional().describe('Batches they make (batches never span namespaces).'),
    batchSize: z.int().min(1).optional(),
    function: z.strictObject({ namespace: z.string(), name: z.string() }).optional(),
    estimate: z
      .strictObject({
        rowsPerSecond: z.number().nonnegative(),
        source: z.enum(['sample', 'given']),
        workers: z.int().nonnegative(),
        batchesInFlight: z.int().nonnegative(),
        seconds: z.number().nonnegative(),
        workerHours: z.number().nonnegative(),
        cost: z.number().nonnegative().optional(),
      })
      .optional()
      .describe('Duration, worker-hours and (with the pool costPerHour hint) cost at the given rate.'),
    estimateMissing: z.string().max(512).optional().describe('Why there is no estimate, and how to get one.'),
    error: z.string().max(1024).optional().describe('Why the rows could not be counted.'),
  })
  .describe('What the Function would do if resumed now; written while spec.paused is true.');

export const functionStatusSchema = workloadStatusSchema.extend({
  plan: functionPlanStatusSchema.optional(),
  outputVersion: z
    .string()
    .max(63)
    .optional()
    .describe(
      'The output.version the workflow was last given. It lags spec.output.version while that waits for the worker rollout.',
    ),
  pendingOutputVersion: z
    .string()
    .max(63)
    .optional()
    .describe(
      'A new spec.output.version held back until the worker Deployment runs no pod of the old build (condition WorkflowReady, reason WaitingForWorkerRollout).',
    ),
});

export const functionSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Function'),
  metadata: objectMetaSchema,
  spec: functionSpecSchema,
  status: functionStatusSchema.optional(),
});
export type LayerFunction = z.infer<typeof functionSchema>;
