// What a workload workflow measures about its own batches for Prometheus: failure and retry counts
// by type, lost claims, and two fixed-bucket histograms (batch seconds, rows/s) built from
// the `ms` and counts every worker already reports in a batch outcome. Held in workflow state so
// they survive continue-as-new and cover pull and push workers alike; the HTTP API exports them
// from the status query (docs/adr/0060-metrics-where-measured.md). Sandbox-safe: zod only.
import { z } from 'zod';
import { sharedSchema } from '../../packages/worker/src/contracts/shared-schema.js';
import { FailureType } from '../../packages/worker/src/contracts/failures.js';

/**
 * Upper bounds of the batch-duration buckets, seconds. Part of the carried state's meaning: a
 * change needs a new metric name (old runs carry counts for these bounds).
 */
export const BATCH_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
/** Upper bounds of the per-batch throughput buckets, rows per second. Same rule as above. */
export const BATCH_ROWS_PER_SECOND_BUCKETS = [
  1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000,
] as const;

/** Per-bucket (not cumulative) counts, the last one for values above every bound (+Inf). */
export const histogramStateSchema = sharedSchema('observations.histogramState', () =>
  z.object({
    counts: z.array(z.number().int().nonnegative()).default([]),
    sum: z.number().nonnegative().default(0),
    count: z.number().int().nonnegative().default(0),
  }),
);
export type HistogramState = z.infer<typeof histogramStateSchema>;

export const workloadObservationsSchema = sharedSchema('observations.workloadObservations', () =>
  z.object({
    /** Batch attempts that failed and were scheduled again, by failure type. */
    retriesByType: z.record(z.string(), z.number().int().nonnegative()).default({}),
    /** Failed batch outcomes and failed claims, by failure type (retried or not). */
    failuresByType: z.record(z.string(), z.number().int().nonnegative()).default({}),
    /**
     * Claims that ended lost (FailureType.ClaimLost: heartbeat or lease timeout) once Temporal's
     * retries of the claim activity were used up. A lapse that a retry of the same claim recovers
     * is not seen by the workflow (it shows as the claim's attempt count in the Temporal UI).
     */
    claimsLost: z.number().int().nonnegative().default(0),
    /** Claim attempts after the first that Temporal ran (an earlier attempt's lease lapsed, mostly). */
    claimRetries: z.number().int().nonnegative().default(0),
    batchSeconds: histogramStateSchema.prefault({}),
    batchRowsPerSecond: histogramStateSchema.prefault({}),
  }),
);
export type WorkloadObservations = z.infer<typeof workloadObservationsSchema>;

const KNOWN_FAILURE_TYPES = new Set<string>(Object.values(FailureType));

/**
 * A failure type as a metric label: one of FailureType, else `Other`. A handler may throw an
 * ApplicationFailure of any type; the label set must stay bounded.
 */
export function failureTypeLabel(type: string | undefined): string {
  return type !== undefined && KNOWN_FAILURE_TYPES.has(type) ? type : 'Other';
}

/** Adds one value to a fixed-bucket histogram (in place). */
function observeHistogram(h: HistogramState, bounds: readonly number[], value: number): void {
  if (!Number.isFinite(value) || value < 0) return;
  if (h.counts.length !== bounds.length + 1) h.counts = Array.from({ length: bounds.length + 1 }, () => 0);
  let i = bounds.findIndex((b) => value <= b);
  if (i < 0) i = bounds.length;
  h.counts[i] = (h.counts[i] ?? 0) + 1;
  h.sum += value;
  h.count += 1;
}

/** Counts one finished batch: its wall time and, when it took any time, its rows per second. */
export function observeBatch(o: WorkloadObservations, ms: number, rows: number): void {
  observeHistogram(o.batchSeconds, BATCH_SECONDS_BUCKETS, ms / 1000);
  if (ms > 0) observeHistogram(o.batchRowsPerSecond, BATCH_ROWS_PER_SECOND_BUCKETS, (rows * 1000) / ms);
}

/** Counts one failure (and a lost claim when it is one). */
export function observeFailure(o: WorkloadObservations, type: string): void {
  const label = failureTypeLabel(type);
  o.failuresByType[label] = (o.failuresByType[label] ?? 0) + 1;
  if (type === FailureType.ClaimLost) o.claimsLost += 1;
}

export function observeRetry(o: WorkloadObservations, type: string): void {
  const label = failureTypeLabel(type);
  o.retriesByType[label] = (o.retriesByType[label] ?? 0) + 1;
}

/** Counts the lost attempts before a claim's finishing one (ClaimReport.attempt). */
export function observeClaimAttempt(o: WorkloadObservations, attempt: number | undefined): void {
  if (attempt !== undefined && attempt > 1) o.claimRetries += attempt - 1;
}
