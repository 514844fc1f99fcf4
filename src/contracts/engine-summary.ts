// A workload workflow's summary in its memo (docs/adr/0127): the few figures the operator and KEDA
// read on every pass and poll — the spec fingerprint it runs, its phase, pending rows, queue depth
// and a degraded reason. A describe returns the memo from the server's own record, so reading it
// needs no workflow task: a query, by contrast, is a task on the orchestrator's queue and replays
// the whole history of a workflow evicted from the worker's cache. With 1,000 Functions those
// queries (one per KEDA poll and one per reconcile pass) timed out and KEDA never saw rows appear.
// Publishing is throttled (`summaryToPublish`) so a busy run adds at most one event every few
// seconds to its history. Pure and sandbox-safe: the workflows and the clients import it.
import { z } from 'zod';

/** The memo key the summary is written under (one key: an upsert replaces it whole). */
export const ENGINE_SUMMARY_MEMO_KEY = 'layerEngine';

/**
 * A change only of the counts (pending rows, queue depth) waits this long after the last publish,
 * in workflow time; KEDA polls every 15–30 s, so a value this old still scales right.
 */
export const SUMMARY_COUNTS_MIN_INTERVAL_MS = 5_000;

export const engineSummarySchema = z.object({
  /** specFingerprint of the CR spec the workflow holds (the operator resends on a mismatch). */
  specFingerprint: z.string(),
  phase: z.string(),
  /** Rows lacking the output version at the last count (Function) or items waiting (Pipeline). */
  pendingRows: z.number().int().nonnegative(),
  /** What KEDA scales on: batches waiting for or held by a worker (contracts/queue-depth.ts). */
  queueDepth: z.number().int().nonnegative(),
  degraded: z.object({ reason: z.string(), message: z.string(), hint: z.string() }).optional(),
});
export type EngineSummary = z.infer<typeof engineSummarySchema>;

/** What the summary was when last written, and when (workflow time). */
export interface PublishedSummary {
  summary: EngineSummary;
  atMs: number;
}

const crossesZero = (a: number, b: number) => (a === 0) !== (b === 0);

/**
 * The summary to upsert now, or undefined to leave the memo as it is. A new fingerprint, phase or
 * degraded reason, and the queue or pending count reaching or leaving zero, are written at once
 * (KEDA's activation and the operator's resend depend on them); other count changes at most every
 * SUMMARY_COUNTS_MIN_INTERVAL_MS. A change held back is written by the next loop pass after the
 * interval — a busy run has one at every claim report; an idle one has nothing left to change.
 *
 * @example summaryToPublish(undefined, s, 0) // s: the first pass always writes
 */
export function summaryToPublish(
  last: PublishedSummary | undefined,
  next: EngineSummary,
  nowMs: number,
): EngineSummary | undefined {
  if (!last) return next;
  const prev = last.summary;
  if (
    prev.specFingerprint !== next.specFingerprint ||
    prev.phase !== next.phase ||
    prev.degraded?.reason !== next.degraded?.reason ||
    crossesZero(prev.queueDepth, next.queueDepth) ||
    crossesZero(prev.pendingRows, next.pendingRows)
  )
    return next;
  if (prev.queueDepth === next.queueDepth && prev.pendingRows === next.pendingRows) return undefined;
  return nowMs - last.atMs >= SUMMARY_COUNTS_MIN_INTERVAL_MS ? next : undefined;
}

/**
 * The summary in a describe's decoded memo; undefined when the run has none (started before the
 * summary existed, or the first task has not completed yet) — callers then fall back to a query.
 */
export function engineSummaryFromMemo(memo: Record<string, unknown> | undefined): EngineSummary | undefined {
  const parsed = engineSummarySchema.safeParse(memo?.[ENGINE_SUMMARY_MEMO_KEY]);
  return parsed.success ? parsed.data : undefined;
}
