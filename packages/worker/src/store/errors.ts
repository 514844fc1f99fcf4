// What a store call can fail with, as seen by the rest of the project. Every error from the
// official client (an APIError keyed by HTTP status, or a connection failure) maps to one class
// here in `toStoreError`, and `isRetryableStoreError` is the single place that decides whether
// trying again can help. The activity boundary turns that into a non-retryable
// ApplicationFailure; the operator into its requeue delay.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@turbopuffer/turbopuffer';
import { LayerError } from '../util/errors.js';
import { parseRetryAfter } from '../contracts/rate-limit.js';

/** Base class: a store call failed. `status` is the HTTP status, when there was a response. */
export class StoreError extends LayerError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly namespace: string | undefined,
    /** The server's `x-should-retry` verdict, when it sent one. */
    readonly serverRetryHint: boolean | undefined,
    options?: ErrorOptions,
  ) {
    super(message, undefined, options);
  }
}

/** 400 / 422: the request is wrong (bad filter, unknown attribute, duplicate id). Never retried. */
export class StoreBadRequestError extends StoreError {}
/** 401 / 403: the API key is missing, unknown or lacks permission. Never retried. */
export class StoreAuthError extends StoreError {}
/** 404: the namespace does not exist. Never retried. */
export class StoreNotFoundError extends StoreError {}
/** 409: a conflicting concurrent operation (the service's lock timeout). Retryable. */
export class StoreConflictError extends StoreError {}
/** 429: rate, concurrency or write-backpressure limit. Retryable. */
export class StoreRateLimitError extends StoreError {
  /** The store's Retry-After in ms, when it sent one (a shared rate limit slows down by it). */
  retryAfterMs?: number;
}
/** 5xx: the store failed. Retryable unless the server said otherwise. */
export class StoreServerError extends StoreError {}
/** No response: connection refused or reset, DNS, or a timeout. Retryable. */
export class StoreConnectionError extends StoreError {}
/** The caller aborted the request. Not retried. */
export class StoreAbortedError extends StoreError {}

function serverMessage(err: APIError): string {
  const body = err.error as { error?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.error === 'string') return body.error;
  return err.message;
}

/** Maps anything a store call threw to a StoreError (idempotent on StoreErrors). */
export function toStoreError(err: unknown, namespace?: string): StoreError {
  if (err instanceof StoreError) return err;
  const where = namespace ? ` (namespace ${namespace})` : '';
  if (err instanceof APIUserAbortError)
    return new StoreAbortedError(`store request aborted${where}`, undefined, namespace, false, {
      cause: err,
    });
  if (err instanceof APIConnectionTimeoutError || err instanceof APIConnectionError) {
    return new StoreConnectionError(
      `store unreachable${where}: ${err.message}`,
      undefined,
      namespace,
      undefined,
      { cause: err },
    );
  }
  if (err instanceof APIError) {
    const status = err.status as number | undefined;
    const hintHeader = (err.headers as Headers | undefined)?.get?.('x-should-retry');
    const hint = hintHeader === 'true' ? true : hintHeader === 'false' ? false : undefined;
    const message = `store ${status ?? ''} error${where}: ${serverMessage(err)}`;
    const args = [message, status, namespace, hint, { cause: err }] as const;
    if (status === 400 || status === 422 || status === 413) return new StoreBadRequestError(...args);
    if (status === 401 || status === 403) return new StoreAuthError(...args);
    if (status === 404) return new StoreNotFoundError(...args);
    if (status === 409) return new StoreConflictError(...args);
    if (status === 429) {
      const limited = new StoreRateLimitError(...args);
      const retryAfter = parseRetryAfter(
        (err.headers as Headers | undefined)?.get?.('retry-after'),
        Date.now(),
      );
      if (retryAfter !== undefined) limited.retryAfterMs = retryAfter;
      return limited;
    }
    if (status !== undefined && status >= 500) return new StoreServerError(...args);
    return new StoreError(...args);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(`store call failed${where}: ${message}`, undefined, namespace, undefined, {
    cause: err,
  });
}

/**
 * The one retry decision for store calls: connection failures, 408, 409, 429 and 5xx may
 * succeed later, unless the server said `x-should-retry: false` (the embedded store does so for
 * errors caused by the request itself). Everything else needs a different request.
 */
export function isRetryableStoreError(err: unknown): boolean {
  const e = toStoreError(err);
  if (e instanceof StoreAbortedError) return false;
  if (e instanceof StoreConnectionError) return true;
  if (e.serverRetryHint !== undefined) return e.serverRetryHint;
  const s = e.status;
  return s === 408 || s === 409 || s === 429 || (s !== undefined && s >= 500);
}
