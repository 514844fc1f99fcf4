// The Pipeline workflow's own contracts: its runtime spec, what it carries across continue-as-new,
// its status and its messages. What a worker reads (items, documents, the batch and claim
// contract, submission) is packages/worker/src/contracts/pipeline.ts. Sandbox-safe (zod and
// @temporalio/workflow only): the workflow parses its own input with these schemas.
import { z } from 'zod';
import { sharedSchema } from '../../packages/worker/src/contracts/shared-schema.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { rateLimitRuntimeSchema } from '../../packages/worker/src/contracts/rate-limit.js';
import { pipelineItemSchema } from '../../packages/worker/src/contracts/pipeline.js';
import { envelopeCarriedSchema, type DegradedStatus } from './envelope-state.js';
import { workloadObservationsSchema, type WorkloadObservations } from './observations.js';

const runtimeWorkerSchema = sharedSchema('pipeline.runtimeWorker', () =>
  z.object({
    dispatch: z.enum(['pull', 'push']).default('pull'),
    batchSize: z.number().int().positive(),
    timeoutSeconds: z.number().int().positive(),
    pushUrl: z.string().url().optional(),
    taskQueue: z.string().min(1).optional(),
    /** A budget shared with every workload under the same key (docs/adr/0051); items count as rows. */
    rateLimit: rateLimitRuntimeSchema.optional(),
  }),
);

/** The built-in S3 source (`sourceRef.kind: s3`). */
export const s3SourceRefSchema = sharedSchema('pipeline.s3SourceRef', () =>
  z.object({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    /** Seconds between listings (default 30). */
    pollIntervalSeconds: z.number().positive().optional(),
  }),
);
export type S3SourceRef = z.infer<typeof s3SourceRefSchema>;

export const pipelineRuntimeSpecSchema = sharedSchema('pipeline.pipelineRuntimeSpec', () =>
  z.object({
    k8sNamespace: z.string().min(1),
    name: z.string().min(1),
    generation: z.number().int().nonnegative().default(0),
    targetNamespace: z.string().min(1),
    /** spec.sourceRef exactly as written (opaque unless `kind: s3`). */
    sourceRef: z.record(z.string(), z.unknown()).optional(),
    worker: runtimeWorkerSchema,
    schedule: z
      .object({
        leaseSeconds: z.number().positive().default(60),
        maxInFlightBatches: z.number().int().positive().max(500).default(8),
        /** Submissions are refused (retry later) while this many items are queued. */
        maxPendingItems: z.number().int().positive().default(10_000),
      })
      .prefault({}),
    retry: z
      .object({
        maxAttempts: z.number().int().positive().default(5),
        initialBackoffSeconds: z.number().nonnegative().default(1),
        maxBackoffSeconds: z.number().nonnegative().default(30),
      })
      .prefault({}),
    paused: z.boolean().default(false),
  }),
);
export type PipelineRuntimeSpec = z.input<typeof pipelineRuntimeSpecSchema>;
export type ParsedPipelineSpec = z.output<typeof pipelineRuntimeSpecSchema>;

export const pipelineCountersSchema = sharedSchema('pipeline.pipelineCounters', () =>
  z.object({
    submitted: z.number().int().nonnegative().default(0),
    duplicates: z.number().int().nonnegative().default(0),
    done: z.number().int().nonnegative().default(0),
    /** Items skipped because their key and version were already written. */
    alreadyWritten: z.number().int().nonnegative().default(0),
    failed: z.number().int().nonnegative().default(0),
    documents: z.number().int().nonnegative().default(0),
    chunksWritten: z.number().int().nonnegative().default(0),
    chunksKept: z.number().int().nonnegative().default(0),
    chunksDeleted: z.number().int().nonnegative().default(0),
    batches: z.number().int().nonnegative().default(0),
    listings: z.number().int().nonnegative().default(0),
    /** Batches that failed for good at their size (then split, or dead-lettered when one item). */
    failedBatches: z.number().int().nonnegative().default(0),
    /** Batch attempts that failed and were retried after backoff. */
    retries: z.number().int().nonnegative().default(0),
  }),
);
export type PipelineCounters = z.infer<typeof pipelineCountersSchema>;

const queuedItemSchema = sharedSchema('pipeline.queuedItem', () =>
  pipelineItemSchema.extend({ version: z.string().min(1) }),
);

/** A Pipeline batch as the envelope holds it: the items, in queue order. */
export const pipelineBatchPayloadSchema = sharedSchema('pipeline.pipelineBatchPayload', () =>
  z.object({ items: z.array(queuedItemSchema) }),
);
export type PipelineBatchPayload = z.infer<typeof pipelineBatchPayloadSchema>;

