// Every failure type the engine raises or reacts to, named once, with the decision it drives.
// Sandbox-safe (no imports): workflows read this table to decide what a failed batch means;
// activities and the worker SDK use it (through src/claim-execution/failures.ts) to classify errors.
//
// Scope is the decision:
// - `row`      the rows named in the failure's details are bad (bad output for a row, a row the
//              handler refused). They are dead-lettered at once; the rest of the batch is kept.
// - `batch`    something in this batch failed and the rows are not known (the handler threw, timed
//              out, a push worker answered 500/4xx). Retried with backoff, then bisected down to
//              single rows, which are dead-lettered.
// - `systemic` the environment is at fault (the store refused our credentials or is down, the
//              worker is unreachable, a quota). Dispatch pauses with backoff and the workload shows
//              Degraded with this type as its reason; no row is ever dead-lettered for it.

export type FailureScope = 'row' | 'batch' | 'systemic';

export interface FailureKind {
  scope: FailureScope;
  /** Whether repeating the same call may succeed (drives Temporal's nonRetryableErrorTypes). */
  retryable: boolean;
  /** What the user should do about it; shown next to the message. */
  hint: string;
}

export const FailureType = {
  /** A row's output does not fit output.kind/dim (details: rowIds). */
  InvalidWorkerOutput: 'InvalidWorkerOutput',
  /** The handler answered `{ id, error }` for a row (details: rowIds). */
  RowRejected: 'RowRejected',
  /** The worker's answer as a whole is malformed: missing, extra or duplicate ids. */
  InvalidWorkerAnswer: 'InvalidWorkerAnswer',
  /** The handler threw or timed out, or a push worker answered 500. */
  HandlerFailed: 'HandlerFailed',
  /** A Pipeline worker's documents are malformed (same items, same answer: not retried). */
  InvalidPipelineOutput: 'InvalidPipelineOutput',
  /** A push worker answered 4xx (other than 408/429): it refuses this request. */
  WorkerRejectedBatch: 'WorkerRejectedBatch',
  /** A push worker could not be reached, or answered 502/503/504. */
  WorkerUnavailable: 'WorkerUnavailable',
  /** A worker or the store answered 429. */
  Quota: 'Quota',
  /** A shared rate limit has no permit within the claim's wait allowance (nothing was booked). */
  RateLimitWait: 'RateLimitWait',
  /** The store refused our credentials (401/403). */
  StoreRejected: 'StoreRejected',
  /** The store refused the request itself (400/422: a filter or schema the store does not accept). */
  StoreRequestRejected: 'StoreRequestRejected',
  /** The store could not be reached, or failed (5xx, connection reset, timeout). */
  StoreUnavailable: 'StoreUnavailable',
  /** A Pipeline's queue has no room for the submitted items. */
  QueueFull: 'QueueFull',
  /** The worker holding a claim stopped heartbeating (killed, partitioned). */
  ClaimLost: 'ClaimLost',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export const FAILURE_KINDS: Record<FailureTypeName, FailureKind> = {
  InvalidWorkerOutput: {
    scope: 'row',
    retryable: false,
    hint: 'fix the worker so each row gets a value of output.kind (and output.dim)',
  },
  RowRejected: {
    scope: 'row',
    retryable: false,
    hint: 'the handler refused the row; fix the row or the handler',
  },
  InvalidWorkerAnswer: {
    scope: 'batch',
    retryable: false,
    hint: 'fix the worker so it returns exactly one output per input row id',
  },
  InvalidPipelineOutput: {
    scope: 'batch',
    retryable: false,
    hint: 'fix the worker so each document names its item and chunks carry text',
  },
  HandlerFailed: {
    scope: 'batch',
    retryable: true,
    hint: 'see the handler error; rows that keep failing are dead-lettered',
  },
  WorkerRejectedBatch: {
    scope: 'batch',
    retryable: false,
    hint: 'the push worker refuses the request; see its answer',
  },
  WorkerUnavailable: {
    scope: 'systemic',
    retryable: true,
    hint: 'check that the worker Service is up and reachable',
  },
  Quota: {
    scope: 'systemic',
    retryable: true,
    hint: 'a rate or concurrency limit was hit; dispatch resumes after backoff',
  },
  RateLimitWait: {
    scope: 'systemic',
    retryable: true,
    hint:
      'the shared rate limit (spec.worker.rateLimit) allows no call sooner; dispatch resumes when a permit is due. ' +
      'Raise requestsPerSecond/rowsPerMinute (or lower maxInFlightBatches) if this is too slow',
  },
  StoreRejected: {
    scope: 'systemic',
    retryable: false,
    hint: 'the store refused the API key: fix the key in the worker Secret (LAYER_STORE_API_KEY)',
  },
  StoreRequestRejected: {
    scope: 'systemic',
    retryable: false,
    hint: 'the store refused the request: check the Function filter and output attribute',
  },
  StoreUnavailable: {
    scope: 'systemic',
    retryable: true,
    hint: 'check that the store (gateway) is up and reachable',
  },
  QueueFull: { scope: 'systemic', retryable: true, hint: 'the queue is full (maxPendingItems): retry later' },
  ClaimLost: {
    scope: 'batch',
    retryable: true,
    hint: 'the worker stopped heartbeating; its batches are claimed again',
  },
};

/** Failure types Temporal must not retry (ApplicationFailure.type → nonRetryableErrorTypes). */
export const NON_RETRYABLE_FAILURE_TYPES: readonly string[] = Object.entries(FAILURE_KINDS)
  .filter(([, kind]) => !kind.retryable)
  .map(([type]) => type);

/** The kind of a failure type; an unknown type (a bug, an SDK timeout) is a retryable batch failure. */
export function failureKind(type: string | undefined): FailureKind {
  return (type && (FAILURE_KINDS as Record<string, FailureKind>)[type]) || FAILURE_KINDS.HandlerFailed;
}

export function isSystemicFailure(type: string | undefined): boolean {
  return failureKind(type).scope === 'systemic';
}

/** A failure as it crosses a process boundary (claim results, heartbeat details, status). */
export interface FailureReport {
  type: string;
  message: string;
  /** Row-scoped failures: the rows at fault. */
  rowIds?: (string | number)[];
  /**
   * A range batch that failed as a whole: the ids it resolved, so its retries and splits run on
   * exactly those rows (docs/adr/0100). Failure path only.
   */
  batchRowIds?: (string | number)[];
  /** Systemic failures that know when trying again makes sense (ms from when it was raised). */
  retryAfterMs?: number;
  /**
   * The store namespace that refused a write with 429 (its write backpressure or rate limit):
   * a per-namespace limit, so only that namespace's dispatch slows down (docs/adr/0111).
   */
  namespace?: string;
}
