// One namespace: rows by id (in memory, or on disk behind a compact in-memory index: see
// rows.ts), an ordered id set, the schema, and lazily built equality indexes (attribute
// value → ordered ids). Mutation happens only through `apply`,
// which a write calls after its plan has been validated and logged, so a failed request never
// leaves a half-applied change behind.
import { compareIds, type Id } from './ids.js';
import { SortedIds } from './sorted-ids.js';
import { conjuncts, type FilterNode } from './filter.js';
import type { Row } from './schema.js';
import { elementType, isVectorType, vectorDims, type Schema, type Value } from './schema.js';
import { FtsIndex } from './fts/bm25.js';
import { MemoryRows, type RowTable } from './rows.js';
import { HnswIndex, type AnnMetric } from './ann.js';

/** At most this many attributes get an equality index per namespace. */
const MAX_INDEXES = 16;

type IndexKey = string | number | boolean | null;

export interface NamespaceMeta {
  createdAt: number;
  updatedAt: number;
  lastWriteAt: number;
  distanceMetric?: string;
  pinning?: unknown;
  /** Set on the inaugural write only; reported by metadata. */
  sharding?: { num_shards: number };
}

export class NamespaceState {
  readonly ids = new SortedIds();
  schema: Schema = new Map();
  private readonly indexes = new Map<string, Map<IndexKey, SortedIds>>();
  /** Full-text indexes, built on first use per attribute (see ftsIndex). */
  private readonly ftsIndexes = new Map<string, FtsIndex>();
  /** HNSW indexes per vector attribute, built by the first ANN query over a large namespace. */
  private readonly annIndexes = new Map<string, HnswIndex>();
  private readonly annReady = new WeakSet<HnswIndex>();

  constructor(
    readonly name: string,
    public meta: NamespaceMeta,
    readonly rows: RowTable = new MemoryRows(),
  ) {
    // A segment opened from disk already holds documents: order their ids once. Numbers sort as
    // a typed array (fast for millions), strings after them, as compareIds orders them.
    if (rows.size > 0) {
      const nums = new Float64Array(rows.size);
      let n = 0;
      const strs: string[] = [];
      for (const id of rows.keys()) {
        if (typeof id === 'number') nums[n++] = id;
        else strs.push(id);
      }
      for (const id of nums.subarray(0, n).sort()) this.ids.add(id);
      for (const id of strs.sort()) this.ids.add(id);
    }
  }

  get logicalBytes(): number {
    return this.rows.logicalBytes;
  }

  /** Replaces (or removes, when `row` is null) one document, keeping indexes in step. */
  put(id: Id, row: Row | null): void {
    // The previous version is read (from disk, for a durable namespace) only when an index
    // needs it to unindex old values.
    const indexed = this.indexes.size > 0 || this.ftsIndexes.size > 0 || this.annIndexes.size > 0;
    const old = indexed ? this.rows.get(id) : undefined;
    if (row) {
      const existed = indexed ? old !== undefined : this.rows.has(id);
      this.rows.set(id, row);
      if (!existed) this.ids.add(id);
    } else if (this.rows.delete(id)) {
      this.ids.delete(id);
    }
    if (!indexed) return;
    for (const [attr, index] of this.indexes) {
      const before = old ? indexKey(old[attr]) : undefined;
      const after = row ? indexKey(row[attr]) : undefined;
      if (before === after) continue;
      if (before !== undefined) {
        const set = index.get(before);
        if (set) {
          set.delete(id);
          if (set.size === 0) index.delete(before);
        }
      }
      if (after !== undefined) {
        let set = index.get(after);
        if (!set) index.set(after, (set = new SortedIds()));
        set.add(id);
      }
    }
    if (this.ftsIndexes.size > 0) for (const fts of this.ftsIndexes.values()) fts.update(id, old, row);
    for (const [attr, ann] of this.annIndexes) {
      const before = old?.[attr];
      const after = row?.[attr];
      // A patch rewrites the row but cannot change a vector: skip re-inserting an equal one.
      if (Array.isArray(after) && Array.isArray(before) && sameVector(before, after) && ann.has(id)) continue;
      if (Array.isArray(after)) ann.add(id, after as number[]);
      else ann.remove(id);
    }
  }

  /**
   * The full-text index of `attr`, built on first use and rebuilt when its schema setting
   * changed; undefined when the attribute has no full_text_search.
   */
  ftsIndex(attr: string): FtsIndex | undefined {
    const setting = this.schema.get(attr)?.full_text_search;
    if (!setting) {
      this.ftsIndexes.delete(attr);
      return undefined;
    }
    const key = JSON.stringify(setting);
    let index = this.ftsIndexes.get(attr);
    if (!index || index.key !== key) {
      index = new FtsIndex(attr, key, setting);
      for (const [id, row] of this.rows) index.update(id, undefined, row);
      this.ftsIndexes.set(attr, index);
    }
    return index;
  }

  /**
   * The HNSW index of vector attribute `attr` for `metric` once it is built; undefined while it
   * is being built (queries stay exact meanwhile). The first call starts the build, which runs
   * in slices between requests so that a large namespace keeps answering; a changed metric or
   * dimension count, or an index over half deleted, starts a rebuild.
   */
  annIndex(attr: string, metric: AnnMetric): HnswIndex | undefined {
    const entry = this.schema.get(attr);
    const dims = entry ? vectorDims(entry.type) : undefined;
    if (dims === undefined) return undefined;
    const index = this.annIndexes.get(attr);
    if (index && index.metric === metric && index.dims === dims && index.deletedRatio <= 0.5) {
      return this.annReady.has(index) ? index : undefined;
    }
    this.buildAnn(attr, new HnswIndex(dims, metric));
    return undefined;
  }

