// The worker side of a shared rate limit (packages/worker/src/claim-execution/rate-limit-gate.ts) as pure logic: which
// errors count as a 429 and with what Retry-After, what the gate sends the limiter, that it
// sleeps the wait it is told, retries a limiter between runs, and fails closed (as
// WorkerUnavailable) when the limiter stays unreachable. The Temporal client is a recording fake
// here; test/integration/function/shared-rate-limit.test.ts runs the real thing.
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import {
  createRateLimitGate,
  rateLimitedBy,
  RateLimitedError,
  RATE_LIMIT_WORKFLOW_TYPE,
} from '../../../packages/worker/src/claim-execution/rate-limit-gate.js';
import {
  WorkerCallError,
  pushStatusFailureType,
} from '../../../packages/worker/src/claim-execution/failures.js';
import { StoreRateLimitError, StoreServerError } from '../../../packages/worker/src/store/errors.js';

interface Sent {
  update: string;
  args: unknown[];
  workflowId: string;
  taskQueue: string;
  workflowType: string;
}

function fakeClient(answers: (() => unknown)[]): { client: Client; sent: Sent[] } {
  const sent: Sent[] = [];
  let i = 0;
  const client = {
    withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
    workflow: {
      executeUpdateWithStart: async (
        def: { name: string },
        opts: {
          args: unknown[];
          startWorkflowOperation: {
            workflowTypeOrFunc: string;
            options: { workflowId: string; taskQueue: string };
          };
        },
      ) => {
        sent.push({
          update: def.name,
          args: opts.args,
          workflowId: opts.startWorkflowOperation.options.workflowId,
          taskQueue: opts.startWorkflowOperation.options.taskQueue,
          workflowType: opts.startWorkflowOperation.workflowTypeOrFunc,
        });
        const answer = answers[Math.min(i++, answers.length - 1)]!;
        return answer();
      },
    },
  };
  return { client: client as unknown as Client, sent };
}

describe('rateLimitedBy', () => {
  it.each([
    // The handler's own signal, with its provider's Retry-After.
    {
      why: 'RateLimitedError from a handler',
      err: new RateLimitedError('quota', 2_000),
      expected: { retryAfterMs: 2_000, source: 'handler' },
    },
    // A push worker's 429 (postToPushWorker puts the parsed Retry-After on the error).
    {
      why: 'a push worker 429',
      err: new WorkerCallError('answered 429', pushStatusFailureType(429), 1_000),
      expected: { retryAfterMs: 1_000, source: 'worker' },
    },
    // The store's 429 (toStoreError reads its Retry-After header).
    {
      why: 'a store 429',
      err: Object.assign(new StoreRateLimitError('slow down', 429, 'ns', undefined), { retryAfterMs: 500 }),
      expected: { retryAfterMs: 500, source: 'store' },
    },
    // Other failures leave the budget alone.
    { why: 'a store 500', err: new StoreServerError('boom', 500, 'ns', undefined), expected: null },
    { why: 'a handler crash', err: new WorkerCallError('handler failed', true), expected: null },
    { why: 'a plain Error', err: new Error('x'), expected: null },
  ])('$why', ({ err, expected }) => {
    expect(rateLimitedBy(err)).toEqual(expected);
  });
});

describe('createRateLimitGate', () => {
  const rateLimit = { key: 'openai', rowsPerMinute: 600, limiterTaskQueue: 'orchestrator-q' };

  it('asks the key limiter (update-with-start on the given queue) for the call rows, then sleeps the wait', async () => {
    const { client, sent } = fakeClient([() => ({ waitMs: 750, factor: 1 })]);
    const slept: number[] = [];
    const gate = createRateLimitGate({
      client,
      k8sNamespace: 'team-a',
      holder: 'Function team-a/tagger',
      rateLimit,
      defaultTaskQueue: 'unused',
      sleep: async (ms) => void slept.push(ms),
    });
    await gate.acquire(32);
    expect(sent).toEqual([
      {
        update: 'acquirePermit',
        args: [{ holder: 'Function team-a/tagger', limits: { rowsPerMinute: 600 }, rows: 32, requests: 1 }],
        workflowId: 'ratelimit/team-a/openai',
        taskQueue: 'orchestrator-q',
        workflowType: RATE_LIMIT_WORKFLOW_TYPE,
      },
    ]);
    expect(slept).toEqual([750]);
  });

  it('asks again when the limiter is between runs, with backoff', async () => {
    const { client, sent } = fakeClient([
      () => {
        throw new Error('workflow is closing');
      },
      () => ({ waitMs: 0, factor: 1 }),
    ]);
    const slept: number[] = [];
    const gate = createRateLimitGate({
      client,
      k8sNamespace: 'team-a',
      holder: 'Function team-a/tagger',
      rateLimit,
      defaultTaskQueue: 'q',
      sleep: async (ms) => void slept.push(ms),
    });
    await gate.acquire(1);
    expect(sent.length).toBe(2);
    expect(slept).toEqual([500, 0]);
  });

  it('fails closed as WorkerUnavailable when the limiter stays unreachable', async () => {
    const { client } = fakeClient([
      () => {
        throw new Error('no poller');
      },
    ]);
    const gate = createRateLimitGate({
      client,
      k8sNamespace: 'team-a',
      holder: 'Function team-a/tagger',
      rateLimit,
      defaultTaskQueue: 'q',
      unreachableAfterMs: 0,
      sleep: async () => {},
    });
    const err = await gate.acquire(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCallError);
    expect((err as WorkerCallError).type).toBe('WorkerUnavailable');
    expect((err as Error).message).toContain('ratelimit/team-a/openai');
  });

  it('reports a 429 with its Retry-After and ignores other errors', async () => {
    const { client, sent } = fakeClient([() => ({ factor: 0.5 })]);
    const gate = createRateLimitGate({
      client,
      k8sNamespace: 'team-a',
      holder: 'Pipeline team-a/chunker',
      rateLimit,
      defaultTaskQueue: 'q',
    });
    gate.observe(new Error('not a 429'));
    gate.observe(new RateLimitedError('quota', 3_000));
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.map((s) => [s.update, s.args])).toEqual([
      ['reportRateLimited', [{ holder: 'Pipeline team-a/chunker', source: 'handler', retryAfterMs: 3_000 }]],
    ]);
  });
});
