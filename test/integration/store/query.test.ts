// Query semantics through the official client: every filter operator (null and array cases
// included), ordering, id paging across many pages, aggregates, multi-query and vectors.
import type { Filter } from '@turbopuffer/turbopuffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
const NS = uniqueNamespace('query');

// Ids 1..6. `n` is missing on 2 and null (= missing) on 4 and 5.
const ROWS = [
  { id: 1, n: 3, s: 'apple', tags: ['red', 'fruit'], nums: [1, 5], flag: true },
  { id: 2, s: 'Banana', tags: ['yellow', 'fruit'], nums: [2], flag: false },
  { id: 3, n: 1, s: 'cherry', tags: ['red'], nums: [9, 10] },
  { id: 4, n: null, s: 'date', tags: [] },
  { id: 5, n: null, s: 'elder/berry' },
  { id: 6, n: 3, s: 'fig', tags: ['green', 'fruit'], nums: [7], flag: true },
];

beforeAll(async () => {
  h = await startHarness();
  await h.tpuf.namespace(NS).write({
    upsert_rows: ROWS,
    schema: { s: { type: 'string', glob: true, filterable: true, regex: true } },
  });
});
afterAll(async () => {
  await h.server.close();
});

async function ids(filters: Filter): Promise<unknown[]> {
  const res = await h.tpuf.namespace(NS).query({ rank_by: ['id', 'asc'], top_k: 100, filters });
  return (res.rows ?? []).map((r) => r.id);
}

describe('filters', () => {
  it.each<[string, Filter, number[]]>([
    ['Eq on a scalar', ['n', 'Eq', 3], [1, 6]],
    ['Eq null matches missing and null', ['n', 'Eq', null], [2, 4, 5]],
    ['NotEq null matches present values', ['n', 'NotEq', null], [1, 3, 6]],
    ['NotEq a value includes missing', ['n', 'NotEq', 3], [2, 3, 4, 5]],
    ['Eq on id', ['id', 'Eq', 4], [4]],
    ['In', ['s', 'In', ['apple', 'fig', 'nope']], [1, 6]],
    ['NotIn includes missing', ['n', 'NotIn', [3]], [2, 3, 4, 5]],
    ['In on an array attribute matches any element', ['tags', 'In', ['green', 'yellow']], [2, 6]],
    ['In on id', ['id', 'In', [6, 2, 99]], [2, 6]],
    ['Lt: null counts as lowest', ['n', 'Lt', 3], [2, 3, 4, 5]],
    ['Lte', ['n', 'Lte', 1], [2, 3, 4, 5]],
    ['Gt excludes null', ['n', 'Gt', 1], [1, 6]],
    ['Gte', ['n', 'Gte', 1], [1, 3, 6]],
    ['Gt on strings is lexicographic', ['s', 'Gt', 'date'], [5, 6]],
    [
      'id range',
      [
        'And',
        [
          ['id', 'Gt', 2],
          ['id', 'Lte', 4],
        ],
      ],
      [3, 4],
    ],
    ['AnyLt on arrays', ['nums', 'AnyLt', 2], [1]],
    ['AnyGte on arrays', ['nums', 'AnyGte', 9], [3]],
    ['Contains', ['tags', 'Contains', 'fruit'], [1, 2, 6]],
    ['NotContains matches empty and missing arrays', ['tags', 'NotContains', 'fruit'], [3, 4, 5]],
    ['ContainsAny', ['tags', 'ContainsAny', ['red', 'green']], [1, 3, 6]],
    ['NotContainsAny', ['tags', 'NotContainsAny', ['red', 'green']], [2, 4, 5]],
    ['Glob', ['s', 'Glob', '*e*r*'], [3, 5]],
    ['Glob with class and alternatives', ['s', 'Glob', '{a,f}[pi]*'], [1, 6]],
    ['Glob ? and literal slash', ['s', 'Glob', 'elder/?erry'], [5]],
    ['NotGlob', ['s', 'NotGlob', '*a*'], [3, 5, 6]],
    ['IGlob is case-insensitive', ['s', 'IGlob', 'b*'], [2]],
    ['Glob is case-sensitive', ['s', 'Glob', 'b*'], []],
    ['NotIGlob', ['s', 'NotIGlob', '*A*'], [3, 5, 6]],
    ['Regex', ['s', 'Regex', '^[a-c]'], [1, 3]],
    ['bool Eq', ['flag', 'Eq', true], [1, 6]],
    [
      'And',
      [
        'And',
        [
          ['n', 'Eq', 3],
          ['flag', 'Eq', true],
          ['tags', 'Contains', 'green'],
        ],
      ],
      [6],
    ],
    [
      'Or',
      [
        'Or',
        [
          ['id', 'Eq', 1],
          ['s', 'Eq', 'date'],
        ],
      ],
      [1, 4],
    ],
    ['Not', ['Not', ['n', 'Eq', null]], [1, 3, 6]],
    ['Not Not is the identity', ['Not', ['Not', ['n', 'Eq', 3]]], [1, 6]],
  ])('%s', async (_name, filter, expected) => {
    expect(await ids(filter)).toEqual(expected);
  });

  it('operand type mismatches are 400s that name the key', async () => {
    await expect(ids(['tags', 'Contains', ['red']] as never)).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('filter error in key `tags`: type mismatch, Contains expects string'),
    });
    await expect(ids(['tags', 'ContainsAny', 'red'] as never)).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('ContainsAny expects []string'),
    });
    await expect(ids(['n', 'Eq', 'three'])).rejects.toMatchObject({ status: 400 });
  });
});

