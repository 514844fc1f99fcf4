// The engine against the service's indexing lag (issue 24 items 2-3, docs/adr/0110): the embedded
// store runs the lag model (ADR 0098) with a 32 KiB outstanding-write budget and a slow indexer,
// so most of a 50,000-row Function's writes stay invisible to queries for seconds after they
// return. Discovery must not hand those rows out again: every row is computed exactly once (the
// handler's call log), every value is exact, and the pending count never goes up while no row
// is added. The store, Temporal and the workers are real; nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionStatus } from '../../../packages/worker/src/contracts/function.js';
import {
  eventually,
  indexWritesSoFar,
  readAll,
  seededFunction,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  type EngineHarness,
} from './harness.js';

const ROWS = 50_000;
const BUDGET_BYTES = 32 * 1024;

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({
    storeLag: {
      indexLag: {
        outstandingWriteBudgetBytes: BUDGET_BYTES,
        // No backpressure here (store-backpressure.test.ts has it): only visibility lags.
        backpressureBytes: 1_000_000_000,
        // ~3 MB of the Function's writes take ~30 s to index: far slower than the engine writes.
        indexBytesPerSecond: 100_000,
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

interface Sample {
  status: FunctionStatus;
  unindexedBytes: number;
}

describe('a Function whose writes run far ahead of the indexer', () => {
  it('computes each of 50,000 rows once, writes every value exactly, and its pending count never rises', async () => {
    const fn = await seededFunction(h, 'lag', ROWS, {
      worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 30 },
      schedule: {
        discoveryIntervalSeconds: 1,
        leaseSeconds: 30,
        maxInFlightBatches: 8,
        maxConcurrentScans: 1,
      },
    });
    indexWritesSoFar(h);
    const calls = new Map<string, number>();
    const worker = startPullWorker(h, fn.spec, taggingHandler(calls), 8);
    const samples: Sample[] = [];
    let passesWhenDone: number | undefined;
    try {
      await startFunction(h, fn.spec);
      await eventually(
        async () => {
          const status = await statusOf(h, fn.ref);
          const md = await h.store.metadata(fn.storeNamespace);
          const sample = {
            status,
            unindexedBytes: md.index?.status === 'updating' ? md.index.unindexed_bytes : 0,
          };
          samples.push(sample);
          // Done, indexed, the record emptied — then three more passes that must find nothing.
          if (status.counters.processed >= ROWS && !status.unindexedWrites && sample.unindexedBytes === 0)
            passesWhenDone ??= status.counters.discoveries;
          return sample;
        },
        (s) => passesWhenDone !== undefined && s.status.counters.discoveries >= passesWhenDone + 3,
        240_000,
        `${ROWS} rows written, indexed, and three quiet passes after`,
      );
    } finally {
      await worker.stop();
    }

    // The lag was real: unindexed writes far past the budget.
    const peakUnindexed = Math.max(...samples.map((s) => s.unindexedBytes));
    expect(peakUnindexed).toBeGreaterThan(10 * BUDGET_BYTES);

    // Handler calls = rows: no row computed twice.
    const totalCalls = [...calls.values()].reduce((a, b) => a + b, 0);
    const twice = [...calls].filter(([, n]) => n > 1);
    expect({ rowsSeen: calls.size, totalCalls, computedTwice: twice.slice(0, 5) }).toEqual({
      rowsSeen: ROWS,
      totalCalls: ROWS,
      computedTwice: [],
    });

    // The record held the rows meanwhile; chained ranges fold into a few spans, so it stays small
    // however many rows it covers.
    const recorded = samples.flatMap((s) => (s.status.unindexedWrites ? [s.status.unindexedWrites] : []));
    expect(recorded.length).toBeGreaterThan(0);
    expect(Math.max(...recorded.map((r) => r.bytes))).toBeLessThan(2_000);

    // Every value exact.
    const rows = await readAll(h.store, fn.storeNamespace, ['title', 'tags', 'tags_v', 'tags_error']);
    const wrong = rows.filter(
      (r) =>
        r.tags_v !== 'v1' ||
        r.tags_error != null ||
        JSON.stringify(r.tags) !== JSON.stringify(String(r.title).toLowerCase().split(/\s+/)),
    );
    expect({ rows: rows.length, wrong: wrong.slice(0, 3) }).toEqual({ rows: ROWS, wrong: [] });

    // pendingRows never rises once counted (no row is added meanwhile).
    const pending = samples.map((s) => s.status.pendingRows);
    const firstCount = pending.findIndex((n) => n > 0);
    expect(firstCount).toBeGreaterThanOrEqual(0);
    const rises = pending
      .slice(firstCount)
      .flatMap((n, i, all) => (i > 0 && n > all[i - 1]! ? [[all[i - 1], n]] : []));
    expect(rises).toEqual([]);
    const last = samples[samples.length - 1]!.status;
    expect(last.pendingRows).toBe(0);
    expect(last.counters.processed).toBe(ROWS);
    expect(last.counters.deadLettered).toBe(0);

    await h.client.workflow.getHandle(fn.workflowId).terminate('test over');
  }, 300_000);
});
