// A shared rate limit (spec.worker.rateLimit, docs/adr/0051) on the real Temporal dev server and
// the embedded store. Two Functions — one pull, one push — and a pull Pipeline share one key: the
// combined call log of their handlers never exceeds the budget in any sliding window, all three
// make progress, and the limiter counts exactly the calls each made. A push worker answering 429 with Retry-After
// pauses its key for the Retry-After and halves the rate, which then climbs back to the budget.
// Both scenarios run at once (different keys) to keep the file's wall time to one of them.
import { describe, expect, it } from 'vitest';
import { createPushServer, type FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  RateLimitedError,
  createRateLimitGate,
} from '../../../packages/worker/src/claim-execution/rate-limit-gate.js';
import { rateLimitWorkflowId } from '../../../packages/worker/src/contracts/rate-limit.js';
import { rateLimitStatusQuery, type RateLimitStatus } from '../../../src/contracts/rate-limit.js';
import type { FunctionRuntimeSpec, FunctionStatus } from '../../../src/contracts/function.js';
import type { PipelineRuntimeSpec } from '../../../src/contracts/pipeline.js';
import { runPipelineWorker } from '../../../packages/worker/src/pipeline-worker.js';
import {
  getPipelineStatus,
  startOrUpdatePipeline,
  submitPipelineItems,
} from '../../../src/client/pipeline-client.js';
import { temporalNamespace } from '../../helpers/servers.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import {
  baseSpec,
  eventually,
  recordHistories,
  range,
  seedRows,
  engineHarnessPerFile,
  startFunction,
  startPullWorker,
  statusOf,
  uniqueName,
} from './harness.js';

interface Call {
  fn: string;
  at: number;
  rows: number;
}

const h = engineHarnessPerFile();

/** A handler that logs each call (time, rows) and tags the rows. */
function loggingHandler(fn: string, log: Call[], before?: (call: number) => void): FunctionHandler {
  let calls = 0;
  return async (rows) => {
    calls += 1;
    before?.(calls);
    log.push({ fn, at: Date.now(), rows: rows.length });
    return rows.map((r) => ({ id: r.id, value: ['tagged'] }));
  };
}

function limiterStatus(k8sNamespace: string, key: string): Promise<RateLimitStatus> {
  return h.client.workflow.getHandle(rateLimitWorkflowId(k8sNamespace, key)).query(rateLimitStatusQuery);
}

/** The most rows started in any window [t, t + windowMs) that opens at a call. */
function maxRowsInWindow(log: Call[], windowMs: number): number {
  let max = 0;
  for (const a of log) {
    const rows = log.filter((c) => c.at >= a.at && c.at < a.at + windowMs).reduce((n, c) => n + c.rows, 0);
    max = Math.max(max, rows);
  }
  return max;
}

async function twoFunctionsShareOneKey() {
  // 10 rows/s shared; 2 × 48 rows and 30 items in batches of 6 → 21 calls, about 12 s.
  const key = uniqueName('provider');
  const rowsPerMinute = 600;
  const batchSize = 6;
  const rateLimit = { key, rowsPerMinute };
  const log: Call[] = [];
  const nsA = uniqueName('products');
  const nsB = uniqueName('products');
  await seedRows(h.store, nsA, range(1, 49));
  await seedRows(h.store, nsB, range(1, 49));
  const server = createPushServer(loggingHandler('push', log));
  const port = await server.listen(0);
  const schedule = {
    discoveryIntervalSeconds: 60,
    leaseSeconds: 60,
    maxInFlightBatches: 3,
    maxConcurrentScans: 1,
  };
  const pull = baseSpec(uniqueName('rl-pull'), nsA, {
    worker: { dispatch: 'pull', batchSize, timeoutSeconds: 10, rateLimit },
    schedule,
  });
  const push = baseSpec(uniqueName('rl-push'), nsB, {
    worker: {
      dispatch: 'push',
      batchSize,
      timeoutSeconds: 10,
      pushUrl: `http://127.0.0.1:${port}`,
      rateLimit,
    },
    schedule,
  });
  const worker = startPullWorker(h, pull, loggingHandler('pull', log), 3);
  // A Pipeline under the same key: its items count as rows.
  const pipeline: PipelineRuntimeSpec = {
    k8sNamespace: 'test',
    name: uniqueName('rl-pipeline'),
    generation: 1,
    targetNamespace: uniqueName('chunks'),
    worker: { dispatch: 'pull', batchSize, timeoutSeconds: 10, rateLimit },
    schedule: { leaseSeconds: 60, maxInFlightBatches: 3, maxPendingItems: 10_000 },
    retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    paused: false,
  };
  const pipelineStop = new AbortController();
  const pipelineWorker = runPipelineWorker({
    taskQueue: `layer-pl.${pipeline.k8sNamespace}.${pipeline.name}`,
    pipeline: { k8sNamespace: pipeline.k8sNamespace, name: pipeline.name },
    temporal: { connection: h.nativeConnection, namespace: temporalNamespace(), client: h.client },
    store: h.store,
    concurrency: 3,
    process: async (items) => {
      log.push({ fn: 'pipeline', at: Date.now(), rows: items.length });
      return items.map((i) => ({ itemKey: i.key, chunks: [{ text: `chunk of ${i.key}` }] }));
    },
    signal: pipelineStop.signal,
  });
  try {
    await startOrUpdatePipeline(h.client, pipeline, { taskQueue: h.taskQueue });
    await submitPipelineItems(
      h.client,
      pipeline,
      Array.from({ length: 30 }, (_, i) => ({ key: `item-${i}`, payload: {} })),
    );
    await startFunction(h, pull);
    await startFunction(h, push);
    // While both run, the pull Function's status says the shared budget sets its pace.
    const waiting = await eventually(
      () => statusOf(h, pull),
      (s: FunctionStatus) => s.rateLimit?.waiting === true,
      30_000,
      'pull Function reports waiting on its shared limit',
    );
    expect(waiting.rateLimit?.key).toBe(key);
    for (const spec of [pull, push])
      await eventually(
        () => statusOf(h, spec),
        (s: FunctionStatus) => s.counters.processed === 48,
        60_000,
        `${spec.name}: 48 rows`,
      );
    await eventually(
      () => getPipelineStatus(h.client, pipeline),
      (s) => s.queue.done === 30,
      60_000,
      'pipeline: 30 items',
    );
  } finally {
    await worker.stop();
    pipelineStop.abort();
    await pipelineWorker;
    await server.close();
  }
  return { key, rowsPerMinute, batchSize, log, pull, push, pipeline };
}

