// The Function engine's wire contracts: the workflow's input and carried state, its messages,
// and the batch contract shared by pull workers (Temporal activity) and push workers (HTTP
// /run). Sandbox-safe (zod and @temporalio/workflow only), because the workflow parses its
// own input with these schemas after continue-as-new.
import { z } from 'zod';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { envelopeCarriedSchema } from './claims.js';
import { canonicalJson, stableHash } from './pipeline.js';
import { rateLimitRuntimeSchema } from './rate-limit.js';
import type { BatchOutcome, ClaimReport, DegradedStatus } from './claims.js';
import { workloadObservationsSchema, type WorkloadObservations } from './observations.js';
import { STORE_MAX_TOP_K } from './store-limits.js';

/** Task queue of the orchestrator's own Worker (workflows and orchestrator-side activities). */
export const ORCHESTRATOR_TASK_QUEUE = 'layer-orchestrator';

/**
 * Name of the claim activity a pull worker registers; the workflow schedules it on the
 * Function's task queue. One claim carries several batches (docs/adr/0011).
 */
export const RUN_FUNCTION_CLAIM_ACTIVITY = 'runFunctionClaim';

/** A row id as Turbopuffer allows it: unsigned integer or string (UUIDs are strings on the wire). */
export const rowIdSchema = z.union([z.number().int().nonnegative(), z.string().min(1)]);
export type RowId = z.infer<typeof rowIdSchema>;

export const functionOutputSpecSchema = z.object({
  attribute: z.string().min(1),
  kind: z.string().min(1),
  version: z.string().min(1),
  dim: z.number().int().positive().optional(),
  /** Write `<attribute>_fp` and re-run rows whose inputs changed since (see input-fingerprint.ts). */
  inputFingerprint: z.boolean().optional(),
});
export type FunctionOutputSpec = z.infer<typeof functionOutputSpecSchema>;

/**
 * Everything the engine needs from a Function, normalised: namespaces already resolved (from
 * targetNamespaces or, by the operator, from indexSelector), defaults applied. Contains no
 * secret: store and worker credentials are read by activities from their own configuration.
 */
export const functionRuntimeSpecSchema = z.object({
  /** Kubernetes namespace of the Function CR ("local" for `layer apply` without Kubernetes). */
  k8sNamespace: z.string().min(1),
  name: z.string().min(1),
  /** metadata.generation of the CR this spec came from (0 in local mode). */
  generation: z.number().int().nonnegative().default(0),
  targetNamespaces: z.array(z.string().min(1)),
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
  schedule: z.object({
    discoveryIntervalSeconds: z.number().positive(),
    leaseSeconds: z.number().positive(),
    maxInFlightBatches: z.number().int().positive().max(500),
    maxConcurrentScans: z.number().int().positive(),
  }),
  retry: z.object({
    maxAttempts: z.number().int().positive(),
    initialBackoffSeconds: z.number().nonnegative(),
    maxBackoffSeconds: z.number().nonnegative(),
  }),
  paused: z.boolean().default(false),
  /** spec.rollout: a changed output.version first runs on a sample into a side attribute. */
  rollout: z.object({ canaryRows: z.number().int().positive() }).optional(),
});
export type FunctionRuntimeSpec = z.infer<typeof functionRuntimeSpecSchema>;

/** Canary rollouts (src/envelope/rollout.ts). One sampled row: its current value at the old version beside the canary's value. */
export const canaryComparisonSchema = z.object({
  namespace: z.string(),
  id: z.union([z.number(), z.string()]),
  /** `<attribute>` and `<attribute>_v` as the row has them now (null when never computed). */
  old: z.unknown(),
  oldVersion: z.string().nullable(),
  /** `<attribute>__canary`: what the new version computed (null when that row failed). */
  new: z.unknown(),
});
export type CanaryComparison = z.infer<typeof canaryComparisonSchema>;

