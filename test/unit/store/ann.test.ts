// The HNSW index on its own: recall@10 against exact search on seeded data for both metrics,
// deletes and replacements never returned, and the index does less work than a full scan.
import { describe, expect, it } from 'vitest';
import { HnswIndex, type AnnMetric } from '../../../src/store/storage/ann.js';

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 1) / 4294967297;
  };
}

/** Points around 20 random centres: what embeddings look like more than uniform noise. */
function clustered(n: number, dims: number, seed: number): number[][] {
  const r = rng(seed);
  const centres = Array.from({ length: 20 }, () => Array.from({ length: dims }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(r() * centres.length)]!;
    return c.map((x) => x + (r() - 0.5) * 0.6);
  });
}

function exact(
  data: number[][],
  q: number[],
  k: number,
  metric: AnnMetric,
  skip = new Set<number>(),
): number[] {
  const dist = (v: number[]): number => {
    if (metric === 'euclidean_squared') return v.reduce((s, x, i) => s + (x - q[i]!) ** 2, 0);
    let dot = 0;
    let a = 0;
    let b = 0;
    v.forEach((x, i) => {
      dot += x * q[i]!;
      a += x * x;
      b += q[i]! * q[i]!;
    });
    return 1 - dot / Math.sqrt(a * b);
  };
  return data
    .map((v, id) => ({ id, d: dist(v) }))
    .filter((x) => !skip.has(x.id))
    .sort((x, y) => x.d - y.d)
    .slice(0, k)
    .map((x) => x.id);
}

describe('HnswIndex', () => {
  it.each<AnnMetric>(['cosine_distance', 'euclidean_squared'])('recall@10 ≥ 0.95 with %s', (metric) => {
    const data = clustered(2000, 24, 7);
    const index = new HnswIndex(24, metric);
    data.forEach((v, id) => index.add(id, v));
    const queries = clustered(40, 24, 99);
    let hits = 0;
    let visited = 0;
    for (const q of queries) {
      const truth = new Set(exact(data, q, 10, metric));
      const got = index.search(q, 10, 128);
      expect(got).toHaveLength(10);
      hits += got.filter((h) => truth.has(h.id as number)).length;
      visited += index.lastVisited;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    // An index, not a scan in disguise.
    expect(visited / queries.length).toBeLessThan(data.length / 2);
  });

  it('never returns deleted or replaced vectors, and finds the replacement', () => {
    const data = clustered(1000, 8, 3);
    const index = new HnswIndex(8, 'euclidean_squared');
    data.forEach((v, id) => index.add(id, v));
    const q = data[5]!;
    expect(index.search(q, 1, 32)[0]).toEqual({ id: 5, d: 0 });
    index.remove(5);
    expect(index.search(q, 10, 32).map((h) => h.id)).not.toContain(5);
    index.add(6, q); // id 6 moves onto id 5's old point
    expect(index.search(q, 1, 32)[0]).toEqual({ id: 6, d: 0 });
    expect(index.size).toBe(999);
    const skip = new Set([5]);
    const truth = exact(
      data.map((v, i) => (i === 6 ? q : v)),
      q,
      10,
      'euclidean_squared',
      skip,
    );
    expect(index.search(q, 10, 64).map((h) => h.id)).toEqual(truth);
  });

  it('ignores vectors of the wrong length and answers nothing when empty', () => {
    const index = new HnswIndex(3, 'cosine_distance');
    expect(index.search([1, 0, 0], 5, 10)).toEqual([]);
    index.add(1, [1, 0]);
    expect(index.size).toBe(0);
  });
});
