// The one place that decides how an error leaves an activity: retryable or not, and under which
// failure type. Workflows and the operator read the type, never the message.
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_WORKER_OUTPUT } from '../contracts/function.js';
import { InvalidWorkerOutputError } from '../engine/worker-output.js';
import { StoreError, isRetryableStoreError } from '../store/errors.js';

/** Failure types (ApplicationFailure.type) activities raise. */
export const FailureType = {
  invalidWorkerOutput: INVALID_WORKER_OUTPUT,
  /** A push worker answered 4xx: the request will not succeed by repeating it. */
  workerRejectedBatch: 'WorkerRejectedBatch',
  /** The worker failed or could not be reached; retried per the Function's retry policy. */
  workerFailed: 'WorkerFailed',
  /** The store refused the request (bad filter, auth, missing namespace). */
  storeRequestRejected: 'StoreRequestRejected',
  storeUnavailable: 'StoreUnavailable',
} as const;

export const NON_RETRYABLE_TYPES = [
  FailureType.invalidWorkerOutput,
  FailureType.workerRejectedBatch,
  FailureType.storeRequestRejected,
];

/** An error from a worker (handler threw, HTTP failed) that the policy may retry. */
export class WorkerCallError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WorkerCallError';
  }
}

export function toActivityFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof InvalidWorkerOutputError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FailureType.invalidWorkerOutput,
      nonRetryable: true,
    });
  }
  if (err instanceof StoreError) {
    const retryable = isRetryableStoreError(err);
    return ApplicationFailure.create({
      message: err.message,
      type: retryable ? FailureType.storeUnavailable : FailureType.storeRequestRejected,
      nonRetryable: !retryable,
    });
  }
  if (err instanceof WorkerCallError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.retryable ? FailureType.workerFailed : FailureType.workerRejectedBatch,
      nonRetryable: !err.retryable,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ message, type: FailureType.workerFailed, nonRetryable: false });
}

/** Runs an activity body so every error leaves classified. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
