// The one place that classifies an error into a failure type of src/contracts/failures.ts, on
// every side that runs batches: the orchestrator's activities, the pull worker SDK and the claim
// runner. The workflows read the type (and its scope), never the message.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FailureType, failureKind, type FailureReport, type FailureTypeName } from '../contracts/failures.js';
import { MAX_ERROR_TEXT_CHARS, truncateErrorText } from '../contracts/error-text.js';
import {
  StoreAuthError,
  StoreBadRequestError,
  StoreError,
  StoreNotFoundError,
  StoreRateLimitError,
  isRetryableStoreError,
} from '../store/errors.js';
import { InvalidPipelineOutputError, InvalidWorkerAnswerError, InvalidWorkerOutputError } from './errors.js';

type WorkerFailureType = Extract<
  FailureTypeName,
  'HandlerFailed' | 'WorkerRejectedBatch' | 'WorkerUnavailable' | 'Quota'
>;

/** A worker call failed: the handler threw or timed out, or a push worker answered badly. */
export class WorkerCallError extends Error {
  readonly type: WorkerFailureType;
  constructor(
    message: string,
    /** A failure type, or (older callers) retryable → HandlerFailed, not → WorkerRejectedBatch. */
    type: WorkerFailureType | boolean,
    /** A 429's Retry-After in ms, when the worker or provider sent one (shared rate limits). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WorkerCallError';
    this.type = type === true ? 'HandlerFailed' : type === false ? 'WorkerRejectedBatch' : type;
  }
}

/**
 * The shared rate limit has no permit for this call within the claim's wait allowance
 * (docs/adr/0074). Nothing was booked; the claim stops (failure type RateLimitWait, systemic) and
 * the workload dispatches again when a permit is due. Not a 429: the budget is not slowed down.
 */
export class PermitDeferredError extends Error {
  constructor(
    message: string,
    /** When a permit would be due, in ms from now. */
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'PermitDeferredError';
  }
}

/** How a push worker's HTTP status classifies (its body is the message). */
export function pushStatusFailureType(status: number): WorkerFailureType {
  if (status === 429) return FailureType.Quota;
  if (status === 502 || status === 503 || status === 504) return FailureType.WorkerUnavailable;
  if (status >= 500 || status === 408) return FailureType.HandlerFailed;
  return FailureType.WorkerRejectedBatch;
}

function storeFailureType(err: StoreError): FailureTypeName {
  if (err instanceof StoreAuthError) return FailureType.StoreRejected;
  if (err instanceof StoreRateLimitError) return FailureType.Quota;
  if (err instanceof StoreBadRequestError || err instanceof StoreNotFoundError)
    return FailureType.StoreRequestRejected;
  return isRetryableStoreError(err) ? FailureType.StoreUnavailable : FailureType.StoreRequestRejected;
}

/**
 * Classifies anything a batch (or an orchestrator activity) threw. The message is bounded
 * (truncateErrorText): it goes into heartbeats and completions, which gRPC caps at 4 MiB.
 */
export function classifyError(err: unknown): FailureReport {
  const report = classifyUnbounded(err);
  return { ...report, message: truncateErrorText(report.message) };
}

function classifyUnbounded(err: unknown): FailureReport {
  if (err instanceof ApplicationFailure) {
    const rowIds = (err.details?.[0] as FailureReport | undefined)?.rowIds;
    return {
      type: err.type ?? FailureType.HandlerFailed,
      message: err.message,
      ...(rowIds ? { rowIds } : {}),
    };
  }
  if (err instanceof InvalidWorkerOutputError)
    return {
      type: FailureType.InvalidWorkerOutput,
      message: err.message,
      ...(err.rowId !== undefined ? { rowIds: [err.rowId] } : {}),
    };
  if (err instanceof InvalidWorkerAnswerError)
    return { type: FailureType.InvalidWorkerAnswer, message: err.message };
  if (err instanceof InvalidPipelineOutputError)
    return { type: FailureType.InvalidPipelineOutput, message: err.message };
  // A 429 is a per-namespace write limit (backpressure or rate): it names the namespace, and
  // when the store said when to come back (Retry-After), that too (docs/adr/0111).
  if (err instanceof StoreRateLimitError)
    return {
      type: FailureType.Quota,
      message: err.message,
      ...(err.namespace !== undefined ? { namespace: err.namespace } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  if (err instanceof StoreError) return { type: storeFailureType(err), message: err.message };
  if (err instanceof WorkerCallError) return { type: err.type, message: err.message };
  if (err instanceof PermitDeferredError)
    return { type: FailureType.RateLimitWait, message: err.message, retryAfterMs: err.retryAfterMs };
  return {
    type: FailureType.HandlerFailed,
    message: err instanceof Error ? err.message : String(err),
  };
}

/** The ApplicationFailure an activity throws: typed, retryable per the catalogue, report in details. */
export function toActivityFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure && err.message.length <= MAX_ERROR_TEXT_CHARS) return err;
  const report = classifyError(err);
  return ApplicationFailure.create({
    message: report.message,
    type: report.type,
    nonRetryable: !failureKind(report.type).retryable,
    details: [report],
  });
}

/**
 * The running activity's own cancellation, when it has been cancelled (its worker shutting down,
 * the workflow cancelling it, a lapsed heartbeat): whatever the body threw on the way out — the
 * claim runner's signal reason, a handler's abort turned into "handler failed" — is not a failure
 * to classify. The SDK reports a CancelledFailure as a cancelled attempt (retried after a
 * shutdown, from the last heartbeat) and logs it at debug; an ApplicationFailure would be logged
 * as "Activity failed" with its stack, once per claim in flight, on every Ctrl-C.
 */
function activityCancellation(err: unknown): CancelledFailure | undefined {
  let signal: AbortSignal;
  try {
    signal = Context.current().cancellationSignal;
  } catch {
    return undefined; // not inside an activity (a direct loop, a test)
  }
  if (!signal.aborted) return undefined;
  if (err instanceof CancelledFailure) return err;
  const reason: unknown = signal.reason;
  return reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'CANCELLED'));
}

/** Runs an activity body so every error leaves classified (a cancellation leaves as one). */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw activityCancellation(err) ?? toActivityFailure(err);
  }
}
