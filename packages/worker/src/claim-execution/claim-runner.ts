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
import { CLAIM_HEARTBEAT_EVERY_MS, type ClaimReport } from '../contracts/claims.js';
import { isSystemicFailure, type FailureReport } from '../contracts/failures.js';
import { classifyError } from './failures.js';

export interface BatchRunResult {
  counts: Record<string, number>;
  rowFailures?: FailureReport[];
}

/**
 * A batch in three stages. `compute` is the handler call and runs one at a time per claim — the
 * lease; the next batch's `prepare` (reads) and the previous batch's `finish` (validate, write)
 * overlap it, so the handler is never idle waiting for the store.
 */
export interface BatchStages<B, R, C> {
  prepare(batch: B): Promise<R>;
  compute(batch: B, prepared: R): Promise<C>;
  finish(batch: B, prepared: R, computed: C): Promise<BatchRunResult>;
  /** What a failure of a prepared batch adds to its report (a range batch: the rows it resolved). */
  failureDetails?(batch: B, prepared: R): Partial<FailureReport>;
}

export interface ClaimRunOptions {
  /** The last heartbeat of an earlier attempt of this claim. */
  resumeFrom?: ClaimReport | undefined;
  heartbeat?: (progress: ClaimReport) => void;
  heartbeatEveryMs?: number;
  /**
   * No progress heartbeat in a claim's first this-many ms (default: heartbeatEveryMs). Temporal
   * bills each heartbeat that reaches the server and sends the first at once, so a claim shorter
   * than this costs one action instead of two; a retry of it recomputes nothing all the same
   * (written rows no longer match, and count as written: docs/adr/0100).
   */
  quietMs?: number;
  /** The activity attempt running the claim; reported when > 1 (an earlier attempt was lost). */
  attempt?: number | undefined;
  /** Aborted when the claim is cancelled: the run stops between batches and rethrows. */
  signal?: AbortSignal | undefined;
  /**
   * Aborted when the worker is stopping (SIGTERM: scale-in, rollout, node drain): the batch being
   * computed still finishes and is written, then the run returns without starting another; the
   * batches after it are reported unrun, which hands them back (docs/adr/0103).
   */
  stopTaking?: AbortSignal | undefined;
  now?: () => number;
  /** Sees every error a stage threw, before classification (a shared rate limit hears 429s). */
  onStageError?: (err: unknown) => void;
}

/** `options` with `observer` also hearing every stage error (a shared rate limit hears a 429 anywhere). */
export function alsoObserving(
  options: ClaimRunOptions,
  observer: { observe(err: unknown): void } | undefined,
): ClaimRunOptions {
  if (!observer) return options;
  return {
    ...options,
    onStageError: (err) => {
      observer.observe(err);
      options.onStageError?.(err);
    },
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export async function runClaim<B extends { batchId: string }, R, C>(
  claimId: string,
  batches: readonly B[],
  stages: BatchStages<B, R, C>,
  options: ClaimRunOptions = {},
): Promise<ClaimReport> {
  const now = options.now ?? (() => performance.now());
  const progress: ClaimReport = { claimId, outcomes: [...(options.resumeFrom?.outcomes ?? [])] };
  const finished = new Set(progress.outcomes.map((o) => o.batchId));
  const todo = batches.filter((b) => !finished.has(b.batchId));
  const beat = () => options.heartbeat?.({ claimId, outcomes: [...progress.outcomes] });
  const startedAt = now();
  const quietMs = options.quietMs ?? options.heartbeatEveryMs ?? CLAIM_HEARTBEAT_EVERY_MS;
  // A long batch must not look like a dead worker: beat on a timer as well.
  const timer = options.heartbeat
    ? setInterval(beat, options.heartbeatEveryMs ?? CLAIM_HEARTBEAT_EVERY_MS)
    : undefined;
  timer?.unref?.();

  let systemic: FailureReport | undefined;
  /** Records a batch's end, or stops the claim on a systemic failure (the batch is then unrun). */
  const record = (batch: B, ms: number, result: Settled<BatchRunResult>, prepared?: { value: R }) => {
    if (systemic) return;
    if (result.ok) {
      const { counts, rowFailures } = result.value;
      progress.outcomes.push({
        batchId: batch.batchId,
        status: 'done',
        ms,
        counts,
        ...(rowFailures && rowFailures.length > 0 ? { rowFailures } : {}),
      });
    } else {
      options.onStageError?.(result.error);
      const failure = classifyError(result.error);
      if (isSystemicFailure(failure.type)) {
        systemic = failure;
        return;
      }
      const details = prepared && stages.failureDetails ? stages.failureDetails(batch, prepared.value) : {};
      progress.outcomes.push({
        batchId: batch.batchId,
        status: 'failed',
        ms,
        failure: { ...failure, ...details },
      });
    }
    if (now() - startedAt >= quietMs) beat();
  };

  let preparing = todo[0] ? settle(stages.prepare(todo[0])) : undefined;
  /** A retried claim says which batch it computes first, with its rows (ClaimReport.running). */
  let announce = (options.attempt ?? 1) > 1 && stages.failureDetails !== undefined;
  /** The previous batch's write: outcomes are recorded in claim order, one write at a time. */
  let finishing: Promise<void> = Promise.resolve();
  /** When the handler slot became free: a batch's `ms` is the slot time it took. */
  let slotFreeAt = now();
  try {
    for (const [i, batch] of todo.entries()) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('claim cancelled');
      const prepared = await preparing!;
      if (options.stopTaking?.aborted) break;
      const next = todo[i + 1];
      preparing = next && !systemic ? settle(stages.prepare(next)) : undefined;
      if (!prepared.ok) {
        await finishing;
        record(batch, Math.round(now() - slotFreeAt), prepared);
        slotFreeAt = now();
        if (systemic) break;
        continue;
      }
      if (announce) {
        announce = false;
        const details = stages.failureDetails!(batch, prepared.value);
        options.heartbeat?.({
          claimId,
          outcomes: [...progress.outcomes],
          running: {
            batchId: batch.batchId,
            ...(details.batchRowIds ? { batchRowIds: details.batchRowIds } : {}),
          },
        });
      }
      const computed = await settle(stages.compute(batch, prepared.value));
      const ms = Math.round(now() - slotFreeAt);
      slotFreeAt = now();
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('claim cancelled');
      await finishing;
      if (systemic) break;
      if (!computed.ok) {
        record(batch, ms, computed, prepared);
        if (systemic) break;
        continue;
      }
      finishing = settle(stages.finish(batch, prepared.value, computed.value)).then((result) =>
        record(batch, ms, result, prepared),
      );
    }
    await finishing;
    // A prefetch started before a systemic stop must not end as an unhandled rejection.
    await preparing;
    const attempt = options.attempt !== undefined && options.attempt > 1 ? { attempt: options.attempt } : {};
    return systemic ? { ...progress, ...attempt, systemic } : { ...progress, ...attempt };
  } finally {
    if (timer) clearInterval(timer);
  }
}
