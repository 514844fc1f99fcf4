// The Pipeline engine's wire contracts: the workflow's input and carried state, its messages,
// the item/document shapes workers see, and the batch contract shared by pull workers
// (Temporal activity) and push workers (HTTP /process). Sandbox-safe (zod and
// @temporalio/workflow only): the workflow parses its own input with these schemas.
import { z } from 'zod';
import { rateLimitRuntimeSchema, type RateLimitRuntime } from './rate-limit.js';
import { workloadObservationsSchema, type WorkloadObservations } from './observations.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { envelopeCarriedSchema, type DegradedStatus } from './claims.js';
import { FailureType } from './failures.js';
import { queueDepthOf } from './queue-depth.js';

/** Name of the claim activity a pipeline pull worker registers on the Pipeline's task queue. */
export const RUN_PIPELINE_CLAIM_ACTIVITY = 'runPipelineClaim';

/** Failure type of a batch whose worker output is malformed (the catalogue's; v1 code imports it). */
export const INVALID_PIPELINE_OUTPUT = FailureType.InvalidPipelineOutput;

/** Attributes every chunk row carries (the document state the pipeline keeps in the target namespace). */
export const ChunkAttr = {
  docId: 'doc_id',
  /** Content hash of the document's whole chunk set (ADR 0030). */
  docVersion: 'doc_version',
  position: 'position',
  text: 'text',
  vector: 'vector',
  /** Key of the item the document came from (S3 object key, submission key, ...). */
  sourceKey: 'source_key',
  /** Version of that item (ETag, caller's version or payload hash). */
  sourceVersion: 'source_version',
  /** Which source: `s3://bucket/prefix`, `submit` or `worker`. */
  source: 'source',
} as const;

/**
 * One unit of work. `key` identifies it (idempotency: the same key and version is processed once);
 * `deleted` asks for the key's documents to be removed.
 */
export const pipelineItemSchema = z.object({
  key: z.string().min(1).max(1024),
  /** Absent on submit: the workflow derives one from the payload (a stable hash). */
  version: z.string().min(1).max(256).optional(),
  payload: z.unknown().optional(),
  deleted: z.boolean().optional(),
  /** Set by the built-in S3 source: where to read the object. */
  s3: z
    .object({ bucket: z.string(), key: z.string(), etag: z.string(), size: z.number().nonnegative() })
    .optional(),
});
export type PipelineItem = z.infer<typeof pipelineItemSchema>;

/** An item as queued: always versioned. */
export type QueuedItem = PipelineItem & { version: string };

