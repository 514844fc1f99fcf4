// Runs one claim: its batches one after another, each written back as it finishes, progress
// heartbeated after every batch and on a timer while a batch runs. Used by the pull worker SDK
// and by the orchestrator's push activities, for Functions and Pipelines alike.
//
// - A retried claim (the worker died, its heartbeat lapsed) resumes after the last batch its
//   heartbeat reported: finished batches are neither recomputed nor counted twice.
// - A batch that fails is recorded with its typed failure and the claim goes on with the next
//   batch; the workflow decides about retries and splitting.
// - A systemic failure (store credentials, store or worker down) stops the claim at once: the
//   batches after it are not run, and the workflow holds dispatch back.
import { CLAIM_HEARTBEAT_EVERY_MS, type BatchOutcome, type ClaimReport } from '../contracts/claims.js';
import { isSystemicFailure, type FailureReport } from '../contracts/failures.js';
import { classifyError } from './failures.js';

export interface BatchRunResult {
  counts: Record<string, number>;
  rowFailures?: FailureReport[];
}

export interface ClaimRunOptions {
  /** The last heartbeat of an earlier attempt of this claim. */
  resumeFrom?: ClaimReport | undefined;
  heartbeat?: (progress: ClaimReport) => void;
  heartbeatEveryMs?: number;
  /** Aborted when the claim is cancelled: the run stops between batches and rethrows. */
  signal?: AbortSignal | undefined;
  now?: () => number;
}

export async function runClaim<B extends { batchId: string }>(
  claimId: string,
  batches: readonly B[],
  runBatch: (batch: B) => Promise<BatchRunResult>,
  options: ClaimRunOptions = {},
): Promise<ClaimReport> {
  const now = options.now ?? (() => performance.now());
  const progress: ClaimReport = { claimId, outcomes: [...(options.resumeFrom?.outcomes ?? [])] };
  const done = new Set(progress.outcomes.map((o) => o.batchId));
  const beat = () => options.heartbeat?.({ claimId, outcomes: [...progress.outcomes] });
  // A long batch must not look like a dead worker: beat on a timer as well.
  const timer = options.heartbeat
    ? setInterval(beat, options.heartbeatEveryMs ?? CLAIM_HEARTBEAT_EVERY_MS)
    : undefined;
  timer?.unref?.();
  try {
    for (const batch of batches) {
      if (done.has(batch.batchId)) continue;
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('claim cancelled');
      const started = now();
      let outcome: BatchOutcome;
      try {
        const result = await runBatch(batch);
        outcome = {
          batchId: batch.batchId,
          status: 'done',
          ms: Math.round(now() - started),
          counts: result.counts,
          ...(result.rowFailures && result.rowFailures.length > 0 ? { rowFailures: result.rowFailures } : {}),
        };
      } catch (err) {
        if (options.signal?.aborted) throw err;
        const failure = classifyError(err);
        if (isSystemicFailure(failure.type)) return { ...progress, systemic: failure };
        outcome = { batchId: batch.batchId, status: 'failed', ms: Math.round(now() - started), failure };
      }
      progress.outcomes.push(outcome);
      beat();
    }
    return progress;
  } finally {
    if (timer) clearInterval(timer);
  }
}
