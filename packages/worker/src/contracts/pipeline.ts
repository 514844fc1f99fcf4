// The Pipeline contract a worker speaks: the item and document shapes, item submission (the SDK's
// submit), and the batch and claim contract shared by pull workers (Temporal activity) and push
// workers (HTTP /process). The workflow's own input, carried state, status and messages are the
// orchestrator's (src/contracts/pipeline.ts). Sandbox-safe (zod and @temporalio/workflow only).
import { z } from 'zod';
import { sharedSchema } from './shared-schema.js';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RateLimitRuntime } from './rate-limit.js';

/** Name of the claim activity a pipeline pull worker registers on the Pipeline's task queue. */
export const RUN_PIPELINE_CLAIM_ACTIVITY = 'runPipelineClaim';

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
export const pipelineItemSchema = sharedSchema('worker/pipeline.pipelineItem', () =>
  z.object({
    key: z.string().min(1).max(1024),
    /** Absent on submit: the workflow derives one from the payload (a stable hash). */
    version: z.string().min(1).max(256).optional(),
    payload: z.unknown().optional(),
    deleted: z.boolean().optional(),
    /** Set by the built-in S3 source: where to read the object. */
    s3: z
      .object({ bucket: z.string(), key: z.string(), etag: z.string(), size: z.number().nonnegative() })
      .optional(),
  }),
);
export type PipelineItem = z.infer<typeof pipelineItemSchema>;

/** An item as queued: always versioned. */
export type QueuedItem = PipelineItem & { version: string };

const chunkSchema = sharedSchema('worker/pipeline.chunk', () =>
  z.object({
    /** Optional: derived from the document id and the chunk's content hash when absent. */
    id: z.string().min(1).optional(),
    text: z.string(),
    vector: z.array(z.number()).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const pipelineDocumentSchema = sharedSchema('worker/pipeline.pipelineDocument', () =>
  z.object({
    /** Document id; defaults to the item key. */
    id: z.string().min(1).optional(),
    /** The item this document came from; defaults to the only item of a one-item batch. */
    itemKey: z.string().min(1).optional(),
    chunks: z.array(chunkSchema),
    /** Remove this document's chunks instead of writing. */
    deleted: z.boolean().optional(),
  }),
);
export type PipelineDocument = z.infer<typeof pipelineDocumentSchema>;

export type ItemState = 'pending' | 'inFlight' | 'done' | 'failed' | 'unknown';

export interface SubmitItemsResult {
  accepted: number;
  /** Already queued, in flight or recently done with the same version. */
  duplicates: number;
}

export const submitItemsUpdate = defineUpdate<SubmitItemsResult, [PipelineItem[]]>('submitItems');
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