export const rolloutStateSchema = z.object({
  /** The version the rows carry and the engine keeps running until promotion. */
  fromVersion: z.string(),
  /** The version the CR asks for. */
  toVersion: z.string(),
  /**
   * canary: the sample is being computed into the side attribute; awaitingPromotion: done, the
   * engine holds until `layer function promote|abort`; aborted: the engine runs fromVersion again
   * although the CR still names toVersion (change output.version to roll out anew).
   */
  stage: z.enum(['canary', 'awaitingPromotion', 'aborted']),
  canaryRows: z.number().int().positive(),
  startedAt: z.string(),
  sampled: z.number().int().nonnegative().default(0),
  written: z.number().int().nonnegative().default(0),
  failed: z.number().int().nonnegative().default(0),
  comparison: z.array(canaryComparisonSchema).default([]),
  error: z.string().optional(),
});
export type RolloutState = z.infer<typeof rolloutStateSchema>;

/** Counters that survive continue-as-new. */
export const functionCountersSchema = z.object({
  processed: z.number().int().nonnegative().default(0),
  /** Rows skipped at writeback because a newer version was already there. */
  superseded: z.number().int().nonnegative().default(0),
  /** Batches that failed for good at their size (then split, or dead-lettered when one row). */
  failedBatches: z.number().int().nonnegative().default(0),
  /** Batch attempts that failed and were retried after backoff. */
  retries: z.number().int().nonnegative().default(0),
  deadLettered: z.number().int().nonnegative().default(0),
  batches: z.number().int().nonnegative().default(0),
  discoveries: z.number().int().nonnegative().default(0),
  /** Time handler calls waited for permits of the shared rate limit (ms, summed over batches). */
  rateLimitWaitMs: z.number().nonnegative().optional(),
});
export type FunctionCounters = z.infer<typeof functionCountersSchema>;

/** A Function batch as an explicit list of ids of one store namespace (canary, split halves, older runs). */
export const functionIdListPayloadSchema = z.object({
  namespace: z.string(),
  ids: z.array(rowIdSchema),
  /** Cut from a range batch (its resolved rows): held like a range, so no new pass overlaps it. */
  fromRange: z.literal(true).optional(),
});
export type FunctionIdListPayload = z.infer<typeof functionIdListPayloadSchema>;

/**
 * A Function batch as an id range (docs/adr/0100): the rows in (afterId, lastId] that still match
 * the Function's candidate filter, resolved by the worker. afterId null: from the first id.
 */
export const functionRangePayloadSchema = z.object({
  namespace: z.string(),
  afterId: rowIdSchema.nullable(),
  lastId: rowIdSchema,
});
export type FunctionRangePayload = z.infer<typeof functionRangePayloadSchema>;

/** A Function batch as the envelope holds it: an id range, or an explicit id list (older runs' only kind). */
export const functionBatchPayloadSchema = z.union([functionIdListPayloadSchema, functionRangePayloadSchema]);
export type FunctionBatchPayload = z.infer<typeof functionBatchPayloadSchema>;

export function isRangePayload(p: FunctionBatchPayload): p is FunctionRangePayload {
  return 'lastId' in p;
}

/**
 * How many rows a range batch may resolve: rows inserted into the range after discovery are work
 * too, but past this bound they wait for the next pass (the batch stays about batchSize). Never
 * more than one query may return (the service's top_k limit, 10,000).
 */
export function rangeResolveLimit(rows: number): number {
  return Math.min(STORE_MAX_TOP_K, Math.max(1, 2 * rows));
}

/** What a Function workflow carries from one run to the next (plain JSON, bounded). */
export const functionCarriedStateSchema = z.object({
  /** Batches discovered and not yet dispatched, and the envelope's measurements (engine v2). */
  envelope: envelopeCarriedSchema(functionBatchPayloadSchema).optional(),
  counters: functionCountersSchema.prefault({}),
  /** Last known count of rows matching the filter and not dead-lettered, per namespace. */
  pendingRows: z.record(z.string(), z.number().int().nonnegative()).default({}),
  lastDiscoveryAt: z.string().optional(),
  lastError: z.string().optional(),
  /** Workflow time (ms) and processed count when the rate window started. */
  rateWindow: z.object({ startedAtMs: z.number(), processedAtStart: z.number() }).optional(),
  /** A discovery pass was requested (discoverNow, spec change) and has not started yet. */
  discoveryRequested: z.boolean().default(true),
  runsSoFar: z.number().int().nonnegative().default(0),
  /** A canary rollout in progress or aborted (absent: the engine runs the spec's version). */
  rollout: rolloutStateSchema.optional(),
  /** What /metrics exports beyond the counters (failures by type, batch histograms). */
  observations: workloadObservationsSchema.prefault({}),
});
export type FunctionCarriedState = z.infer<typeof functionCarriedStateSchema>;