/** Dead letters kept in workflow state (newest last), bounded across continue-as-new. */
export const DEAD_LETTER_LIMIT = 1_000;

/** An item the Pipeline gave up on, and why. */
export const pipelineDeadLetterSchema = sharedSchema('pipeline.pipelineDeadLetter', () =>
  z.object({
    key: z.string(),
    version: z.string(),
    /** Failure type (HandlerFailed, InvalidPipelineOutput, …). */
    type: z.string(),
    message: z.string(),
    attempts: z.number().int().nonnegative(),
    at: z.string(),
  }),
);
export type PipelineDeadLetter = z.infer<typeof pipelineDeadLetterSchema>;

export const pipelineCarriedStateSchema = sharedSchema('pipeline.pipelineCarriedState', () =>
  z.object({
    /** Batches cut and not yet dispatched, and the envelope's measurements (engine v2). */
    envelope: envelopeCarriedSchema(pipelineBatchPayloadSchema).optional(),
    /** The most recent DEAD_LETTER_LIMIT items given up on (engine v2). */
    deadLetters: z.array(pipelineDeadLetterSchema).default([]),
    counters: pipelineCountersSchema.prefault({}),
    /** Items not yet done (in-flight ones are put back first on continue-as-new). */
    pending: z.array(queuedItemSchema).default([]),
    /** Recently finished `key@version` → done | failed; bounded (RECENT_LIMIT). */
    recent: z.array(z.tuple([z.string(), z.enum(['done', 'failed'])])).default([]),
    /** S3 listing: where the current pass resumes (null: start a new pass). */
    s3Cursor: z.string().nullable().default(null),
    lastListingAt: z.string().optional(),
    lastError: z.string().optional(),
    runsSoFar: z.number().int().nonnegative().default(0),
    /** What /metrics exports beyond the counters (failures by type, batch histograms). */
    observations: workloadObservationsSchema.prefault({}),
  }),
);
export type PipelineCarriedState = z.infer<typeof pipelineCarriedStateSchema>;

export const pipelineWorkflowInputSchema = sharedSchema('pipeline.pipelineWorkflowInput', () =>
  z.object({
    spec: pipelineRuntimeSpecSchema,
    state: pipelineCarriedStateSchema.optional(),
    /** Tests only: continue-as-new after this many batches instead of the default. */
    batchesPerRun: z.number().int().positive().optional(),
  }),
);
export type PipelineWorkflowInput = z.input<typeof pipelineWorkflowInputSchema>;

/** `degraded`: a systemic failure (store credentials, store or worker down) holds dispatch back. */
export type PipelinePhase = 'running' | 'idle' | 'paused' | 'draining' | 'degraded';

/** Answer of the `pipelineStatus` query. */
export interface PipelineStatus {
  name: string;
  k8sNamespace: string;
  generation: number;
  /** specFingerprint of the spec the workflow runs (the operator sends no equal spec again). */
  specFingerprint?: string;
  targetNamespace: string;
  phase: PipelinePhase;
  batchSize: number;
  queue: { pending: number; inFlight: number; done: number; failed: number };
  inFlightBatches: number;
  /** Claims out (each computes one batch at a time). */
  claimsInFlight?: number;
  counters: PipelineCounters;
  degraded?: DegradedStatus;
  /** The most recent items given up on (up to 20; the `deadLetters` query has up to 1,000). */
  deadLetters?: PipelineDeadLetter[];
  lastListingAt?: string;
  lastError?: string;
  runsSoFar: number;
  /** Absent from runs of engine v1. Its rows/s histogram counts work items per second. */
  observations?: WorkloadObservations;
}

export const updatePipelineSpecUpdate = defineUpdate<{ generation: number }, [PipelineRuntimeSpec]>(
  'updatePipelineSpec',
);
export const setPipelinePausedUpdate = defineUpdate<{ paused: boolean }, [boolean]>('setPipelinePaused');
export const listSourceNowSignal = defineSignal<[]>('listSourceNow');
export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');
/** Items given up on (newest last), with their failure. */
export const deadLettersQuery = defineQuery<PipelineDeadLetter[]>('deadLetters');

/** The `source` attribute value for a pipeline's sourceRef. */
export function sourceLabel(sourceRef: Record<string, unknown> | undefined): string {
  if (sourceRef?.kind === 's3') return `s3://${String(sourceRef.bucket)}/${String(sourceRef.prefix ?? '')}`;
  return 'submit';
}
