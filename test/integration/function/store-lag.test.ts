// The engine against the service's indexing lag (issue 24 items 2-3, docs/adr/0110): the embedded
// store runs the lag model (ADR 0098) with a 32 KiB outstanding-write budget and a slow indexer,
// so most of a 50,000-row Function's writes stay invisible to queries for seconds after they
// return. Discovery must not hand those rows out again: every row is computed exactly once (the
// handler's call log), every value is exact, and the pending count never goes up while no row
// is added. The store, Temporal and the workers are real; nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionOutputSpec, WrittenSpan } from '../../../packages/worker/src/contracts/function.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import { createFunctionActivities } from '../../../src/activities/function-activities.js';
import { unpackRowIds } from '../../../packages/worker/src/contracts/function.js';
import {
  eventually,
  indexWritesSoFar,
  range,
  mistaggedRows,
  passEverySecond,
  seedRows,
  seededFunction,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
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
    const fn = await seededFunction(h, 'lag', ROWS, passEverySecond(64, 8));
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
    expect(await mistaggedRows(h.store, fn.storeNamespace)).toEqual({ rows: ROWS, wrong: [] });

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

describe('discovery and the pending count leave written spans out (the activities, on the real store)', () => {
  const output: FunctionOutputSpec = { attribute: 'tags', kind: 'tags', version: 'v1' };
  // Rows 1..100 lack the output; the Function "wrote" (…10], [20, 30] and (50, 60].
  const skip: WrittenSpan[] = [
    { after: null, last: 10 },
    { from: 20, last: 30 },
    { after: 50, last: 60 },
  ];
  let ns: string;
  const activities = () => createFunctionActivities({ storeFor: () => h.store });
  beforeAll(async () => {
    ns = uniqueName('spans');
    await seedRows(h.store, ns, range(1, 101));
    indexWritesSoFar(h);
  });

  it.each([
    // From the start: (…10] is jumped, the cut ends before [20, 30], the next scan starts after it.
    { from: null, limit: 1000, cutsAfter: 10, ids: range(11, 20), next: 30 },
    { from: 30, limit: 1000, cutsAfter: 30, ids: range(31, 51), next: 60 },
    { from: 60, limit: 1000, cutsAfter: 60, ids: range(61, 101), next: null },
    // A full page before a span ends where the page ends.
    { from: 30, limit: 5, cutsAfter: 30, ids: range(31, 36), next: 35 },
    // A cursor inside a span jumps to its end first.
    { from: 25, limit: 1000, cutsAfter: 30, ids: range(31, 51), next: 60 },
  ])('a scan from $from (limit $limit) cuts $ids.length rows after $cutsAfter, next $next', async (c) => {
    const page = await activities().discoverRows({
      namespace: ns,
      output,
      afterId: c.from,
      limit: c.limit,
      batchSize: 4,
      skip,
    });
    if (!('cuts' in page)) throw new Error('expected range cuts');
    expect(page.cuts.afterId).toBe(c.cutsAfter);
    expect(page.cuts.rows).toBe(c.ids.length);
    // Cut every 4 rows, the last at the last row found: no range reaches into a span.
    expect(unpackRowIds(page.cuts.lastIds).at(-1)).toBe(c.ids.at(-1));
    expect(page.nextAfterId).toBe(c.next);
  });

  it('a scan of ids (input fingerprints) drops the rows of the spans', async () => {
    const page = await activities().discoverRows({
      namespace: ns,
      output: { ...output, inputFingerprint: true },
      inputs: ['title'],
      afterId: null,
      limit: 1000,
      skip,
    });
    if (!('ids' in page)) throw new Error('expected ids');
    expect(page.ids).toEqual([...range(11, 20), ...range(31, 51), ...range(61, 101)]);
  });

  it('the pending count leaves the spans out and says whether the namespace is indexed', async () => {
    const a = activities();
    expect(await a.countPendingRows({ namespaces: [ns], output })).toEqual({ [ns]: 100 });
    indexWritesSoFar(h); // the attributes discovery declared are a write too
    expect(await a.countPendingRows({ namespaces: [ns], output, skip: { [ns]: skip } })).toEqual({
      counts: { [ns]: 100 - 10 - 11 - 10 },
      indexed: { [ns]: true },
    });
  });
});