export const functionWorkflowInputSchema = z.object({
  spec: functionRuntimeSpecSchema,
  state: functionCarriedStateSchema.optional(),
  /** Tests only: continue-as-new after this many dispatches (claims) instead of the default. */
  batchesPerRun: z.number().int().positive().optional(),
});
export type FunctionWorkflowInput = z.infer<typeof functionWorkflowInputSchema>;

/** `degraded`: a systemic failure (store credentials, store or worker down) holds dispatch back. */
/** `canary` / `awaitingPromotion`: a new output version runs on a sample / waits for promote or abort. */
export type FunctionPhase =
  'running' | 'idle' | 'paused' | 'draining' | 'degraded' | 'canary' | 'awaitingPromotion';

export type { DegradedStatus } from './claims.js';

export interface InFlightBatchStatus {
  batchId: string;
  namespace: string;
  rows: number;
  /** Workflow time the batch was dispatched (ISO). */
  since: string;
}

/** Answer of the `status` query. */
export interface FunctionStatus {
  name: string;
  k8sNamespace: string;
  generation: number;
  /** specFingerprint of the spec the workflow runs (the operator sends no equal spec again). */
  specFingerprint?: string;
  phase: FunctionPhase;
  outputVersion: string;
  /**
   * The output attribute the workflow writes (its companions are derived): `layer apply` reads it
   * to refuse a second writer (docs/adr/0070). Absent from workflows started before it existed.
   */
  outputAttribute?: string;
  targetNamespaces: string[];
  /** Rows still to do per the last count (matching the filter, not dead-lettered, not in flight excluded). */
  pendingRows: number;
  pendingRowsByNamespace: Record<string, number>;
  /** Batches in claims held by workers (queued inside a claim or running). */
  inFlightBatches: number;
  inFlightRows: number;
  /** Claims out; each leases one batch at a time, so this bounds the batches being computed. */
  claimsInFlight: number;
  inFlight: InFlightBatchStatus[];
  degraded?: DegradedStatus;
  counters: FunctionCounters;
  lastDiscoveryAt?: string;
  lastError?: string;
  /** Rows written per second over the current rate window. */
  rowsPerSecond: number;
  runsSoFar: number;
  /** The shared rate limit, when spec.worker.rateLimit is set: how much it holds the Function back. */
  rateLimit?: FunctionRateLimitStatus;
  /** A canary rollout (outputVersion is then the version the engine runs, rollout.toVersion the CR's). */
  rollout?: RolloutState;
  /** Absent from runs of engine v1 (no measurements there). */
  observations?: WorkloadObservations;
}

export interface FunctionRateLimitStatus {
  key: string;
  /** Share of the last claim's batch time spent waiting for permits (0..1). */
  lastClaimWaitShare: number;
  /** True when that share is at least half: the shared budget, not the worker, sets the pace. */
  waiting: boolean;
  waitedSeconds: number;
}

export const updateSpecUpdate = defineUpdate<{ generation: number }, [FunctionRuntimeSpec]>('updateSpec');
export const setPausedUpdate = defineUpdate<{ paused: boolean }, [boolean]>('setPaused');
export const replayDeadLettersUpdate = defineUpdate<{ cleared: number }, [{ filter?: unknown }]>(
  'replayDeadLetters',
);
export const discoverNowSignal = defineSignal<[]>('discoverNow');
/** Continue the backfill at the canaried version (`layer function promote`). */
export const promoteRolloutUpdate = defineUpdate<{ version: string }, []>('promoteRollout');
/** Go back to the version the rows carry and remove the canary attribute (`layer function abort`). */
export const abortRolloutUpdate = defineUpdate<{ version: string }, []>('abortRollout');
export const statusQuery = defineQuery<FunctionStatus>('status');

