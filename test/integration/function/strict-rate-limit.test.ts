// A shared rate limit stricter than the Function's concurrency (issue 28 item 2, docs/adr/0074),
// on the real Temporal dev server and the embedded store. At 0.25 requests/s with a 2 s lease and
// 4 batches in flight, three of four claims would wait longer than their lease: before, each
// timed-out claim's retry booked another permit, the bookings ran away and throughput fell to 0.
// Now a permit due beyond a claim's wait allowance is not booked (the Function shows
// RateLimitWait and dispatches again when one is due) and a retried claim gets its own booking
// back, so bookings never exceed the calls made plus the ones in flight, and every row is done.
import { describe, expect, it } from 'vitest';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  createRateLimitGate,
  PermitDeferredError,
} from '../../../packages/worker/src/claim-execution/rate-limit-gate.js';
import { rateLimitWorkflowId } from '../../../packages/worker/src/contracts/rate-limit.js';
import { rateLimitStatusQuery, type RateLimitStatus } from '../../../src/contracts/rate-limit.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  seedRows,
  engineHarnessPerFile,
  startFunction,
  startPullWorker,
  statusOf,
  uniqueName,
} from './harness.js';

const h = engineHarnessPerFile();

function limiterStatus(key: string): Promise<RateLimitStatus> {
  return h.client.workflow.getHandle(rateLimitWorkflowId('test', key)).query(rateLimitStatusQuery);
}

describe('a strict shared rate limit', () => {
  it('books no more permits than calls in flight and keeps going when permits are due beyond the lease', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('strict');
    const key = uniqueName('strict');
    const ROWS = 12;
    const MAX_IN_FLIGHT = 4;
    await seedRows(h.store, ns, range(1, ROWS + 1));
    const calls: number[] = [];
    const handler: FunctionHandler = async (rows) => {
      calls.push(Date.now());
      return rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toLowerCase().split(/\s+/) }));
    };
    const spec = baseSpec(name, ns, {
      worker: {
        dispatch: 'pull',
        batchSize: 2,
        timeoutSeconds: 2,
        rateLimit: { key, requestsPerSecond: 0.25 },
      },
      schedule: {
        discoveryIntervalSeconds: 1,
        leaseSeconds: 2,
        maxInFlightBatches: MAX_IN_FLIGHT,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const worker = startPullWorker(h, spec, handler);
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    let sawWaiting: FunctionStatus | undefined;
    let worstExcess = 0;
    try {
      await startFunction(h, spec);
      const done = await eventually(
        async () => {
          const s = await statusOf(h, ref);
          if (s.rateLimit?.waiting) sawWaiting ??= s;
          const limiter = await limiterStatus(key).catch(() => undefined);
          const grants = Object.values(limiter?.holders ?? {}).reduce((n, x) => n + x.grants, 0);
          // Every booking is a call made or one in flight: never a pile of permits nobody uses.
          worstExcess = Math.max(worstExcess, grants - calls.length);
          return s;
        },
        (s) => s.counters.processed === ROWS,
        55_000,
        `${ROWS} rows through a 0.25 requests/s budget`,
      );
      expect(worstExcess).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      const limiter = await limiterStatus(key);
      const holder = Object.values(limiter.holders)[0]!;
      expect(holder.grants).toBeLessThanOrEqual(calls.length + 1);
      expect(limiter.bookingsAhead).toBeLessThanOrEqual(1);
      expect(done.counters.deadLettered).toBe(0);
      // The status said why it was slow: the shared budget, not a fault.
      expect(sawWaiting?.rateLimit?.waiting).toBe(true);
      // The budget held: calls were spaced by ~4 s (one call of jitter allowed).
      const span = calls[calls.length - 1]! - calls[0]!;
      expect(span).toBeGreaterThanOrEqual((calls.length - 2) * 4_000);
      const rows = await readAll(h.store, ns, ['tags', 'tags_error']);
      expect(rows.every((r) => Array.isArray(r.tags) && (r.tags_error ?? null) === null)).toBe(true);
    } finally {
      await worker.stop();
    }
  }, 90_000);

  it('gives a retried booking its permit back and books nothing beyond the wait allowed', async () => {
    const key = uniqueName('booking');
    const gate = createRateLimitGate({
      client: h.client,
      k8sNamespace: 'test',
      holder: 'Function test/booking',
      rateLimit: { key, requestsPerSecond: 0.1 },
      defaultTaskQueue: h.taskQueue,
    });
    // The first call starts at once; a retry of the same claim and batch asks again: same permit.
    expect(await gate.acquire(1, undefined, { booking: 'claim-1/b1', maxWaitMs: 1_000 })).toBeLessThan(1_000);
    await gate.acquire(1, undefined, { booking: 'claim-1/b1', maxWaitMs: 1_000 });
    // The next permit is 10 s away, beyond the 1 s this claim may wait: refused, nothing booked.
    const refused = await gate
      .acquire(1, undefined, { booking: 'claim-2/b2', maxWaitMs: 1_000 })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PermitDeferredError);
    expect((refused as PermitDeferredError).retryAfterMs).toBeGreaterThan(5_000);
    expect((refused as PermitDeferredError).message).toMatch(
      /shared rate limit ".*": the next permit is due in/,
    );
    const s = await limiterStatus(key);
    const holder = s.holders['Function test/booking']!;
    expect(holder).toMatchObject({ grants: 1, reused: 1, deferred: 1 });
    expect(s.bookingsAhead).toBe(0);
  });
});
