// A shared rate limit stricter than a Pipeline's concurrency (issue 28 item 2, docs/adr/0074), on
// the real Temporal dev server and the embedded store. At 0.25 requests/s with a 2 s lease and 4
// batches in flight, three of four claims would wait longer than their lease: before, the claim
// timed out while it waited, its retry booked another permit and the bookings ran away. Now a
// permit due beyond a claim's wait allowance is not booked (the Pipeline shows RateLimitWait and
// dispatches again when one is due) and a retried claim gets its own booking back, so bookings
// never exceed the calls made plus the ones in flight, and every item is done.
import { describe, expect, it } from 'vitest';
import { submitPipelineItems } from '../../../src/client/pipeline-client.js';
import { rateLimitWorkflowId } from '../../../packages/worker/src/contracts/rate-limit.js';
import { rateLimitStatusQuery, type RateLimitStatus } from '../../../src/contracts/rate-limit.js';
import type { PipelineStatus } from '../../../src/contracts/pipeline.js';
import {
  byDocument,
  eventually,
  pipelineHarnessPerFile,
  pipelineSpec,
  readChunks,
  startPipeline,
  startWorker,
  statusOf,
  uniqueName,
} from './harness.js';
import { chunker } from './chunker.js';

const h = pipelineHarnessPerFile();

function limiterStatus(key: string): Promise<RateLimitStatus> {
  return h.client.workflow.getHandle(rateLimitWorkflowId('test', key)).query(rateLimitStatusQuery);
}

describe('a Pipeline under a strict shared rate limit', () => {
  it('books no more permits than calls in flight and keeps going when permits are due beyond the lease', async () => {
    const name = uniqueName('strict');
    const ns = uniqueName('chunks');
    const key = uniqueName('strict');
    const ITEMS = 12;
    const MAX_IN_FLIGHT = 4;
    const spec = pipelineSpec(name, ns, {
      worker: {
        dispatch: 'pull',
        batchSize: 2,
        timeoutSeconds: 2,
        rateLimit: { key, requestsPerSecond: 0.25 },
      },
      schedule: { leaseSeconds: 2, maxInFlightBatches: MAX_IN_FLIGHT, maxPendingItems: 10_000 },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const calls: number[] = [];
    const chunk = chunker();
    const worker = startWorker(h, spec, {
      process: async (items, ctx) => {
        calls.push(Date.now());
        return chunk(items, ctx);
      },
    });
    let sawWaiting: PipelineStatus | undefined;
    let worstExcess = 0;
    try {
      await startPipeline(h, spec);
      const items = Array.from({ length: ITEMS }, (_, i) => ({
        key: `item-${i}`,
        payload: { text: `item ${i} first paragraph\n\nitem ${i} second paragraph` },
      }));
      expect(await submitPipelineItems(h.client, ref, items)).toEqual({ accepted: ITEMS, duplicates: 0 });
      const done = await eventually(
        async () => {
          const s = await statusOf(h, ref);
          if (s.degraded?.reason === 'RateLimitWait') sawWaiting ??= s;
          const limiter = await limiterStatus(key).catch(() => undefined);
          const grants = Object.values(limiter?.holders ?? {}).reduce((n, x) => n + x.grants, 0);
          // Every booking is a call made or one in flight: never a pile of permits nobody uses.
          worstExcess = Math.max(worstExcess, grants - calls.length);
          return s;
        },
        (s) => s.queue.done + s.queue.failed === ITEMS,
        55_000,
        `${ITEMS} items through a 0.25 requests/s budget`,
      );
      expect(done.queue.failed).toBe(0);
      expect(worstExcess).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      const limiter = await limiterStatus(key);
      const holder = limiter.holders[`Pipeline test/${name}`]!;
      expect(holder.grants).toBeLessThanOrEqual(calls.length + 1);
      expect(limiter.bookingsAhead).toBeLessThanOrEqual(1);
      // The status said why it was slow: the shared budget, not a fault.
      expect(sawWaiting?.degraded?.reason).toBe('RateLimitWait');
      // The budget held: calls were spaced by ~4 s (one call of jitter allowed).
      const span = calls[calls.length - 1]! - calls[0]!;
      expect(span).toBeGreaterThanOrEqual((calls.length - 2) * 4_000);
      const docs = byDocument(await readChunks(h.store, ns));
      expect(Object.keys(docs)).toHaveLength(ITEMS);
      for (const it of items) expect(docs[it.key]).toHaveLength(2);
    } finally {
      await worker.stop();
    }
  }, 90_000);
});