export const chunkSchema = z.object({
  /** Optional: derived from the document id and the chunk's content hash when absent. */
  id: z.string().min(1).optional(),
  text: z.string(),
  vector: z.array(z.number()).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type Chunk = z.infer<typeof chunkSchema>;

export const pipelineDocumentSchema = z.object({
  /** Document id; defaults to the item key. */
  id: z.string().min(1).optional(),
  /** The item this document came from; defaults to the only item of a one-item batch. */
  itemKey: z.string().min(1).optional(),
  chunks: z.array(chunkSchema),
  /** Remove this document's chunks instead of writing. */
  deleted: z.boolean().optional(),
});
export type PipelineDocument = z.infer<typeof pipelineDocumentSchema>;

export const runtimeWorkerSchema = z.object({
  dispatch: z.enum(['pull', 'push']).default('pull'),
  batchSize: z.number().int().positive(),
  timeoutSeconds: z.number().int().positive(),
  pushUrl: z.string().url().optional(),
  taskQueue: z.string().min(1).optional(),
  /** A budget shared with every workload under the same key (docs/adr/0051); items count as rows. */
  rateLimit: rateLimitRuntimeSchema.optional(),
});

/** The built-in S3 source (`sourceRef.kind: s3`). */
export const s3SourceRefSchema = z.object({
  kind: z.literal('s3'),
  bucket: z.string().min(1),
  prefix: z.string().default(''),
  /** Seconds between listings (default 30). */
  pollIntervalSeconds: z.number().positive().optional(),
});
export type S3SourceRef = z.infer<typeof s3SourceRefSchema>;

export const pipelineRuntimeSpecSchema = z.object({
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
});
export type PipelineRuntimeSpec = z.input<typeof pipelineRuntimeSpecSchema>;
export type ParsedPipelineSpec = z.output<typeof pipelineRuntimeSpecSchema>;

export const pipelineCountersSchema = z.object({
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
});
export type PipelineCounters = z.infer<typeof pipelineCountersSchema>;

const queuedItemSchema = pipelineItemSchema.extend({ version: z.string().min(1) });

/** A Pipeline batch as the envelope holds it: the items, in queue order. */
export const pipelineBatchPayloadSchema = z.object({ items: z.array(queuedItemSchema) });
export type PipelineBatchPayload = z.infer<typeof pipelineBatchPayloadSchema>;

/** Dead letters kept in workflow state (newest last), bounded across continue-as-new. */
export const DEAD_LETTER_LIMIT = 1_000;

/** An item the Pipeline gave up on, and why. */
export const pipelineDeadLetterSchema = z.object({
  key: z.string(),
  version: z.string(),
  /** Failure type (HandlerFailed, InvalidPipelineOutput, …). */
  type: z.string(),
  message: z.string(),
  attempts: z.number().int().nonnegative(),
  at: z.string(),
});
export type PipelineDeadLetter = z.infer<typeof pipelineDeadLetterSchema>;

export const pipelineCarriedStateSchema = z.object({
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
});
export type PipelineCarriedState = z.infer<typeof pipelineCarriedStateSchema>;

export const pipelineWorkflowInputSchema = z.object({
  spec: pipelineRuntimeSpecSchema,
  state: pipelineCarriedStateSchema.optional(),
  /** Tests only: continue-as-new after this many batches instead of the default. */
  batchesPerRun: z.number().int().positive().optional(),
});
export type PipelineWorkflowInput = z.input<typeof pipelineWorkflowInputSchema>;

/** `degraded`: a systemic failure (store credentials, store or worker down) holds dispatch back. */
export type PipelinePhase = 'running' | 'idle' | 'paused' | 'draining' | 'degraded';

export type ItemState = 'pending' | 'inFlight' | 'done' | 'failed' | 'unknown';

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

export interface SubmitItemsResult {
  accepted: number;
  /** Already queued, in flight or recently done with the same version. */
  duplicates: number;
}

export const updatePipelineSpecUpdate = defineUpdate<{ generation: number }, [PipelineRuntimeSpec]>(
  'updatePipelineSpec',
);
export const setPipelinePausedUpdate = defineUpdate<{ paused: boolean }, [boolean]>('setPipelinePaused');
export const submitItemsUpdate = defineUpdate<SubmitItemsResult, [PipelineItem[]]>('submitItems');
export const listSourceNowSignal = defineSignal<[]>('listSourceNow');
export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');
/** Items given up on (newest last), with their failure. */
export const deadLettersQuery = defineQuery<PipelineDeadLetter[]>('deadLetters');
/** States of `key@version` identities (or bare keys: latest version seen). */
export const itemStatesQuery = defineQuery<Record<string, ItemState>, [string[]]>('itemStates');

// ---------------------------------------------------------------------------------------------
// The batch contract.

/** Input of one batch (pull activity or push /process). */
export interface PipelineBatchInput {
  batchId: string;
  pipeline: { k8sNamespace: string; name: string };
  targetNamespace: string;
  sourceRef?: Record<string, unknown>;
  items: QueuedItem[];
  timeoutSeconds: number;
  /** Where documents came from (`source` attribute). */
  source: string;
}

/** Input of one claim: several batches, run one after another by one worker (docs/adr/0011). */
export interface PipelineClaimInput extends Omit<PipelineBatchInput, 'batchId' | 'items'> {
  claimId: string;
  /** The Pipeline's shared rate limit, with its limiter's task queue (not sent to push workers). */
  rateLimit?: RateLimitRuntime;
  batches: { batchId: string; items: QueuedItem[] }[];
}

export interface PipelineBatchResult {
  batchId: string;
  /** Keys (`key@version`) whose documents are written (or deleted). */
  done: string[];
  /** Items skipped because their key and version were already in the target namespace. */
  alreadyWritten: number;
  documents: number;
  chunksWritten: number;
  chunksKept: number;
  chunksDeleted: number;
}

/** `key@version`: the identity submissions are idempotent by. */
export function itemIdentity(item: { key: string; version: string }): string {
  return `${item.key}@${item.version}`;
}

/**
 * Queue depth KEDA scales a Pipeline's workers on: batches waiting for or held by a worker.
 * Pure, so the HTTP API computes it from the status query.
 *
 * @example pipelineQueueDepth({ queue: { pending: 130, inFlight: 64, done: 0, failed: 0 }, batchSize: 64, inFlightBatches: 1 }) // 4
 */
export function pipelineQueueDepth(
  status: Pick<PipelineStatus, 'queue' | 'batchSize' | 'inFlightBatches'>,
): number {
  return queueDepthOf(status.queue.pending, status.batchSize, status.inFlightBatches);
}

/** A stable, sandbox-safe 53-bit string hash (cyrb53) for item versions derived from payloads. */
export function stableHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** JSON with sorted object keys, so equal payloads hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The version of a submitted item: its own, else a hash of its payload (and deleted flag). */
export function itemVersion(item: PipelineItem): string {
  return item.version ?? `h${stableHash(canonicalJson({ p: item.payload, d: item.deleted ?? false }))}`;
}

/** The `source` attribute value for a pipeline's sourceRef. */
export function sourceLabel(sourceRef: Record<string, unknown> | undefined): string {
  if (sourceRef?.kind === 's3') return `s3://${String(sourceRef.bucket)}/${String(sourceRef.prefix ?? '')}`;
  return 'submit';
}
