// The Function batch and claim contract a worker speaks: the same JSON for a pull worker's
// activity and a push worker's /run, the claim input and its spec by fingerprint. The workflow's
// own input, carried state, status and messages are the orchestrator's (src/contracts/function.ts).
// Sandbox-safe (zod and @temporalio/workflow only): the workflow builds claims from these shapes.
import { z } from 'zod';
import { sharedSchema } from './shared-schema.js';
import { defineQuery } from '@temporalio/workflow';
import { canonicalJson, stableHash } from './pipeline.js';
import { rateLimitRuntimeSchema } from './rate-limit.js';
import { STORE_MAX_TOP_K } from './store-limits.js';

/** Task queue of the orchestrator's own Worker (workflows and orchestrator-side activities). */
export const ORCHESTRATOR_TASK_QUEUE = 'layer-orchestrator';

/**
 * Name of the claim activity a pull worker registers; the workflow schedules it on the
 * Function's task queue. One claim carries several batches (docs/adr/0011).
 */
export const RUN_FUNCTION_CLAIM_ACTIVITY = 'runFunctionClaim';

/** A row id as Turbopuffer allows it: unsigned integer or string (UUIDs are strings on the wire). */
export const rowIdSchema = sharedSchema('worker/function.rowId', () =>
  z.union([z.number().int().nonnegative(), z.string().min(1)]),
);
export type RowId = z.infer<typeof rowIdSchema>;

export const functionOutputSpecSchema = sharedSchema('worker/function.functionOutputSpec', () =>
  z.object({
    attribute: z.string().min(1),
    kind: z.string().min(1),
    version: z.string().min(1),
    dim: z.number().int().positive().optional(),
    /** Write `<attribute>_fp` and re-run rows whose inputs changed since (see input-fingerprint.ts). */
    inputFingerprint: z.boolean().optional(),
  }),
);
export type FunctionOutputSpec = z.infer<typeof functionOutputSpecSchema>;

/**
 * What a claim's worker needs of the Function (the claim carries it by fingerprint, docs/adr/0100);
 * the orchestrator's runtime spec (src/contracts/function.ts) is this plus scheduling. Contains no
 * secret: store and worker credentials are read by activities from their own configuration.
 */
export const functionClaimSpecSchema = sharedSchema('worker/function.functionClaimSpec', () =>
  z.object({
    /** Kubernetes namespace of the Function CR ("local" for `layer apply` without Kubernetes). */
    k8sNamespace: z.string().min(1),
    name: z.string().min(1),
    inputs: z.array(z.string().min(1)).min(1),
    output: functionOutputSpecSchema,
    /** Turbopuffer filter exactly as written in the CR (absent: every row lacking this version). */
    filter: z.unknown().optional(),
    worker: z.object({
      dispatch: z.enum(['pull', 'push']),
      batchSize: z.number().int().positive(),
      timeoutSeconds: z.number().int().positive(),
      /** Push only: base URL of the worker (its Service, or a URL given in local mode). */
      pushUrl: z.string().url().optional(),
      /** Pull only: task queue the worker SDK polls (defaults to functionTaskQueue). */
      taskQueue: z.string().min(1).optional(),
      /** A budget shared with every workload under the same key (docs/adr/0051). */
      rateLimit: rateLimitRuntimeSchema.optional(),
    }),
  }),
);
export type FunctionClaimSpec = z.infer<typeof functionClaimSpecSchema>;

/**
 * Ids a Function wrote (or dead-lettered) at its current output that the store may not show yet
 * (docs/adr/0110): the rows in (after, last] — after null: from the first id — for a range, or in
 * [from, last] for an id list. Discovery and the pending count leave them out.
 */
export const writtenSpanSchema = sharedSchema('worker/function.writtenSpan', () =>
  z.object({
    after: rowIdSchema.nullable().optional(),
    from: rowIdSchema.optional(),
    last: rowIdSchema,
  }),
);
export type WrittenSpan = z.infer<typeof writtenSpanSchema>;

/**
 * How many rows a range batch may resolve: rows inserted into the range after discovery are work
 * too, but past this bound they wait for the next pass (the batch stays about batchSize). Never
 * more than one query may return (the service's top_k limit, 10,000).
 */
export function rangeResolveLimit(rows: number): number {
  return Math.min(STORE_MAX_TOP_K, Math.max(1, 2 * rows));
}

// ---------------------------------------------------------------------------------------------
// The batch contract: the same JSON for a pull worker's activity and a push worker's /run.

export const batchRowSchema = sharedSchema('worker/function.batchRow', () =>
  z.object({
    id: rowIdSchema,
    /** The Function's `inputs` attributes of this row (missing ones are null). */
    inputs: z.record(z.string(), z.unknown()),
  }),
);
export type BatchRow = z.infer<typeof batchRowSchema>;

/** What the orchestrator sends a worker: POST /run body, and the rows a pull handler receives. */
export const runBatchRequestSchema = sharedSchema('worker/function.runBatchRequest', () =>
  z.object({
    batchId: z.string(),
    function: z.object({ k8sNamespace: z.string(), name: z.string() }),
    namespace: z.string(),
    output: functionOutputSpecSchema,
    rows: z.array(batchRowSchema),
  }),
);
export type RunBatchRequest = z.infer<typeof runBatchRequestSchema>;

/** What a worker answers: one output per row id. */
export const runBatchResponseSchema = sharedSchema('worker/function.runBatchResponse', () =>
  z.object({
    outputs: z.array(z.object({ id: rowIdSchema, value: z.unknown() })),
  }),
);
export type RunBatchResponse = z.infer<typeof runBatchResponseSchema>;

