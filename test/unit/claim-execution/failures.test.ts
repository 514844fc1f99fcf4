// The one classification of errors into failure types, and the decision each type drives.
import { describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  FAILURE_KINDS,
  NON_RETRYABLE_FAILURE_TYPES,
  failureKind,
} from '../../../packages/worker/src/contracts/failures.js';
import {
  classified,
  classifyError,
  pushStatusFailureType,
  toActivityFailure,
  WorkerCallError,
} from '../../../packages/worker/src/claim-execution/failures.js';
import {
  InvalidPipelineOutputError,
  InvalidWorkerAnswerError,
  InvalidWorkerOutputError,
} from '../../../packages/worker/src/claim-execution/errors.js';
import { workerConcurrencyFromEnv } from '../../../packages/worker/src/function-worker.js';
import {
  StoreAuthError,
  StoreBadRequestError,
  StoreConnectionError,
  StoreRateLimitError,
  StoreServerError,
} from '../../../packages/worker/src/store/errors.js';

const store = <T>(
  C: new (m: string, s: number | undefined, n: string, h: boolean | undefined) => T,
  status?: number,
) => new C('store said no', status, 'ns', undefined);

describe('classifyError', () => {
  it.each([
    // The store refused our key: systemic, never a row's fault.
    { row: 'store 401', err: store(StoreAuthError, 401), type: 'StoreRejected', scope: 'systemic' },
    // A filter the store rejects fails every batch alike: systemic.
    {
      row: 'store 400',
      err: store(StoreBadRequestError, 400),
      type: 'StoreRequestRejected',
      scope: 'systemic',
    },
    { row: 'store 429', err: store(StoreRateLimitError, 429), type: 'Quota', scope: 'systemic' },
    { row: 'store 503', err: store(StoreServerError, 503), type: 'StoreUnavailable', scope: 'systemic' },
    {
      row: 'store unreachable',
      err: store(StoreConnectionError),
      type: 'StoreUnavailable',
      scope: 'systemic',
    },
    // A value that does not fit names its row.
    {
      row: 'bad value for a row',
      err: new InvalidWorkerOutputError('dim', 7),
      type: 'InvalidWorkerOutput',
      scope: 'row',
    },
    // Missing or extra ids: the answer as a whole is wrong, the rows are not known.
    {
      row: 'malformed answer',
      err: new InvalidWorkerAnswerError('missing id'),
      type: 'InvalidWorkerAnswer',
      scope: 'batch',
    },
    {
      row: 'bad pipeline documents',
      err: new InvalidPipelineOutputError('no text'),
      type: 'InvalidPipelineOutput',
      scope: 'batch',
    },
    {
      row: 'handler threw',
      err: new WorkerCallError('boom', 'HandlerFailed'),
      type: 'HandlerFailed',
      scope: 'batch',
    },
    {
      row: 'push worker down',
      err: new WorkerCallError('refused', 'WorkerUnavailable'),
      type: 'WorkerUnavailable',
      scope: 'systemic',
    },
    // Anything unknown (a bug in a handler, a TypeError) is a retryable batch failure.
    { row: 'unknown error', err: new TypeError('x is undefined'), type: 'HandlerFailed', scope: 'batch' },
    // A typed ApplicationFailure keeps its type.
    {
      row: 'typed failure',
      err: ApplicationFailure.create({ type: 'QueueFull', message: 'full' }),
      type: 'QueueFull',
      scope: 'systemic',
    },
  ])('$row → $type ($scope)', ({ err, type, scope }) => {
    const report = classifyError(err);
    expect(report.type).toBe(type);
    expect(failureKind(report.type).scope).toBe(scope);
  });

  it('a row-scoped failure carries its row ids, through the activity boundary too', () => {
    expect(classifyError(new InvalidWorkerOutputError('dim', 7)).rowIds).toEqual([7]);
    const failure = toActivityFailure(new InvalidWorkerOutputError('dim', 'a'));
    expect(failure).toMatchObject({ type: 'InvalidWorkerOutput', nonRetryable: true });
    expect(classifyError(failure).rowIds).toEqual(['a']);
  });

  it("a store 429 names its namespace and the store's Retry-After: only that namespace slows down (ADR 0111)", () => {
    const limited = store(StoreRateLimitError, 429);
    expect(classifyError(limited)).toEqual({ type: 'Quota', message: 'store said no', namespace: 'ns' });
    limited.retryAfterMs = 1_500;
    expect(classifyError(limited)).toMatchObject({ namespace: 'ns', retryAfterMs: 1_500 });
  });
});

