// ANN through the official client: above the threshold (lowered to 1,000 rows here) unfiltered
// ANN queries are answered from the HNSW index once its background build is done, and still find the true nearest neighbours
// (recall@10 against the exact kNN answer), with exact $dist values; below it, and with a
// filter, search stays exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ memory: true, annThreshold: 1000 });
});
afterAll(async () => {
  await h.server.close();
});

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 1) / 4294967297;
  };
}

/** Points around 12 centres in 16 dimensions. */
function points(n: number, seed: number): number[][] {
  const r = rng(seed);
  const centres = Array.from({ length: 12 }, () => Array.from({ length: 16 }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => centres[Math.floor(r() * 12)]!.map((x) => x + (r() - 0.5) * 0.5));
}

/**
 * ANN queries stay exact while the index builds in the background, and metadata says
 * index.status 'updating' (with unindexed_bytes) until it is done.
 */
async function untilIndexed(
  ns: ReturnType<Harness['tpuf']['namespace']>,
  q: number[],
  rows: number,
): Promise<void> {
  const first = await ns.query({ rank_by: ['vector', 'ANN', q], top_k: 10 });
  expect(first.performance.exhaustive_search_count).toBe(rows);
  const during = (await ns.metadata()).index;
  expect(during.status).toBe('updating');
  if (during.status === 'updating') expect(during.unindexed_bytes).toBeGreaterThan(0);
  for (let attempt = 1; attempt <= 400; attempt++) {
    if ((await ns.metadata()).index.status === 'up-to-date') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the ANN index never became ready');
}

describe('ANN index', () => {
  it('a namespace above the threshold answers from the index with recall@10 ≥ 0.95', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('ann'));
    const data = points(1500, 11);
    await ns.write({
      upsert_rows: data.map((vector, id) => ({ id, vector, odd: id % 2 === 1 })),
      distance_metric: 'euclidean_squared',
    });
    // The first ANN query starts the build and is answered exactly.
    await untilIndexed(ns, data[0]!, 1500);
    let hits = 0;
    const queries = points(20, 12);
    for (const q of queries) {
      const exact = await ns.query({ rank_by: ['vector', 'kNN', q], top_k: 10 });
      const ann = await ns.query({ rank_by: ['vector', 'ANN', q], top_k: 10 });
      // The index did the work: fewer distance computations than rows (a beam of 256 on 1,500).
      expect(exact.performance.exhaustive_search_count).toBe(1500);
      expect(ann.performance.exhaustive_search_count).toBeLessThan(1200);
      const truth = new Set(exact.rows!.map((r) => r.id));
      hits += ann.rows!.filter((r) => truth.has(r.id)).length;
      // $dist is the exact distance of each returned row, nearest first.
      for (const r of ann.rows!) {
        const v = data[r.id as number]!;
        expect(r.$dist).toBeCloseTo(
          v.reduce((s, x, i) => s + (x - q[i]!) ** 2, 0),
          5,
        );
      }
      const d = ann.rows!.map((r) => r.$dist as number);
      expect(d).toEqual([...d].sort((a, b) => a - b));
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);

    // Deleted rows leave the index; a filtered ANN query stays exact.
    const q = data[7]!;
    expect((await ns.query({ rank_by: ['vector', 'ANN', q], top_k: 1 })).rows![0]!.id).toBe(7);
    await ns.write({ deletes: [7] });
    const after = await ns.query({ rank_by: ['vector', 'ANN', q], top_k: 3 });
    expect(after.rows!.map((r) => r.id)).not.toContain(7);
    const filtered = await ns.query({
      rank_by: ['vector', 'ANN', q],
      top_k: 3,
      filters: ['odd', 'Eq', true],
    });
    const filteredExact = await ns.query({
      rank_by: ['vector', 'kNN', q],
      top_k: 3,
      filters: ['odd', 'Eq', true],
    });
    // Exact over the 749 odd rows left (the equality index narrows the scan), same as kNN.
    expect(filtered.performance.exhaustive_search_count).toBe(749);
    expect(filtered.rows).toEqual(filteredExact.rows);
    expect(filtered.rows!.every((r) => (r.id as number) % 2 === 1)).toBe(true);
  });

  it('below the threshold ANN is exact search', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('ann-small'));
    const data = points(200, 5);
    await ns.write({
      upsert_rows: data.map((vector, id) => ({ id, vector })),
      distance_metric: 'cosine_distance',
    });
    const q = points(1, 6)[0]!;
    const ann = await ns.query({ rank_by: ['vector', 'ANN', q], top_k: 10 });
    const knn = await ns.query({ rank_by: ['vector', 'kNN', q], top_k: 10 });
    expect(ann.performance.exhaustive_search_count).toBe(200);
    expect(ann.rows).toEqual(knn.rows);
  });
});
