// An HNSW index (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
// using Hierarchical Navigable Small World graphs", 2016/2018): layered proximity graphs,
// greedy descent through the sparse upper layers, a best-first beam (`ef`) on the bottom one.
// Neighbours are chosen with the paper's heuristic (algorithm 4, keeping pruned connections),
// which is what keeps recall high on clustered data. Written here because no maintained pure-JS
// or WASM HNSW installs for Node 20 from npm (hnswlib-node compiles a native addon; the WASM
// builds target browsers); see docs/adr/0046-ann-index.md.
//
// Vectors are kept as float32 (cosine: normalised, so distance is 1 − dot). Replacing or
// deleting a document marks its node deleted: it still routes searches but is never returned;
// the namespace rebuilds the index once most nodes are deleted.
import type { Id } from './ids.js';

export type AnnMetric = 'cosine_distance' | 'euclidean_squared';

export interface HnswOptions {
  /** Links per node on upper layers (twice this on the bottom layer). */
  m?: number;
  efConstruction?: number;
  /** Seed for level assignment, so a rebuilt index is the same graph. */
  seed?: number;
}

export interface AnnHit {
  id: Id;
  d: number;
}

export class HnswIndex {
  private readonly m: number;
  private readonly m0: number;
  private readonly efConstruction: number;
  private readonly levelMult: number;
  private rand: number;

  private vecs: Float32Array;
  private ids: Id[] = [];
  private links: number[][][] = [];
  private deleted: Uint8Array;
  private readonly slotOf = new Map<Id, number>();
  private count = 0;
  private deletedCount = 0;
  private entry = -1;
  private maxLevel = -1;

  private marks: Uint32Array;
  private epoch = 0;
  /** Distance evaluations of the last search (reported as the query's work). */
  lastVisited = 0;

  constructor(
    readonly dims: number,
    readonly metric: AnnMetric,
    opts: HnswOptions = {},
  ) {
    this.m = opts.m ?? 16;
    this.m0 = this.m * 2;
    this.efConstruction = opts.efConstruction ?? 200;
    this.levelMult = 1 / Math.log(this.m);
    this.rand = opts.seed ?? 0x9e3779b9;
    this.vecs = new Float32Array(dims * 1024);
    this.deleted = new Uint8Array(1024);
    this.marks = new Uint32Array(1024);
  }

  /** Live (not deleted) vectors. */
  get size(): number {
    return this.count - this.deletedCount;
  }

  /** Share of nodes that are deleted; the owner rebuilds past a threshold. */
  get deletedRatio(): number {
    return this.count === 0 ? 0 : this.deletedCount / this.count;
  }

  has(id: Id): boolean {
    return this.slotOf.has(id);
  }

  /** Adds (or replaces) the vector of `id`. */
  add(id: Id, vector: ArrayLike<number>): void {
    if (vector.length !== this.dims) return;
    this.remove(id);
    const slot = this.count++;
    this.grow(slot + 1);
    const base = slot * this.dims;
    let norm = 0;
    for (let i = 0; i < this.dims; i++) {
      const x = vector[i]!;
      this.vecs[base + i] = x;
      norm += x * x;
    }
    if (this.metric === 'cosine_distance' && norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < this.dims; i++) this.vecs[base + i]! *= inv;
    }
    this.ids[slot] = id;
    this.slotOf.set(id, slot);
    const level = this.randomLevel();
    this.links[slot] = Array.from({ length: level + 1 }, () => []);

