// The engine against the service's write backpressure (issue 24 items 2-3, docs/adr/0111): the
// embedded store runs the lag model (ADR 0098) with a 40 KB unindexed-write limit and a 20 KB/s
// indexer, so a Function's writes soon get the service's 429 until indexing catches up. The
// 429 must slow that namespace's dispatch (degraded, Quota, naming the namespace) and never
// dead-letter a row; once the store catches up the Function recovers and every value is exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import { waitUntilIndexed } from '../../../src/store/lag-profile.js';
import {
  eventually,
  indexWritesSoFar,
  mistaggedRows,
  passEverySecond,
  recordHistories,
  seededFunction,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  type EngineHarness,
} from './harness.js';

const ROWS = 3_000;

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({
    storeLag: {
      // The Function writes ~180 KB: past 40 KB unindexed its writes get 429 until the indexer
      // (20 KB/s) has caught up — several rounds of refusal and recovery in ~10 s.
      indexLag: {
        outstandingWriteBudgetBytes: 8 * 1024,
        backpressureBytes: 40_000,
        indexBytesPerSecond: 20_000,
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

describe('a Function whose writes the store refuses with 429 while indexing catches up', () => {
  it('degrades on that namespace, dead-letters nothing, recovers, and writes every value exactly', async () => {
    const fn = await seededFunction(h, 'backpressure', ROWS, {
      ...passEverySecond(32, 4),
      retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 2 },
    });
    indexWritesSoFar(h);
    const calls = new Map<string, number>();
    const worker = startPullWorker(h, fn.spec, taggingHandler(calls), 4);
    const seen: FunctionStatus[] = [];
    let last: FunctionStatus;
    try {
      await startFunction(h, fn.spec);
      last = await eventually(
        async () => {
          const s = await statusOf(h, fn.ref);
          seen.push(s);
          return s;
        },
        // Idle, recovered, and the record of unindexed writes dropped once the store caught up.
        (s) => s.counters.processed === ROWS && s.phase === 'idle' && !s.degraded && !s.unindexedWrites,
        180_000,
        `${ROWS} rows written, the Function idle again and its writes indexed`,
      );
    } finally {
      await worker.stop();
    }

    // Degraded on the 429, on that namespace only, for the store's reason.
    const degraded = seen.flatMap((s) => (s.degraded ? [s.degraded] : []));
    expect(degraded.length).toBeGreaterThan(0);
    expect(degraded[0]).toMatchObject({ reason: 'Quota', namespace: fn.storeNamespace });
    expect(degraded[0]!.message).toMatch(/indexing is behind/);
    expect(seen.some((s) => s.phase === 'degraded')).toBe(true);

    // Recovered: no dead letter, every row at its value.
    expect(last.counters.deadLettered).toBe(0);
    expect(last.counters.processed).toBe(ROWS);
    // Queries show what is indexed (and the budget beyond): read once the store has caught up.
    await waitUntilIndexed(h.store, fn.storeNamespace, 60_000, 200);
    expect(await mistaggedRows(h.store, fn.storeNamespace)).toEqual({ rows: ROWS, wrong: [] });
    // A refused write is computed again (its output was never stored), never skipped.
    expect(calls.size).toBe(ROWS);

    await h.client.workflow.getHandle(fn.workflowId).terminate('test over');
    await recordHistories(h, fn.workflowId, 'function-v2-lag');
  }, 240_000);
});
