// The claim contract shared by Functions and Pipelines. A claim is one activity that carries
// several batches; the worker that claims it runs them one after another (one batch leased at a
// time), writes each back as it finishes and heartbeats its progress, so a retried claim resumes
// after its last finished batch and the next batch of a busy worker never waits for a workflow
// task (docs/adr/0011). Sandbox-safe: the workflows parse these shapes.
import type { FailureReport } from './failures.js';

/** What happened to one batch of a claim. `counts` are the kind's own counters (rows written…). */
export type BatchOutcome =
  | {
      batchId: string;
      status: 'done';
      /** Wall time of the batch on the worker (read, compute, write). */
      ms: number;
      counts?: Record<string, number>;
      /** Row-scoped failures inside an otherwise finished batch: these rows are dead-lettered. */
      rowFailures?: FailureReport[];
    }
  | { batchId: string; status: 'failed'; ms: number; failure: FailureReport };

/** Progress of a claim: what its heartbeat carries, and what it returns when it ends. */
export interface ClaimReport {
  claimId: string;
  /** One outcome per finished batch, in claim order; batches after the last one did not run. */
  outcomes: BatchOutcome[];
  /** Set when a systemic failure stopped the claim: the batches after `outcomes` did not run. */
  systemic?: FailureReport;
  /**
   * The activity attempt that finished the claim, when > 1: earlier attempts were lost (lease or
   * heartbeat timeout, mostly) and Temporal retried the claim (the workflow counts them, ADR 0060).
   */
  attempt?: number;
  /**
   * Heartbeats of a retried claim only: the batch it computes first and, for a range batch, the
   * rows it resolved — so a claim that dies on it (a row that crashes the worker) still pins that
   * batch to its rows and the envelope can isolate them (docs/adr/0100).
   */
  running?: { batchId: string; batchRowIds?: (string | number)[] };
}

/**
 * A claim's result packed for history (docs/adr/0100). Outcomes are always a prefix of the claim's
 * batches in claim order, so they are columns by position: `ms[i]` and each count `counts[k][i]`
 * (a count that is zero in every batch is left out); a failed batch's failure is under its
 * position in `failed`, row failures of a done batch under its position in `rowFailures`.
 */
export interface PackedClaimReport {
  claimId: string;
  /** The first `n` batches of the claim have outcomes. */
  n: number;
  ms: number[];
  counts?: Record<string, number[]>;
  failed?: Record<string, FailureReport>;
  rowFailures?: Record<string, FailureReport[]>;
  systemic?: FailureReport;
  attempt?: number;
}

/** Packs a report whose outcomes are a prefix of `batchIds` (in order); else returns it as it is. */
export function packClaimReport(
  report: ClaimReport,
  batchIds: readonly string[],
): PackedClaimReport | ClaimReport {
  const { outcomes } = report;
  if (outcomes.some((o, i) => o.batchId !== batchIds[i])) return report;
  const counts: Record<string, number[]> = {};
  const failed: Record<string, FailureReport> = {};
  const rowFailures: Record<string, FailureReport[]> = {};
  for (const [i, o] of outcomes.entries()) {
    if (o.status === 'failed') {
      failed[i] = o.failure;
      continue;
    }
    for (const [k, v] of Object.entries(o.counts ?? {})) {
      if (v === 0) continue;
      (counts[k] ??= new Array<number>(outcomes.length).fill(0))[i] = v;
    }
    if (o.rowFailures && o.rowFailures.length > 0) rowFailures[i] = o.rowFailures;
  }
  return {
    claimId: report.claimId,
    n: outcomes.length,
    ms: outcomes.map((o) => o.ms),
    ...(Object.keys(counts).length > 0 ? { counts } : {}),
    ...(Object.keys(failed).length > 0 ? { failed } : {}),
    ...(Object.keys(rowFailures).length > 0 ? { rowFailures } : {}),
    ...(report.systemic ? { systemic: report.systemic } : {}),
    ...(report.attempt !== undefined ? { attempt: report.attempt } : {}),
  };
}

/** A claim's result as the workflow uses it, packed or not; `batchIds` are the claim's, in order. */
export function unpackClaimReport(
  result: PackedClaimReport | ClaimReport,
  batchIds: readonly string[],
): ClaimReport {
  if ('outcomes' in result) return result;
  const outcomes: BatchOutcome[] = [];
  for (let i = 0; i < result.n; i++) {
    const batchId = batchIds[i] ?? `#${i}`;
    const ms = result.ms[i] ?? 0;
    const failure = result.failed?.[i];
    if (failure) {
      outcomes.push({ batchId, status: 'failed', ms, failure });
      continue;
    }
    const counts: Record<string, number> = {};
    for (const [k, column] of Object.entries(result.counts ?? {})) counts[k] = column[i] ?? 0;
    const rowFailures = result.rowFailures?.[i];
    outcomes.push({ batchId, status: 'done', ms, counts, ...(rowFailures ? { rowFailures } : {}) });
  }
  return {
    claimId: result.claimId,
    outcomes,
    ...(result.systemic ? { systemic: result.systemic } : {}),
    ...(result.attempt !== undefined ? { attempt: result.attempt } : {}),
  };
}

/** Heartbeat interval of a claim, and the heartbeat timeout that detects a dead claimant. */
export const CLAIM_HEARTBEAT_TIMEOUT_MS = 10_000;
export const CLAIM_HEARTBEAT_EVERY_MS = 2_000;

/** Reads a claim's heartbeat details back (anything else means: start from the first batch). */
export function claimProgressFrom(details: unknown, claimId: string): ClaimReport | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const d = details as Partial<ClaimReport>;
  if (d.claimId !== claimId || !Array.isArray(d.outcomes)) return undefined;
  const running = d.running && typeof d.running.batchId === 'string' ? { running: d.running } : {};
  return { claimId, outcomes: d.outcomes, ...running };
}
