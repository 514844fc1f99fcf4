// The Function workflow's own contracts: its runtime spec, what it carries across continue-as-new,
// its status and its messages, and how it packs a claim's batches. The part a worker reads (the
// batch and claim contract) is packages/worker/src/contracts/function.ts. Sandbox-safe (zod and
// @temporalio/workflow only): the workflow parses its own input with these schemas after
// continue-as-new.
import { z } from 'zod';
import { sharedSchema } from '../../packages/worker/src/contracts/shared-schema.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import {
  functionClaimSpecSchema,
  packRowIds,
  rowIdSchema,
  writtenSpanSchema,
  type FunctionClaimInput,
  type FunctionRangeChain,
  type RowId,
} from '../../packages/worker/src/contracts/function.js';
import { envelopeCarriedSchema, type DegradedStatus } from './envelope-state.js';
import { workloadObservationsSchema, type WorkloadObservations } from './observations.js';

/**
 * Everything the engine needs from a Function, normalised: namespaces already resolved (from
 * targetNamespaces or, by the operator, from indexSelector), defaults applied.
 */
export const functionRuntimeSpecSchema = sharedSchema('function.functionRuntimeSpec', () =>
  functionClaimSpecSchema.extend({
    /** metadata.generation of the CR this spec came from (0 in local mode). */
    generation: z.number().int().nonnegative().default(0),
    targetNamespaces: z.array(z.string().min(1)),
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
  }),
);
export type FunctionRuntimeSpec = z.infer<typeof functionRuntimeSpecSchema>;

/** Canary rollouts (src/envelope/rollout.ts). One sampled row: its current value at the old version beside the canary's value. */
export const canaryComparisonSchema = sharedSchema('function.canaryComparison', () =>
  z.object({
    namespace: z.string(),
    id: z.union([z.number(), z.string()]),
    /** `<attribute>` and `<attribute>_v` as the row has them now (null when never computed). */
    old: z.unknown(),
    oldVersion: z.string().nullable(),
    /** `<attribute>__canary`: what the new version computed (null when that row failed). */
    new: z.unknown(),
  }),
);
export type CanaryComparison = z.infer<typeof canaryComparisonSchema>;

export const rolloutStateSchema = sharedSchema('function.rolloutState', () =>
  z.object({
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
  }),
);
export type RolloutState = z.infer<typeof rolloutStateSchema>;

/** Counters that survive continue-as-new. */
export const functionCountersSchema = sharedSchema('function.functionCounters', () =>
  z.object({
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
  }),
);
export type FunctionCounters = z.infer<typeof functionCountersSchema>;

/** A Function batch as an explicit list of ids of one store namespace (canary, split halves, older runs). */
const functionIdListPayloadSchema = sharedSchema('function.functionIdListPayload', () =>
  z.object({
    namespace: z.string(),
    ids: z.array(rowIdSchema),
    /** Cut from a range batch (its resolved rows): held like a range, so no new pass overlaps it. */
    fromRange: z.literal(true).optional(),
  }),
);

/**
 * A Function batch as an id range (docs/adr/0100): the rows in (afterId, lastId] that still match
 * the Function's candidate filter, resolved by the worker. afterId null: from the first id.
 */
const functionRangePayloadSchema = sharedSchema('function.functionRangePayload', () =>
  z.object({
    namespace: z.string(),
    afterId: rowIdSchema.nullable(),
    lastId: rowIdSchema,
  }),
);
export type FunctionRangePayload = z.infer<typeof functionRangePayloadSchema>;

/** A Function batch as the envelope holds it: an id range, or an explicit id list (older runs' only kind). */
export const functionBatchPayloadSchema = sharedSchema('function.functionBatchPayload', () =>
  z.union([functionIdListPayloadSchema, functionRangePayloadSchema]),
);
export type FunctionBatchPayload = z.infer<typeof functionBatchPayloadSchema>;

export function isRangePayload(p: FunctionBatchPayload): p is FunctionRangePayload {
  return 'lastId' in p;
}

/**
 * The record of recent writes (docs/adr/0110): spans per store namespace, each tagged with the
 * record's epoch when written; an index check started at a later epoch that finds the namespace
 * indexed drops them. Bounded: MAX_WRITTEN_SPANS (src/envelope/unindexed-writes.ts).
 */
export const unindexedWritesSchema = sharedSchema('function.unindexedWrites', () =>
  z.object({
    /** The output the spans were written at (`attribute@version`): another output starts afresh. */
    output: z.string(),
    epoch: z.number().int().nonnegative().default(0),
    spans: z
      .record(z.string(), z.array(writtenSpanSchema.extend({ epoch: z.number().int().nonnegative() })))
      .default({}),
  }),
);
export type UnindexedWrites = z.infer<typeof unindexedWritesSchema>;

/** What a Function workflow carries from one run to the next (plain JSON, bounded). */
export const functionCarriedStateSchema = sharedSchema('function.functionCarriedState', () =>
  z.object({
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
    /** Rows written that the store may not show yet (docs/adr/0110; runs of the unindexed-writes patch). */
    unindexedWrites: unindexedWritesSchema.optional(),
  }),
);
export type FunctionCarriedState = z.infer<typeof functionCarriedStateSchema>;

export const functionWorkflowInputSchema = sharedSchema('function.functionWorkflowInput', () =>
  z.object({
    spec: functionRuntimeSpecSchema,
    state: functionCarriedStateSchema.optional(),
    /** Tests only: continue-as-new after this many dispatches (claims) instead of the default. */
    batchesPerRun: z.number().int().positive().optional(),
  }),
);
export type FunctionWorkflowInput = z.infer<typeof functionWorkflowInputSchema>;

/** `degraded`: a systemic failure (store credentials, store or worker down) holds dispatch back. */
/** `canary` / `awaitingPromotion`: a new output version runs on a sample / waits for promote or abort. */
export type FunctionPhase =
  'running' | 'idle' | 'paused' | 'draining' | 'degraded' | 'canary' | 'awaitingPromotion';

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
  /**
   * The record of writes the store may not show yet (docs/adr/0110): spans held and their size
   * as carried across continue-as-new. Absent when empty.
   */
  unindexedWrites?: { spans: number; bytes: number };
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