    if (this.entry < 0) {
      this.entry = slot;
      this.maxLevel = level;
      return;
    }
    const q = this.vecs.subarray(base, base + this.dims);
    let ep = this.entry;
    for (let l = this.maxLevel; l > level; l--) ep = this.greedy(q, ep, l);
    let eps = [ep];
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const found = this.searchLayer(q, eps, this.efConstruction, l);
      const max = l === 0 ? this.m0 : this.m;
      const chosen = this.selectNeighbours(found, this.m);
      this.links[slot]![l] = chosen.map((c) => c.slot);
      for (const c of chosen) {
        const theirs = this.links[c.slot]![l]!;
        theirs.push(slot);
        if (theirs.length > max) this.shrink(c.slot, l, max);
      }
      eps = found.map((c) => c.slot);
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = slot;
    }
  }

  /** Marks `id` deleted; returns false when it was not indexed. */
  remove(id: Id): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.deleted[slot] = 1;
    this.deletedCount++;
    return true;
  }

  /**
   * The `k` nearest live vectors to `query`, nearest first, searching with a beam of
   * max(ef, k). Distances are the index's (float32).
   */
  search(query: ArrayLike<number>, k: number, ef: number): AnnHit[] {
    this.lastVisited = 0;
    if (this.entry < 0 || k <= 0 || query.length !== this.dims) return [];
    const q = Float32Array.from(query);
    if (this.metric === 'cosine_distance') {
      let norm = 0;
      for (let i = 0; i < q.length; i++) norm += q[i]! * q[i]!;
      if (norm > 0) for (let i = 0; i < q.length; i++) q[i]! /= Math.sqrt(norm);
    }
    let ep = this.entry;
    for (let l = this.maxLevel; l > 0; l--) ep = this.greedy(q, ep, l);
    // Deleted nodes fill the beam without being answers: widen it by their share.
    const widen = 1 / Math.max(0.05, 1 - this.deletedRatio);
    const found = this.searchLayer(q, [ep], Math.ceil(Math.max(ef, k) * widen), 0);
    const out: AnnHit[] = [];
    for (const c of found) {
      if (this.deleted[c.slot]) continue;
      out.push({ id: this.ids[c.slot]!, d: c.d });
      if (out.length >= k) break;
    }
    return out;
  }

  private distanceTo(q: Float32Array, slot: number): number {
    this.lastVisited++;
    const v = this.vecs;
    const base = slot * this.dims;
    let s = 0;
    if (this.metric === 'cosine_distance') {
      for (let i = 0; i < this.dims; i++) s += q[i]! * v[base + i]!;
      return 1 - s;
    }
    for (let i = 0; i < this.dims; i++) {
      const d = q[i]! - v[base + i]!;
      s += d * d;
    }
    return s;
  }

  private vec(slot: number): Float32Array {
    return this.vecs.subarray(slot * this.dims, (slot + 1) * this.dims);
  }

  /** Greedy walk to the closest node on layer `l`. */
  private greedy(q: Float32Array, start: number, l: number): number {
    let cur = start;
    let best = this.distanceTo(q, cur);
    for (let improved = true; improved;) {
      improved = false;
      for (const n of this.links[cur]![l] ?? []) {
        const d = this.distanceTo(q, n);
        if (d < best) {
          best = d;
          cur = n;
          improved = true;
        }
      }
    }
    return cur;
  }

  /** Best-first search of layer `l` from `eps`; the `ef` closest found, nearest first. */
  private searchLayer(q: Float32Array, eps: number[], ef: number, l: number): { slot: number; d: number }[] {
    const epoch = this.nextEpoch();
    const candidates = new Heap(); // nearest first
    const results = new Heap(); // farthest first (distances negated)
    for (const ep of eps) {
      if (this.marks[ep] === epoch) continue;
      this.marks[ep] = epoch;
      const d = this.distanceTo(q, ep);
      candidates.push(ep, d);
      results.push(ep, -d);
    }
    while (results.size > ef) results.pop();
    while (candidates.size > 0) {
      const cd = candidates.peekKey();
      const c = candidates.pop();
      if (results.size >= ef && cd > -results.peekKey()) break;
      for (const n of this.links[c]![l] ?? []) {
        if (this.marks[n] === epoch) continue;
        this.marks[n] = epoch;
        const d = this.distanceTo(q, n);
        if (results.size < ef || d < -results.peekKey()) {
          candidates.push(n, d);
          results.push(n, -d);
          if (results.size > ef) results.pop();
        }
      }
    }
    const out: { slot: number; d: number }[] = [];
    while (results.size > 0) {
      const d = -results.peekKey();
      out.push({ slot: results.pop(), d });
    }
    return out.reverse();
  }

  /** The paper's heuristic: prefer candidates closer to the node than to any kept neighbour. */
  private selectNeighbours(
    sorted: { slot: number; d: number }[],
    max: number,
  ): { slot: number; d: number }[] {
    const kept: { slot: number; d: number }[] = [];
    const pruned: { slot: number; d: number }[] = [];
    for (const c of sorted) {
      if (kept.length >= max) break;
      const cv = this.vec(c.slot);
      let good = true;
      for (const k of kept) {
        if (this.distanceTo(cv, k.slot) < c.d) {
          good = false;
          break;
        }
      }
      (good ? kept : pruned).push(c);
    }
    for (const p of pruned) {
      if (kept.length >= max) break;
      kept.push(p);
    }
    return kept;
  }

  private shrink(slot: number, l: number, max: number): void {
    const v = this.vec(slot);
    const cands = this.links[slot]![l]!.map((n) => ({ slot: n, d: this.distanceTo(v, n) })).sort(
      (a, b) => a.d - b.d,
    );
    this.links[slot]![l] = this.selectNeighbours(cands, max).map((c) => c.slot);
  }

  private randomLevel(): number {
    // xorshift32: deterministic, so the same inserts build the same graph.
    let x = this.rand;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rand = x >>> 0;
    const u = (this.rand + 1) / 4294967297;
    return Math.min(16, Math.floor(-Math.log(u) * this.levelMult));
  }

  private nextEpoch(): number {
    if (++this.epoch === 0xffffffff) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  private grow(n: number): void {
    if (n <= this.deleted.length) return;
    const cap = Math.max(n, this.deleted.length * 2);
    const vecs = new Float32Array(cap * this.dims);
    vecs.set(this.vecs);
    this.vecs = vecs;
    const deleted = new Uint8Array(cap);
    deleted.set(this.deleted);
    this.deleted = deleted;
    const marks = new Uint32Array(cap);
    marks.set(this.marks);
    this.marks = marks;
  }
}

/** A binary min-heap of (key, value) pairs in parallel arrays. */
class Heap {
  private keys: number[] = [];
  private vals: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys[0]!;
  }

  push(val: number, key: number): void {
    const keys = this.keys;
    const vals = this.vals;
    let i = keys.length;
    keys.push(key);
    vals.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= key) break;
      keys[i] = keys[p]!;
      vals[i] = vals[p]!;
      i = p;
    }
    keys[i] = key;
    vals[i] = val;
  }

  pop(): number {
    const keys = this.keys;
    const vals = this.vals;
    const top = vals[0]!;
    const lastKey = keys.pop()!;
    const lastVal = vals.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && keys[r]! < keys[l]! ? r : l;
        if (keys[c]! >= lastKey) break;
        keys[i] = keys[c]!;
        vals[i] = vals[c]!;
        i = c;
      }
      keys[i] = lastKey;
      vals[i] = lastVal;
    }
    return top;
  }
}