  /** Logical bytes of rows an ANN index still has to take in (0 when every index is built). */
  unindexedBytes(): number {
    for (const index of this.annIndexes.values()) {
      if (!this.annReady.has(index)) {
        const share = Math.max(0, 1 - index.size / Math.max(1, this.rows.size));
        return Math.round(this.logicalBytes * share);
      }
    }
    return 0;
  }

  private buildAnn(attr: string, index: HnswIndex): void {
    // Registered before it is complete, so writes during the build reach it through put().
    this.annIndexes.set(attr, index);
    const ids = [...this.ids.ascending()];
    let next = 0;
    const slice = (): void => {
      if (this.annIndexes.get(attr) !== index) return; // superseded by a rebuild
      const until = performance.now() + 25;
      while (next < ids.length && performance.now() < until) {
        const id = ids[next++]!;
        if (index.has(id)) continue; // already (re)written through put() during the build
        const v = this.rows.get(id)?.[attr];
        if (Array.isArray(v)) index.add(id, v as number[]);
      }
      if (next < ids.length) setImmediate(slice);
      else this.annReady.add(index);
    };
    // Not even the first slice runs inside the query that asked: it answers exactly, at once.
    setImmediate(slice);
  }

  /** Ordered ids holding `value` in `attr`, building the index on first use; undefined if not indexable. */
  idsWithValue(attr: string, value: unknown): SortedIds | undefined {
    let index = this.indexes.get(attr);
    if (!index) {
      const entry = this.schema.get(attr);
      if (!entry || elementType(entry.type) !== undefined || isVectorType(entry.type)) return undefined;
      if (this.indexes.size >= MAX_INDEXES) return undefined;
      index = new Map();
      for (const id of this.ids.ascending()) {
        const key = indexKey(this.rows.get(id)![attr]);
        if (key === undefined) continue;
        let set = index.get(key);
        if (!set) index.set(key, (set = new SortedIds()));
        set.add(id);
      }
      this.indexes.set(attr, index);
    }
    return index.get(value as IndexKey) ?? EMPTY;
  }

  /**
   * Candidate ids for `filter` in id order, narrowed by what the filter pins down: an id range
   * from top-level `id` comparisons, an explicit id list from `id Eq/In`, or the ordered ids of
   * the most selective top-level `attr Eq value`. Every candidate must still be tested against
   * the full filter; callers stop pulling once they have enough matches.
   */
  candidates(filter: FilterNode | undefined, descending: boolean): { ids: Iterable<Id>; plan: string } {
    let lower: { id: Id; inclusive: boolean } | undefined;
    let upper: { id: Id; inclusive: boolean } | undefined;
    let idList: Id[] | undefined;
    let best: { attr: string; set: SortedIds } | undefined;
    for (const c of conjuncts(filter)) {
      if (c.kind !== 'cond' || c.isRef) continue;
      if (c.attr === 'id') {
        const v = c.operand as Id;
        if (c.op === 'Gt' || c.op === 'Gte') {
          if (v !== null && (!lower || compareIds(v, lower.id) > 0))
            lower = { id: v, inclusive: c.op === 'Gte' };
        } else if (c.op === 'Lt' || c.op === 'Lte') {
          if (v !== null && (!upper || compareIds(v, upper.id) < 0))
            upper = { id: v, inclusive: c.op === 'Lte' };
        } else if (c.op === 'Eq' && v !== null && !Array.isArray(v)) idList = [v];
        else if (c.op === 'In') idList = (c.operand as Id[]).slice();
      } else if (c.op === 'Eq' && !Array.isArray(c.operand)) {
        const set = this.idsWithValue(c.attr, c.operand);
        if (set && (!best || set.size < best.set.size)) best = { attr: c.attr, set };
      }
    }
    const inRange = (id: Id): boolean => {
      if (lower && compareIds(id, lower.id) < (lower.inclusive ? 0 : 1)) return false;
      if (upper && compareIds(id, upper.id) > (upper.inclusive ? 0 : -1)) return false;
      return true;
    };
    const range = `${lower ? `id ${lower.inclusive ? '>=' : '>'} ${String(lower.id)}` : ''}${lower && upper ? ' and ' : ''}${upper ? `id ${upper.inclusive ? '<=' : '<'} ${String(upper.id)}` : ''}`;
    if (idList) {
      const sorted = [...new Set(idList)].filter((id) => this.rows.has(id) && inRange(id)).sort(compareIds);
      if (descending) sorted.reverse();
      return { ids: sorted, plan: `lookup ${sorted.length} ids` };
    }
    const source = best?.set ?? this.ids;
    const plan = `${best ? `index scan on ${best.attr} (${best.set.size} ids)` : `id scan (${this.ids.size} ids)`}${range ? ` from ${range}` : ''}`;
    return { ids: bounded(source, lower, upper, descending), plan };
  }
}

function* bounded(
  set: SortedIds,
  lower: { id: Id; inclusive: boolean } | undefined,
  upper: { id: Id; inclusive: boolean } | undefined,
  descending: boolean,
): Generator<Id> {
  if (!descending) {
    for (const id of set.ascending(lower?.id, lower?.inclusive)) {
      if (upper && compareIds(id, upper.id) > (upper.inclusive ? 0 : -1)) return;
      yield id;
    }
  } else {
    for (const id of set.descending(upper?.id, upper?.inclusive)) {
      if (lower && compareIds(id, lower.id) < (lower.inclusive ? 0 : 1)) return;
      yield id;
    }
  }
}

const EMPTY = new SortedIds();

function sameVector(a: unknown[], b: unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function indexKey(v: Value | undefined): IndexKey | undefined {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return undefined;
  return v;
}
