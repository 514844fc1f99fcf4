// The service's write path, modelled (docs/adr/0098), proven over HTTP with the official client:
// writes are durable when they return; queries see them at once until the namespace's unindexed
// writes pass the outstanding-write budget, after which newer writes stay invisible until the
// indexer reaches them; past the backpressure limit writes get 429; per-namespace write rate
// limits answer 429 with Retry-After; metadata reports index.status and unindexed_bytes.
import { RateLimitError, Turbopuffer } from '@turbopuffer/turbopuffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';
import { eventually } from '../../helpers/eventually.js';

type Row = { id: number; body: string; n?: number };

/** `count` rows of about `bytesPerRow` bytes each, ids from `first`. */
function rows(first: number, count: number, bytesPerRow = 1_000): Row[] {
  return Array.from({ length: count }, (_, i) => ({ id: first + i, body: 'x'.repeat(bytesPerRow) }));
}

/** What the store counts for a write: the request body as the client sends it. */
function bodyBytes(body: object): number {
  return Buffer.byteLength(JSON.stringify(body));
}

async function visibleIds(ns: ReturnType<Turbopuffer['namespace']>): Promise<number[]> {
  const res = await ns.query({ rank_by: ['id', 'asc'], top_k: 10_000 });
  return (res.rows ?? []).map((r) => r.id as number);
}

/** namespace.write() retries 6 times whatever the client says; a test of the 429 itself must not. */
const NO_RETRY = { maxRetries: 0 };

const range = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

describe('with the indexer paused: the outstanding-write budget', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      memory: true,
      indexLag: {
        outstandingWriteBudgetBytes: 50_000,
        backpressureBytes: 10_000_000,
        indexBytesPerSecond: 0,
      },
    });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('writes within the budget are visible at once; writes past it are acknowledged but invisible, in log order', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-budget'));
    const first = { upsert_rows: rows(0, 30) }; // ~31 KB: within the 50 KB budget
    await ns.write(first);
    expect(await visibleIds(ns)).toEqual(range(0, 30));
    expect(await ns.metadata()).toMatchObject({
      approx_row_count: 30,
      index: { status: 'updating', unindexed_bytes: bodyBytes(first) },
    });

    const second = { upsert_rows: rows(30, 30) }; // the window would be ~62 KB: invisible
    const ack = await ns.write(second);
    expect(ack).toMatchObject({ status: 'OK', rows_upserted: 30 });
    const third = { upsert_rows: rows(60, 5, 100) }; // small, but after an invisible write
    await ns.write(third);
    expect(await visibleIds(ns)).toEqual(range(0, 30));
    expect(await ns.metadata()).toMatchObject({
      approx_row_count: 30,
      index: { status: 'updating', unindexed_bytes: bodyBytes(first) + bodyBytes(second) + bodyBytes(third) },
    });
    // Aggregations and multi-queries read the same view.
    const count = await ns.query({ aggregate_by: { n: ['Count'] } });
    expect(count.aggregations).toEqual({ n: 30 });
  });

  it('writes plan against the log, not the view: a patch to an invisible row applies once it is visible', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-patch'));
    await ns.write({ upsert_rows: rows(0, 45) }); // ~46 KB visible
    // Past the budget (a value over 4 KiB, so its attribute is declared non-filterable).
    await ns.write({
      upsert_rows: [{ id: 100, body: 'y'.repeat(10_000) }],
      schema: { body: { type: 'string', filterable: false } },
    });
    // The row is invisible, yet a patch finds it (the service's conditional writes read the log).
    const patched = await ns.write({ patch_rows: [{ id: 100, n: 7 }] });
    expect(patched).toMatchObject({ rows_patched: 1 });
    expect(await visibleIds(ns)).not.toContain(100);
    // Indexing the first write slides the window over both later ones.
    h.server.store.lag!.index(bodyBytes({ upsert_rows: rows(0, 45) }));
    const res = await ns.query({
      rank_by: ['id', 'asc'],
      top_k: 1,
      filters: ['id', 'Eq', 100],
      include_attributes: ['n'],
    });
    expect(res.rows).toEqual([{ id: 100, n: 7 }]);
  });

  it('the indexer makes writes visible in order as it catches up, then reports up-to-date', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-order'));
    const writes = [0, 1, 2, 3].map((k) => ({ upsert_rows: rows(k * 20, 20) })); // ~20.6 KB each
    for (const w of writes) await ns.write(w);
    expect(await visibleIds(ns)).toEqual(range(0, 40)); // two fit the 50 KB window
    // Other namespaces lag too; index one write's worth in every namespace.
    h.server.store.lag!.index(bodyBytes(writes[0]!));
    expect(await visibleIds(ns)).toEqual(range(0, 60));
    h.server.store.lag!.index(bodyBytes(writes[1]!) / 2); // half a write: nothing new
    expect(await visibleIds(ns)).toEqual(range(0, 60));
    h.server.store.lag!.index(1_000_000);
    expect(await visibleIds(ns)).toEqual(range(0, 80));
    const md = await ns.metadata();
    expect(md.index).toEqual({ status: 'up-to-date' });
    expect(md.approx_row_count).toBe(80);
  });

  it('a write larger than the whole budget on a new namespace leaves it empty for queries, not missing', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-new'));
    await ns.write({ upsert_rows: rows(0, 60) }); // ~62 KB > 50 KB
    expect(await visibleIds(ns)).toEqual([]);
    expect((await ns.metadata()).approx_row_count).toBe(0);
    h.server.store.lag!.index(1_000_000);
    expect(await visibleIds(ns)).toEqual(range(0, 60));
  });
});