describe('ordering and limits', () => {
  it('orders by an attribute with nulls first ascending, last descending, ties by id', async () => {
    const asc = await h.tpuf.namespace(NS).query({ rank_by: ['n', 'asc'], top_k: 10 });
    expect(asc.rows?.map((r) => r.id)).toEqual([2, 4, 5, 3, 1, 6]);
    const desc = await h.tpuf.namespace(NS).query({ rank_by: ['n', 'desc'], top_k: 10 });
    expect(desc.rows?.map((r) => r.id)).toEqual([1, 6, 3, 2, 4, 5]);
  });

  it('multi-key ordering and id descending', async () => {
    const res = await h.tpuf.namespace(NS).query({
      rank_by: [
        ['flag', 'desc'],
        ['id', 'desc'],
      ],
      top_k: 3,
    });
    expect(res.rows?.map((r) => r.id)).toEqual([6, 1, 2]);
    const byId = await h.tpuf.namespace(NS).query({ rank_by: ['id', 'desc'], limit: 2 });
    expect(byId.rows?.map((r) => r.id)).toEqual([6, 5]);
  });

  it('include_attributes / exclude_attributes shape the rows; missing attributes are left out', async () => {
    const inc = await h.tpuf
      .namespace(NS)
      .query({ rank_by: ['id', 'asc'], top_k: 2, include_attributes: ['n', 'flag'] });
    expect(inc.rows).toEqual([
      { id: 1, n: 3, flag: true },
      { id: 2, flag: false },
    ]);
    const exc = await h.tpuf
      .namespace(NS)
      .query({ rank_by: ['id', 'asc'], top_k: 1, exclude_attributes: ['tags', 'nums'] });
    expect(exc.rows).toEqual([{ id: 1, n: 3, s: 'apple', flag: true }]);
    const none = await h.tpuf.namespace(NS).query({ rank_by: ['id', 'asc'], top_k: 1 });
    expect(none.rows).toEqual([{ id: 1 }]);
  });

  it('limit.per caps rows per attribute value', async () => {
    const res = await h.tpuf
      .namespace(NS)
      .query({ rank_by: ['id', 'asc'], limit: { total: 10, per: { attributes: ['n'], limit: 1 } } });
    expect(res.rows?.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('pages through 25,000 rows by id with a filter, 1,000 at a time', async () => {
    const name = uniqueNamespace('paging');
    const ns = h.tpuf.namespace(name);
    const rows = Array.from({ length: 25_000 }, (_, i) => ({ id: i + 1, bucket: i % 5, even: i % 2 === 1 }));
    // Written out of order, to exercise the sorted id index.
    await ns.write({ upsert_rows: rows.slice(12_500) });
    await ns.write({ upsert_rows: rows.slice(0, 12_500).reverse() });
    const seen: number[] = [];
    let afterId: string | number | null = null;
    let pages = 0;
    do {
      const page = await h.store.scanPage({
        namespace: name,
        filter: ['bucket', 'Eq', 2],
        afterId,
        limit: 1000,
        attributes: ['bucket'],
      });
      pages++;
      for (const r of page.rows) {
        expect(r.bucket).toBe(2);
        seen.push(r.id as number);
      }
      afterId = page.nextAfterId;
    } while (afterId !== null);
    expect(seen).toHaveLength(5000);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[0]).toBe(3);
    expect(pages).toBe(6); // 5 full pages and one empty one that ends the scan
    // The page's work is proportional to the page: a scan from the middle examines ≈ limit rows.
    const res = await ns.query({
      rank_by: ['id', 'asc'],
      limit: 100,
      filters: [
        'And',
        [
          ['even', 'Eq', true],
          ['id', 'Gt', 20_000],
        ],
      ],
    });
    expect(res.rows?.[0]?.id).toBe(20_002);
    expect(res.performance.exhaustive_search_count).toBeLessThanOrEqual(200);
  });

  it('top_k above 10,000 is a 400', async () => {
    await expect(h.tpuf.namespace(NS).query({ rank_by: ['id', 'asc'], top_k: 10_001 })).rejects.toMatchObject(
      { status: 400 },
    );
  });
});

describe('aggregates', () => {
  it('Count with and without filters, Sum, and the store client helper', async () => {
    const ns = h.tpuf.namespace(NS);
    const res = await ns.query({
      aggregate_by: { count: ['Count'], total: ['Sum', 'n'] },
      filters: ['n', 'NotEq', null],
    });
    expect(res.aggregations).toEqual({ count: 3, total: 7 });
    expect((await ns.query({ aggregate_by: { c: ['Count', 'id'] } })).aggregations).toEqual({ c: 6 });
    expect(await h.store.countRows(NS, ['tags', 'Contains', 'fruit'])).toBe(3);
    expect(await h.store.countRows(NS)).toBe(6);
  });

  it('group_by, ForEachUnique, with null groups first and top_k on groups', async () => {
    const ns = h.tpuf.namespace(NS);
    const res = await ns.query({ aggregate_by: { c: ['Count'] }, group_by: ['n'] });
    expect(res.aggregation_groups).toEqual([
      { n: null, c: 3 },
      { n: 1, c: 1 },
      { n: 3, c: 2 },
    ]);
    const tags = await ns.query({
      aggregate_by: { c: ['Count'] },
      group_by: [{ tag: ['ForEachUnique', 'tags'] }],
      top_k: 2,
    });
    expect(tags.aggregation_groups).toEqual([
      { tag: 'fruit', c: 3 },
      { tag: 'green', c: 1 },
    ]);
  });

  it('aggregate_by with rank_by is a 400', async () => {
    await expect(
      h.tpuf.namespace(NS).query({ aggregate_by: { c: ['Count'] }, rank_by: ['id', 'asc'] }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('multi-query and vectors', () => {
  it('runs sub-queries on one snapshot, in order', async () => {
    const res = await h.tpuf.namespace(NS).multiQuery({
      queries: [
        { rank_by: ['id', 'asc'], top_k: 2 },
        { aggregate_by: { c: ['Count'] }, filters: ['flag', 'Eq', true] },
        { rank_by: ['id', 'desc'], top_k: 1, include_attributes: ['s'] },
      ],
    });
    expect(res.results).toEqual([
      { rows: [{ id: 1 }, { id: 2 }] },
      { aggregations: { c: 2 } },
      { rows: [{ id: 6, s: 'fig' }] },
    ]);
  });

  it('fuses with RRF', async () => {
    const res = await h.tpuf.namespace(NS).multiQuery({
      queries: [
        { rank_by: ['id', 'asc'], top_k: 3 },
        { rank_by: ['id', 'desc'], top_k: 3, filters: ['id', 'In', [3, 1]] },
      ],
      rerank_by: ['RRF'],
    });
    // 1 ranks (1st, 2nd), 3 ranks (3rd, 1st): 1/61 + 1/62 > 1/63 + 1/61.
    expect(res.results[0]?.rows?.slice(0, 3).map((r) => r.id)).toEqual([1, 3, 2]);
    const weighted = await h.tpuf.namespace(NS).multiQuery({
      queries: [
        { rank_by: ['id', 'asc'], top_k: 3 },
        { rank_by: ['id', 'desc'], top_k: 3, filters: ['id', 'In', [3, 1]] },
      ],
      rerank_by: ['RRF', { weights: [1, 2] }],
    });
    expect(weighted.results[0]?.rows?.slice(0, 2).map((r) => r.id)).toEqual([3, 1]);
  });

  it('exact nearest neighbours by cosine and euclidean distance, with filters and base64', async () => {
    const cos = h.tpuf.namespace(uniqueNamespace('vec'));
    const vecs = [
      { id: 1, vector: [1, 0], kind: 'a' },
      { id: 2, vector: [0, 1], kind: 'b' },
      { id: 3, vector: [0.9, 0.1], kind: 'b' },
    ];
    await cos.write({ upsert_rows: vecs, distance_metric: 'cosine_distance' });
    const near = await cos.query({ rank_by: ['vector', 'ANN', [1, 0]], top_k: 2 });
    expect(near.rows?.map((r) => r.id)).toEqual([1, 3]);
    expect(near.rows?.[0]?.$dist).toBeCloseTo(0);
    const filtered = await cos.query({
      rank_by: ['vector', 'kNN', [1, 0]],
      top_k: 2,
      filters: ['kind', 'Eq', 'b'],
      include_attributes: ['vector'],
      vector_encoding: 'base64',
    });
    expect(filtered.rows?.map((r) => r.id)).toEqual([3, 2]);
    expect(typeof filtered.rows?.[0]?.vector).toBe('string');

    const euc = h.tpuf.namespace(uniqueNamespace('vec'));
    await euc.write({ upsert_rows: vecs, distance_metric: 'euclidean_squared' });
    const e = await euc.query({ rank_by: ['vector', 'ANN', [0, 2]], top_k: 1 });
    expect(e.rows).toEqual([{ id: 2, $dist: 1 }]);
  });
});
