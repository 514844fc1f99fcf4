// An ordered set of document ids: a list of sorted chunks of at most CHUNK ids each (the
// layout of Python's sortedcontainers). Insert and delete cost O(log n + CHUNK); the common
// case of appending ids in ascending order is O(1) amortized. Iteration can start at any id by
// binary search, so `id > afterId` pages cost work proportional to the page, not the set.
import { compareIds, type Id } from './ids.js';

const CHUNK = 512;

export class SortedIds {
  private chunks: Id[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `id`; returns false if it was already present. */
  add(id: Id): boolean {
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push([id]);
      this.count = 1;
      return true;
    }
    const last = chunks[chunks.length - 1]!;
    if (compareIds(id, last[last.length - 1]!) > 0) {
      if (last.length >= CHUNK) chunks.push([id]);
      else last.push(id);
      this.count++;
      return true;
    }
    const ci = this.chunkFor(id);
    const chunk = chunks[ci]!;
    const pos = bound(chunk, id, false);
    if (pos < chunk.length && compareIds(chunk[pos]!, id) === 0) return false;
    chunk.splice(pos, 0, id);
    this.count++;
    if (chunk.length > CHUNK * 2) chunks.splice(ci, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
    return true;
  }

  /** Removes `id`; returns false if it was absent. */
  delete(id: Id): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(id);
    const chunk = this.chunks[ci]!;
    const pos = bound(chunk, id, false);
    if (pos >= chunk.length || compareIds(chunk[pos]!, id) !== 0) return false;
    chunk.splice(pos, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /**
   * Ids in ascending order, starting after (or at, when `inclusive`) `from`; all when
   * `from` is undefined.
   */
  *ascending(from?: Id, inclusive = false): Generator<Id> {
    const chunks = this.chunks;
    let ci = 0;
    let pos = 0;
    if (from !== undefined && chunks.length > 0) {
      ci = this.chunkFor(from);
      const chunk = chunks[ci]!;
      pos = bound(chunk, from, !inclusive);
    }
    for (; ci < chunks.length; ci++, pos = 0) {
      const chunk = chunks[ci]!;
      for (; pos < chunk.length; pos++) yield chunk[pos]!;
    }
  }

  /** Ids in descending order, starting before (or at, when `inclusive`) `from`. */
  *descending(from?: Id, inclusive = false): Generator<Id> {
    const chunks = this.chunks;
    let ci = chunks.length - 1;
    let pos = ci >= 0 ? chunks[ci]!.length - 1 : -1;
    if (from !== undefined && chunks.length > 0) {
      ci = this.chunkFor(from);
      const chunk = chunks[ci]!;
      pos = bound(chunk, from, inclusive) - 1;
    }
    for (; ci >= 0; ci--, pos = ci >= 0 ? chunks[ci]!.length - 1 : -1) {
      const chunk = chunks[ci]!;
      for (; pos >= 0; pos--) yield chunk[pos]!;
    }
  }

  /** Index of the chunk that holds `id` or would hold it (the first whose last id >= id). */
  private chunkFor(id: Id): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid]!;
      if (compareIds(c[c.length - 1]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first index of `a` at or past `id`: its lower bound, or with `upper` its upper bound. */
function bound(a: Id[], id: Id, upper: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareIds(a[mid]!, id);
    if (c < 0 || (upper && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
