// The Temporal RetryPolicy of a workload batch, from the CR's spec.retry: exponential backoff
// with coefficient 2 from initialBackoffSeconds, capped at maxBackoffSeconds. Shared by the
// Function and Pipeline workflows so both envelopes retry alike. Sandbox-safe.
import type { RetryPolicy } from '@temporalio/common';

export interface BatchRetrySpec {
  initialBackoffSeconds: number;
  maxBackoffSeconds: number;
}

export function batchRetryPolicy(
  retry: BatchRetrySpec,
  maxAttempts: number,
  nonRetryableErrorTypes: readonly string[],
): RetryPolicy {
  return {
    // Temporal needs intervals of at least 1 ms; 0 s in the spec means "retry at once".
    initialInterval: Math.max(1, retry.initialBackoffSeconds * 1000),
    backoffCoefficient: 2,
    maximumInterval: Math.max(1, retry.maxBackoffSeconds * 1000, retry.initialBackoffSeconds * 1000),
    maximumAttempts: maxAttempts,
    nonRetryableErrorTypes: [...nonRetryableErrorTypes],
  };
}