async function pushWorker429(): Promise<{
  key: string;
  log: Call[];
  hitAt: number;
  afterPause: RateLimitStatus;
  spec: FunctionRuntimeSpec;
}> {
  // 5 calls/s; the 4th call answers 429 with Retry-After 3 s (longer than the Function's own
  // 1 s degraded backoff, so the pause seen is the limiter's).
  const key = uniqueName('flaky');
  const log: Call[] = [];
  let hitAt = 0;
  const server = createPushServer(
    loggingHandler('push429', log, (call) => {
      if (call === 4) {
        hitAt = Date.now();
        throw new RateLimitedError('provider quota exceeded', 3_000);
      }
    }),
  );
  const port = await server.listen(0);
  const ns = uniqueName('products');
  await seedRows(h.store, ns, range(1, 25));
  const spec = baseSpec(uniqueName('rl-429'), ns, {
    worker: {
      dispatch: 'push',
      batchSize: 1,
      timeoutSeconds: 10,
      pushUrl: `http://127.0.0.1:${port}`,
      rateLimit: { key, requestsPerSecond: 5 },
    },
    // One call at a time, so the log's gaps are the limiter's spacing.
    schedule: {
      discoveryIntervalSeconds: 60,
      leaseSeconds: 60,
      maxInFlightBatches: 1,
      maxConcurrentScans: 1,
    },
    retry: { maxAttempts: 5, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
  });
  try {
    await startFunction(h, spec);
    const afterPause = await eventually(
      () => limiterStatus(spec.k8sNamespace, key),
      (s) => s.rateLimited === 1,
      30_000,
      'the 429 reached the limiter',
    );
    await eventually(
      () => statusOf(h, spec),
      (s: FunctionStatus) => s.counters.processed === 24,
      60_000,
      '24 rows',
    );
    return { key, log, hitAt, afterPause, spec };
  } finally {
    await server.close();
  }
}

describe('shared rate limit', () => {
  it('two Functions (pull, push) and a Pipeline under one key stay within its budget in every window and all progress; a 429 with Retry-After pauses the key, halves its rate, and the rate recovers', async () => {
    const [shared, flaky] = await Promise.all([twoFunctionsShareOneKey(), pushWorker429()]);

    // ---- one budget for both Functions --------------------------------------------------
    const { log, rowsPerMinute, batchSize } = shared;
    const perSecond = rowsPerMinute / 60;
    log.sort((a, b) => a.at - b.at);
    expect(log.reduce((n, c) => n + c.rows, 0)).toBe(126);
    // Stated bound: in any window of W s, rows started ≤ rate·W + one call (no burst beyond
    // one call), plus one more call for the jitter between a permit's answer and the call
    // (Workflow Update round trips on a busy machine). Unlimited, all 126 rows start within about a second.
    for (const windowMs of [1_000, 2_000, 5_000]) {
      const bound = perSecond * (windowMs / 1000) + 2 * batchSize;
      expect(maxRowsInWindow(log, windowMs), `rows started in a ${windowMs} ms window`).toBeLessThanOrEqual(
        bound,
      );
    }
    const spanMs = log.at(-1)!.at - log[0]!.at;
    // 126 rows at 10 rows/s, the first call free: at least (126 - 6) / 10 s.
    expect(spanMs).toBeGreaterThanOrEqual(((126 - batchSize) / perSecond) * 1000 - 500);
    // All progressed together: each had calls in the first half of the run.
    const half = log[0]!.at + spanMs / 2;
    for (const fn of ['pull', 'push', 'pipeline'])
      expect(log.filter((c) => c.fn === fn && c.at < half).length).toBeGreaterThanOrEqual(2);
    // The limiter granted each holder exactly the calls its handler made.
    const limiter = await limiterStatus(shared.pull.k8sNamespace, shared.key);
    expect(limiter.limits).toEqual({ rowsPerMinute });
    expect(limiter.holders[`Function ${shared.pull.k8sNamespace}/${shared.pull.name}`]?.grants).toBe(
      log.filter((c) => c.fn === 'pull').length,
    );
    expect(limiter.holders[`Function ${shared.push.k8sNamespace}/${shared.push.name}`]?.grants).toBe(
      log.filter((c) => c.fn === 'push').length,
    );
    expect(limiter.holders[`Pipeline ${shared.pipeline.k8sNamespace}/${shared.pipeline.name}`]?.grants).toBe(
      log.filter((c) => c.fn === 'pipeline').length,
    );
    const pullStatus = await statusOf(h, shared.pull);
    expect(pullStatus.rateLimit?.waitedSeconds).toBeGreaterThan(1);

    // ---- 429 with Retry-After -------------------------------------------------------------
    const calls = flaky.log.sort((a, b) => a.at - b.at);
    expect(flaky.afterPause.rateLimited).toBe(1);
    expect(flaky.afterPause.factor).toBeLessThan(1);
    const resumed = calls.filter((c) => c.at > flaky.hitAt);
    // Nothing ran during the Retry-After (3 s, vs the Function's own 1 s degraded backoff)…
    expect(resumed[0]!.at - flaky.hitAt).toBeGreaterThanOrEqual(2_900);
    // …then calls are spaced at the halved rate, climbing back: the four gaps after the first
    // call take ≈ 1.45 s (400, 385, 370, 357 ms at 5/s × 0.5 + 0.05/s) where the full rate takes
    // 800 ms. Measured over four gaps, so one late wake-up (an update round trip) cannot hide it.
    expect(resumed[4]!.at - resumed[0]!.at).toBeGreaterThanOrEqual(1_200);
    const before = calls.filter((c) => c.at < flaky.hitAt);
    expect(before.length).toBe(3);
    // And the rate climbs back: full again 10 s after the pause ends (additive increase of
    // 5 % of the budget per second from 0.5), i.e. 13 s after the 429 was reported.
    expect(Date.parse(flaky.afterPause.fullRateAt!) - Date.parse(flaky.afterPause.lastRateLimitedAt!)).toBe(
      13_000,
    );
    expect(flaky.afterPause.limits).toEqual({ requestsPerSecond: 5 });

    await recordHistories(h, rateLimitWorkflowId(shared.pull.k8sNamespace, shared.key), 'rate-limit-shared');
    await recordHistories(h, rateLimitWorkflowId(flaky.spec.k8sNamespace, flaky.key), 'rate-limit-429');
    await recordHistories(
      h,
      functionWorkflowId(shared.pull.k8sNamespace, shared.pull.name),
      'function-v2-rate-limit',
    );
  }, 120_000);

  it("carries the bucket, the factor and every holder's counts across continue-as-new", async () => {
    const key = uniqueName('can');
    const workflowId = rateLimitWorkflowId('test', key);
    // Started by hand to continue-as-new every 5 messages; workers then find it (USE_EXISTING).
    await h.client.workflow.start('rateLimitWorkflow', {
      workflowId,
      taskQueue: h.taskQueue,
      args: [{ k8sNamespace: 'test', key, messagesPerRun: 5 }],
    });
    const gate = (holder: string) =>
      createRateLimitGate({
        client: h.client,
        k8sNamespace: 'test',
        holder,
        rateLimit: { key, requestsPerSecond: 1_000 },
        defaultTaskQueue: h.taskQueue,
      });
    const a = gate('Function test/a');
    const b = gate('Pipeline test/b');
    for (let i = 0; i < 6; i += 1) {
      await a.acquire(4);
      await b.acquire(2);
    }
    // A 429 in the middle of it all is carried too.
    b.observe(new RateLimitedError('quota', 0));
    const s = await eventually(
      () => limiterStatus('test', key),
      (x) => x.rateLimited === 1,
      10_000,
      'the 429 reported',
    );
    expect(s.holders['Function test/a']).toMatchObject({ grants: 6, rows: 24 });
    expect(s.holders['Pipeline test/b']).toMatchObject({ grants: 6, rows: 12 });
    expect(s.factor).toBe(0.5);
    let runs = 0;
    for await (const _ of h.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs += 1;
    // 13 messages at 5 per run: at least three runs (visibility may lag by the last one).
    expect(runs).toBeGreaterThanOrEqual(2);
    await recordHistories(h, workflowId, 'rate-limit-continue-as-new');
  });
});