/** One batch of a claim as the worker runs it: an id list, or a range it resolves itself. */
export type FunctionClaimBatch =
  | { batchId: string; namespace: string; ids: RowId[]; rows?: undefined; range?: undefined }
  | {
      batchId: string;
      namespace: string;
      range: { afterId: RowId | null; lastId: RowId };
      /** Rows discovery counted in the range (the resolve is bounded by rangeResolveLimit). */
      rows: number;
      ids?: undefined;
      /**
       * The claim ran before (a retried attempt): rows of the range that no longer need work were
       * most likely written by that attempt and count as written (only this Function writes its
       * attribute, ADR 0070, and no other batch of the pass holds the range).
       */
      rerun?: boolean;
    };

/** Input of one batch (pull or push): ids or a range only; inputs are read by the worker. */
export type FunctionBatchInput = FunctionClaimBatch & { spec: FunctionClaimSpec };

/**
 * Row ids in history's shortest form: canonical lowercase UUIDs as 22 base64url characters each,
 * back to back (36 + 3 bytes of JSON each otherwise); any other ids as they are.
 */
export type PackedRowIds = RowId[] | { uuids: string };

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function packRowIds(ids: readonly RowId[]): PackedRowIds {
  if (ids.length === 0 || !ids.every((id) => typeof id === 'string' && CANONICAL_UUID.test(id)))
    return [...ids];
  let out = '';
  for (const id of ids as string[]) {
    const hex = id.replace(/-/g, '');
    // 128 bits as 22 six-bit digits: 21 full ones, then the last 2 bits padded with zeros.
    let bits = 0;
    let acc = 0;
    for (const ch of hex) {
      acc = (acc << 4) | parseInt(ch, 16);
      bits += 4;
      if (bits >= 6) {
        bits -= 6;
        out += BASE64URL[(acc >> bits) & 63];
        acc &= (1 << bits) - 1;
      }
    }
    out += BASE64URL[(acc << (6 - bits)) & 63];
  }
  return { uuids: out };
}

export function unpackRowIds(packed: PackedRowIds): RowId[] {
  if (Array.isArray(packed)) return packed;
  const ids: RowId[] = [];
  for (let at = 0; at + 22 <= packed.uuids.length; at += 22) {
    let hex = '';
    let bits = 0;
    let acc = 0;
    for (const ch of packed.uuids.slice(at, at + 22)) {
      acc = (acc << 6) | BASE64URL.indexOf(ch);
      bits += 6;
      while (bits >= 4 && hex.length < 32) {
        bits -= 4;
        hex += ((acc >> bits) & 15).toString(16);
        acc &= (1 << bits) - 1;
      }
    }
    ids.push(
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    );
  }
  return ids;
}

/**
 * Consecutive range batches of one namespace, each starting where the previous ended: batch i is
 * (i === 0 ? afterId : lastIds[i-1], lastIds[i]] with rows[i] rows. Ids appear once (docs/adr/0100).
 */
export interface FunctionRangeChain {
  namespace: string;
  afterId: RowId | null;
  /** The batch ids, or `{prefix, from}` for `${prefix}${from}`, `${prefix}${from + 1}`, … (discovery's). */
  batchIds: string[] | { prefix: string; from: number };
  lastIds: PackedRowIds;
  /** Rows per batch; one number when every batch has as many. */
  rows: number | number[];
}

/**
 * Input of one claim activity (pull: on the Function's task queue; push: on the orchestrator's).
 * Current orchestrators send `specFingerprint` (the worker asks the workflow for the spec with the
 * claimSpec query) and the batches as `parts`; older ones sent `spec` and `batches` inline, which
 * workers still run.
 */
export interface FunctionClaimInput {
  claimId: string;
  spec?: FunctionClaimSpec;
  specFingerprint?: string;
  batches?: { batchId: string; namespace: string; ids: RowId[] }[];
  /** The batches in claim order: id lists as they are, runs of ranges as chains. */
  parts?: ({ batchId: string; namespace: string; ids: RowId[] } | FunctionRangeChain)[];
  /** The result comes back packed (packClaimReport): the workflow unpacks it with its claim. */
  packedReport?: true;
}

/** The claim's batches in order, from either form of the input. */
export function claimBatches(input: FunctionClaimInput): FunctionClaimBatch[] {
  if (!input.parts) return input.batches ?? [];
  const out: FunctionClaimBatch[] = [];
  for (const part of input.parts) {
    if (!('lastIds' in part)) {
      out.push(part);
      continue;
    }
    let afterId = part.afterId;
    const ids = part.batchIds;
    for (const [i, lastId] of unpackRowIds(part.lastIds).entries()) {
      out.push({
        batchId: Array.isArray(ids) ? ids[i]! : `${ids.prefix}${ids.from + i}`,
        namespace: part.namespace,
        range: { afterId, lastId },
        rows: typeof part.rows === 'number' ? part.rows : (part.rows[i] ?? 0),
      });
      afterId = lastId;
    }
  }
  return out;
}

/** The workflow's answer to a worker asking for a claim's spec by its fingerprint (null: not one of its claims'). */
export const claimSpecQuery = defineQuery<FunctionClaimSpec | null, [string]>('claimSpec');

/** Result of one batch activity. */
export interface FunctionBatchResult {
  batchId: string;
  /** Rows whose output was written. */
  written: number;
  /** Rows that no longer matched the filter when the batch ran (done meanwhile, or deleted). */
  skipped: number;
  /** Rows a newer version had already been written to (the conditional write refused them). */
  superseded: number;
}

/** The fingerprint a claim carries for its spec: equal for specs equal as JSON, whatever their key order. */
export function claimSpecFingerprint(spec: FunctionClaimSpec): string {
  return stableHash(canonicalJson(spec));
}