describe('with a running indexer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      memory: true,
      // 200 KB/s: 150 KB past a 20 KB budget takes well under a second to catch up.
      indexLag: {
        outstandingWriteBudgetBytes: 20_000,
        backpressureBytes: 10_000_000,
        indexBytesPerSecond: 200_000,
      },
    });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('invisible writes become visible and metadata returns to up-to-date without further requests', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-catchup'));
    const body = { upsert_rows: rows(0, 150) };
    await ns.write(body);
    const right = await visibleIds(ns);
    expect(right.length).toBeLessThan(150); // ~155 KB cannot be indexed in the few ms since
    const md = await ns.metadata();
    expect(md.index).toMatchObject({ status: 'updating' });
    await eventually(
      () => visibleIds(ns),
      (ids) => ids.length === 150,
      10_000,
      'every row visible',
    );
    await eventually(
      () => ns.metadata(),
      (m) => m.index?.status === 'up-to-date',
      10_000,
      'index up-to-date',
    );
  });
});

describe('backpressure', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      memory: true,
      indexLag: { outstandingWriteBudgetBytes: 10_000, backpressureBytes: 40_000, indexBytesPerSecond: 0 },
    });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('past the unindexed limit writes get 429 and change nothing; upserts with disable_backpressure pass; indexing lifts it', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('lag-429'));
    for (let k = 0; k < 3; k++) await ns.write({ upsert_rows: rows(k * 15, 15) }); // ~46 KB unindexed
    const before = await ns.metadata();
    const err = await ns.write({ upsert_rows: rows(100, 1) }, NO_RETRY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).status).toBe(429);
    expect((err as Error).message).toMatch(
      /rejected: indexing is behind by \d+ bytes of unindexed writes, more than the 40000-byte limit; retry once indexing catches up/,
    );
    // A 429 is retryable: the store must not tell the client otherwise.
    expect((err as RateLimitError).headers?.get('x-should-retry')).toBeNull();
    expect((await ns.metadata()).index).toEqual(before.index);

    await expect(
      ns.write({ patch_rows: [{ id: 1, n: 1 }], disable_backpressure: true }, NO_RETRY),
    ).rejects.toBeInstanceOf(RateLimitError);
    await ns.write({ upsert_rows: rows(200, 1), deletes: [0], disable_backpressure: true });

    h.server.store.lag!.index(1_000_000);
    await ns.write({ upsert_rows: rows(100, 1) });
    const ids = await visibleIds(ns);
    expect(ids).toContain(100);
    expect(ids).toContain(200);
    expect(ids).not.toContain(0);
  });

  it('the official client with its default retries rides out backpressure once indexing catches up', async () => {
    const name = uniqueNamespace('lag-429-retry');
    const ns = h.tpuf.namespace(name);
    for (let k = 0; k < 3; k++) await ns.write({ upsert_rows: rows(k * 15, 15) });
    await expect(ns.write({ upsert_rows: rows(100, 1) }, NO_RETRY)).rejects.toBeInstanceOf(RateLimitError);
    const patient = new Turbopuffer({ apiKey: 'test-key', baseURL: h.server.url, region: null });
    const write = patient.namespace(name).write({ upsert_rows: rows(100, 1) });
    setTimeout(() => h.server.store.lag!.index(1_000_000), 300);
    await expect(write).resolves.toMatchObject({ status: 'OK' });
  });
});

describe('write rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ memory: true, writeRateLimit: { rowsPerSecond: 100 } });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('a write over the namespace rate gets 429 with Retry-After; after waiting it is accepted', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('rate'));
    await ns.write({ upsert_rows: rows(0, 150, 10) }); // a second's budget and half again: admitted, in debt
    const err = await ns.write({ upsert_rows: rows(150, 1, 10) }, NO_RETRY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const headers = (err as RateLimitError).headers!;
    const waitMs = Number(headers.get('retry-after-ms'));
    expect(waitMs).toBeGreaterThan(300);
    expect(waitMs).toBeLessThanOrEqual(500);
    expect(headers.get('retry-after')).toBe('1');
    expect((err as Error).message).toMatch(
      /over the namespace's write rate limit \(100 rows\/s\); retry after \d+ ms/,
    );
    // Another namespace has its own budget.
    await h.tpuf.namespace(uniqueNamespace('rate-other')).write({ upsert_rows: rows(0, 10, 10) });
    await new Promise((r) => setTimeout(r, waitMs + 50));
    await ns.write({ upsert_rows: rows(150, 1, 10) });
    expect(await visibleIds(ns)).toHaveLength(151);
  });

  it('the official client honours Retry-After on its own', async () => {
    const ns = uniqueNamespace('rate-retry');
    const patient = new Turbopuffer({ apiKey: 'test-key', baseURL: h.server.url, region: null });
    const started = Date.now();
    await patient.namespace(ns).write({ upsert_rows: rows(0, 150, 10) });
    await patient.namespace(ns).write({ upsert_rows: rows(150, 50, 10) });
    // The second write waited for the first's debt (~0.5 s) instead of failing.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});

describe('defaults are unchanged', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ memory: true });
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('without the model a large write is visible at once and the index is up-to-date', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('nolag'));
    await ns.write({ upsert_rows: rows(0, 2_000) });
    expect(await visibleIds(ns)).toHaveLength(2_000);
    expect((await ns.metadata()).index).toEqual({ status: 'up-to-date' });
    expect(h.server.store.lag).toBeUndefined();
  });
});
