// What the claim-workflow shell uses around the envelope: how a failed activity becomes a typed
// report, the claim activity's options, what crosses continue-as-new, and the wait for the next
// event. Sandbox-safe.
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  type ActivityOptions,
} from '@temporalio/workflow';
import { CLAIM_HEARTBEAT_TIMEOUT_MS } from '../../packages/worker/src/contracts/claims.js';
import {
  FailureType,
  NON_RETRYABLE_FAILURE_TYPES,
  type FailureReport,
} from '../../packages/worker/src/contracts/failures.js';
import { truncateErrorText } from '../../packages/worker/src/contracts/error-text.js';
import { batchRetryPolicy, type BatchRetrySpec } from './batch-retry-policy.js';
import type { BatchEnvelope, Claim } from './batch-envelope.js';

/** A failed activity as a typed report, with a claim's last heartbeat when it has one. */
export function failureOf(err: unknown): { failure: FailureReport; progress?: unknown } {
  const { failure, progress } = failureOfUnbounded(err);
  // Bounded before it reaches state, status and continue-as-new (docs/adr/0075).
  return {
    failure: { ...failure, message: truncateErrorText(failure.message) },
    ...(progress !== undefined ? { progress } : {}),
  };
}

function failureOfUnbounded(err: unknown): { failure: FailureReport; progress?: unknown } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure)
    return {
      failure: { type: FailureType.ClaimLost, message: `claim lost by its worker: ${cause.message}` },
      progress: cause.lastHeartbeatDetails,
    };
  if (cause instanceof ApplicationFailure) {
    const rowIds = (cause.details?.[0] as FailureReport | undefined)?.rowIds;
    return {
      failure: {
        type: cause.type ?? FailureType.HandlerFailed,
        message: cause.message,
        ...(rowIds ? { rowIds } : {}),
      },
    };
  }
  return {
    failure: {
      type: FailureType.HandlerFailed,
      message: cause instanceof Error ? cause.message : String(cause),
    },
  };
}

/**
 * Options of a claim activity. The lease bounds a live claimant (leaseSeconds per batch it
 * carries); the heartbeat timeout finds a dead one within seconds, and the retry resumes after
 * its last reported batch.
 */
export function claimActivityOptions(
  claim: Claim<unknown>,
  /** what: the work the claim carries, e.g. "24 rows from ns products". */
  opts: {
    leaseSeconds: number;
    retry: BatchRetrySpec;
    maxAttempts: number;
    what: string;
    /** A shared rate limit's wait allowance (claimPermitWaitMs): added, so waits never eat the lease. */
    permitWaitMs?: number;
  },
): ActivityOptions {
  const leaseMs = opts.leaseSeconds * 1000;
  return {
    startToCloseTimeout: leaseMs * claim.batches.length + (opts.permitWaitMs ?? 0),
    heartbeatTimeout: Math.min(leaseMs, CLAIM_HEARTBEAT_TIMEOUT_MS),
    retry: batchRetryPolicy(opts.retry, opts.maxAttempts, NON_RETRYABLE_FAILURE_TYPES),
    summary: claimSummary(claim, opts.what),
  };
}

/**
 * How long a claim may wait for shared-rate-limit permits in all (docs/adr/0074): one lease, on
 * top of the lease per batch its handler calls have. A permit due later is not booked; the claim
 * stops with RateLimitWait and the workload dispatches again when the permit is due.
 */
export function claimPermitWaitMs(leaseSeconds: number): number {
  return leaseSeconds * 1000;
}

/**
 * A claim activity's line in the Temporal UI: what it carries first ("24 rows from ns products"),
 * then how it is cut and its id, so a person reads the work, not our bookkeeping.
 */
export function claimSummary(claim: Claim<unknown>, what: string): string {
  const n = claim.batches.length;
  return `${what} in ${n} ${n === 1 ? 'batch' : 'batches'} · claim ${claim.claimId}${claim.probe ? ' (probe after failures)' : ''}`;
}

/** What the envelope carries into the next run (its claims were drained first). */
export function carriedEnvelope<P>(envelope: BatchEnvelope<P>) {
  const { waiting, claimSeq, batchMsAverage, degraded } = envelope.state;
  return {
    waiting,
    claimSeq,
    ...(batchMsAverage !== undefined ? { batchMsAverage } : {}),
    ...(degraded ? { degraded } : {}),
  };
}

/**
 * Waits until `changed()` or the earliest of `wakeAtMs` (workflow time), whichever comes first,
 * and resolves with the workflow time the wait reached: when the timer ended it, at least the wake
 * time. A task that a query rode in on (an evicted workflow's legacy query) was seen to run with
 * the previous task's clock, so the fired timer's loop found its deadline not yet due, started the
 * same timer again, and the history no longer replayed (docs/adr/0126). On a correct clock the
 * result is Date.now(), so recorded runs replay as before.
 */
export async function waitForNextEvent(
  changed: () => boolean,
  wakeAtMs: (number | undefined)[],
): Promise<number> {
  const times = wakeAtMs.filter((t): t is number => t !== undefined);
  if (times.length === 0) {
    await condition(changed);
    return Date.now();
  }
  const wakeAt = Math.min(...times);
  const changedFirst = await condition(changed, Math.max(1, wakeAt - Date.now()));
  return changedFirst ? Date.now() : Math.max(Date.now(), wakeAt);
}