// ---------------------------------------------------------------------------------------------
// The batch contract: the same JSON for a pull worker's activity and a push worker's /run.

export const batchRowSchema = z.object({
  id: rowIdSchema,
  /** The Function's `inputs` attributes of this row (missing ones are null). */
  inputs: z.record(z.string(), z.unknown()),
});
export type BatchRow = z.infer<typeof batchRowSchema>;

/** What the orchestrator sends a worker: POST /run body, and the rows a pull handler receives. */
export const runBatchRequestSchema = z.object({
  batchId: z.string(),
  function: z.object({ k8sNamespace: z.string(), name: z.string() }),
  namespace: z.string(),
  output: functionOutputSpecSchema,
  rows: z.array(batchRowSchema),
});
export type RunBatchRequest = z.infer<typeof runBatchRequestSchema>;

/** What a worker answers: one output per row id. */
export const runBatchResponseSchema = z.object({
  outputs: z.array(z.object({ id: rowIdSchema, value: z.unknown() })),
});
export type RunBatchResponse = z.infer<typeof runBatchResponseSchema>;

/** What a claim's worker needs of the Function (the claim carries it by fingerprint, docs/adr/0100). */
export type FunctionClaimSpec = Pick<
  FunctionRuntimeSpec,
  'k8sNamespace' | 'name' | 'inputs' | 'output' | 'filter' | 'worker'
>;

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

/** Claim batches as `parts`: consecutive ranges of one namespace share one chain. */
export function claimParts(
  batches: readonly { batchId: string; rows: number; payload: FunctionBatchPayload }[],
): NonNullable<FunctionClaimInput['parts']> {
  type Open = {
    namespace: string;
    afterId: RowId | null;
    batchIds: string[];
    lastIds: RowId[];
    rows: number[];
  };
  const parts: ({ batchId: string; namespace: string; ids: RowId[] } | Open)[] = [];
  for (const { batchId, rows, payload } of batches) {
    if (!isRangePayload(payload)) {
      parts.push({ batchId, namespace: payload.namespace, ids: payload.ids });
      continue;
    }
    const last = parts[parts.length - 1];
    if (
      last &&
      'lastIds' in last &&
      last.namespace === payload.namespace &&
      payload.afterId !== null &&
      sameId(last.lastIds[last.lastIds.length - 1]!, payload.afterId)
    ) {
      last.batchIds.push(batchId);
      last.lastIds.push(payload.lastId);
      last.rows.push(rows);
    } else
      parts.push({
        namespace: payload.namespace,
        afterId: payload.afterId,
        batchIds: [batchId],
        lastIds: [payload.lastId],
        rows: [rows],
      });
  }
  // Discovery numbers its batches in order: a run of them is a prefix and the first number; UUIDs
  // travel packed, and rows once when every batch has as many.
  return parts.map((part) =>
    'lastIds' in part
      ? {
          ...part,
          batchIds: numberedRun(part.batchIds),
          lastIds: packRowIds(part.lastIds),
          rows: part.rows.every((n) => n === part.rows[0]) ? part.rows[0]! : part.rows,
        }
      : part,
  );
}

function numberedRun(ids: string[]): FunctionRangeChain['batchIds'] {
  const m = /^(.*?)(\d+)$/.exec(ids[0] ?? '');
  if (!m || ids.length < 2 || (m[2]!.length > 1 && m[2]!.startsWith('0'))) return ids;
  const prefix = m[1]!;
  const from = Number(m[2]);
  return ids.every((id, i) => id === `${prefix}${from + i}`) ? { prefix, from } : ids;
}

function sameId(a: RowId, b: RowId): boolean {
  return typeof a === typeof b && a === b;
}

/** The workflow's answer to a worker asking for a claim's spec by its fingerprint (null: not one of its claims'). */
export const claimSpecQuery = defineQuery<FunctionClaimSpec | null, [string]>('claimSpec');

/** Counters a Function batch reports in its outcome. */
export interface FunctionBatchCounts extends Record<string, number> {
  written: number;
  skipped: number;
  superseded: number;
}

export type FunctionBatchOutcome = BatchOutcome;
export type FunctionClaimResult = ClaimReport;

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
