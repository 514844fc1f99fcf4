// What a reconcile pass ends with when its apply failed (kube-calls.ts, the one place Kubernetes
// failures are classified): a refusal is final, anything transient goes back to the activity's
// retry policy instead of waiting for the watcher's resync.
import { ApplicationFailure } from '@temporalio/activity';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyFailureToThrow, kubeCall } from '../../../src/activities/kube/kube-calls.js';

/** The error an apply that the apiserver answered with `code` ends with, through kubeCall. */
async function applyError(code: number, message: string): Promise<unknown> {
  try {
    await kubeCall(() => Promise.reject(new ApiException(code, message, { message }, {})));
  } catch (err) {
    return err;
  }
  throw new Error('kubeCall did not throw');
}

describe('applyFailureToThrow', () => {
  it.each([
    [429, 'storage is (re)initializing', 'retried'],
    [409, 'the object has been modified', 'retried'],
    [500, 'etcdserver: request timed out', 'retried'],
    [503, 'service unavailable', 'retried'],
    [422, 'spec.replicas: Invalid value', 'final'],
    [400, 'bad request', 'final'],
  ] as const)('an apply answered %i (%s) is %s', async (code, message, expected) => {
    const err = await applyError(code, message);
    const thrown = applyFailureToThrow(err, message);
    if (expected === 'final') {
      expect(thrown).toBeInstanceOf(ApplicationFailure);
      expect(thrown).toMatchObject({ nonRetryable: true, type: 'ApplyFailed' });
      expect((thrown as Error).message).toBe(`apply failed: ${message}`);
    } else {
      // The original error: the activity's policy retries it (it is not a non-retryable failure).
      expect(thrown).toBe(err);
      expect(thrown).not.toMatchObject({ nonRetryable: true });
    }
  });

  it('a failure that is not a Kubernetes answer (a network error) is retried', () => {
    const err = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    expect(applyFailureToThrow(err, err.message)).toBe(err);
  });
});