describe('pushStatusFailureType', () => {
  it.each([
    [500, 'HandlerFailed'], // the push server answers 500 when the handler throws
    [408, 'HandlerFailed'],
    [429, 'Quota'],
    [502, 'WorkerUnavailable'],
    [503, 'WorkerUnavailable'],
    [504, 'WorkerUnavailable'],
    [400, 'WorkerRejectedBatch'],
    [422, 'WorkerRejectedBatch'],
  ])('%i → %s', (status, type) => {
    expect(pushStatusFailureType(status)).toBe(type);
  });
});

describe('the catalogue', () => {
  it('non-retryable types are exactly those the catalogue marks so', () => {
    expect([...NON_RETRYABLE_FAILURE_TYPES].sort()).toEqual(
      Object.entries(FAILURE_KINDS)
        .filter(([, k]) => !k.retryable)
        .map(([t]) => t)
        .sort(),
    );
    // No systemic failure dead-letters, so none may be row-scoped; every type says what to do.
    for (const kind of Object.values(FAILURE_KINDS)) expect(kind.hint.length).toBeGreaterThan(10);
  });
});

describe('workerConcurrencyFromEnv', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['8', 8],
  ])('%s → %s', (value, want) => {
    expect(workerConcurrencyFromEnv(value === undefined ? {} : { LAYER_WORKER_CONCURRENCY: value })).toBe(
      want,
    );
  });
  it.each(['0', '-1', '2.5', 'many', '5000'])('refuses %s, naming the variable and the range', (value) => {
    expect(() => workerConcurrencyFromEnv({ LAYER_WORKER_CONCURRENCY: value })).toThrow(
      /LAYER_WORKER_CONCURRENCY=.*whole number from 1 to 1000/,
    );
  });
});

describe('classified: an activity that was cancelled leaves as a cancellation', () => {
  // The SDK's activity environment gives the body a real Context whose signal `cancel` aborts, as
  // a worker shutting down does (reason WORKER_SHUTDOWN on every claim in flight at a Ctrl-C).
  const cancelledRun = async (thrown: (reason: unknown) => unknown) => {
    const env = new MockActivityEnvironment();
    const run = env.run(() =>
      classified(async () => {
        const signal = Context.current().cancellationSignal;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw thrown(signal.reason);
      }),
    );
    env.cancel('WORKER_SHUTDOWN');
    return run.then(
      () => undefined,
      (err: unknown) => err,
    );
  };

  it.each([
    // The claim runner rethrows the signal's reason between batches.
    { row: 'the signal reason', thrown: (reason: unknown) => reason },
    // A handler aborted mid-batch: callHandler wraps whatever it threw as "handler failed".
    { row: 'a handler failure', thrown: () => new WorkerCallError('handler failed: aborted', true) },
    // A store call cut off by the shutdown.
    { row: 'any other error', thrown: () => new Error('socket hang up') },
  ])('$row becomes a CancelledFailure, not an ApplicationFailure', async ({ thrown }) => {
    const err = await cancelledRun(thrown);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });

  it('a failure of an activity that was not cancelled is classified as before', async () => {
    const env = new MockActivityEnvironment();
    const err = await env
      .run(() =>
        classified(async () => {
          throw new WorkerCallError('handler failed: boom', true);
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('HandlerFailed');
  });
});
