// The record of rows a Function wrote that the store may not show yet (docs/adr/0110). The
// service makes writes durable at once but visible to queries only once indexed, past a budget of
// outstanding writes; discovery would find those rows again and compute them twice. The workflow
// therefore keeps, per store namespace, the id spans its finished batches and dead letters
// covered, leaves them out of every scan and pending count, and drops them once an index check
// that started after they were recorded finds the namespace indexed.
//
// Spans are ordered, non-overlapping, and merged where they touch: consecutive range batches
// share a bound (batch i+1 starts where batch i ended), so a pass's finished work folds into a few
// spans. The record is bounded (MAX_WRITTEN_SPANS_PER_NAMESPACE, MAX_WRITTEN_SPANS): past the bound
// the two closest spans merge, which may hide a few unwritten rows between them until the index
// catches up — a delay, never a row computed twice. Plain JSON, carried across continue-as-new.
// Pure and sandbox-safe.
import {
  type FunctionOutputSpec,
  type RowId,
  type WrittenSpan,
} from '../../packages/worker/src/contracts/function.js';
import { isRangePayload, type FunctionBatchPayload, type UnindexedWrites } from '../contracts/function.js';

/** Spans per namespace before the closest two merge. */
export const MAX_WRITTEN_SPANS_PER_NAMESPACE = 64;
/** Spans over all namespaces before the closest two of the fullest namespace merge. */
export const MAX_WRITTEN_SPANS = 256;

type Span = UnindexedWrites['spans'][string][number];

/**
 * The store's id order (src/store/storage/ids.ts): integers numerically, then strings by UTF-16
 * code unit — byte order for the ASCII ids (and canonical UUIDs) used in practice.
 */
export function compareRowIds(a: RowId, b: RowId): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a === 'number' ? -1 : 1;
}

/** The output a record belongs to: a new attribute or version starts afresh. */
export function outputKey(output: Pick<FunctionOutputSpec, 'attribute' | 'version'>): string {
  return `${output.attribute}@${output.version}`;
}

/** The ids a finished batch covered: its range, or the span of its id list. */
export function spanOfBatch(payload: FunctionBatchPayload): WrittenSpan | undefined {
  if (isRangePayload(payload)) return { after: payload.afterId, last: payload.lastId };
  return spanOfIds(payload.ids);
}

/** [min, max] of a list of ids (undefined when empty). */
function spanOfIds(ids: readonly RowId[]): WrittenSpan | undefined {
  if (ids.length === 0) return undefined;
  let min = ids[0]!;
  let max = ids[0]!;
  for (const id of ids) {
    if (compareRowIds(id, min) < 0) min = id;
    if (compareRowIds(id, max) > 0) max = id;
  }
  return { from: min, last: max };
}

/** Whether `span` holds `id`. */
export function spanHolds(span: WrittenSpan, id: RowId): boolean {
  if (compareRowIds(id, span.last) > 0) return false;
  if (span.from !== undefined) return compareRowIds(id, span.from) >= 0;
  return span.after === null || span.after === undefined || compareRowIds(id, span.after) > 0;
}

/**
 * Whether every row right after `cursor` (null: the first row) up to `span.last` is in the span:
 * a scan at `cursor` jumps to `span.last`.
 */
export function spanCoversAfter(span: WrittenSpan, cursor: RowId | null): boolean {
  if (cursor !== null && compareRowIds(cursor, span.last) >= 0) return false;
  if (span.from !== undefined) return cursor !== null && compareRowIds(cursor, span.from) >= 0;
  if (span.after === null || span.after === undefined) return true;
  return cursor !== null && compareRowIds(cursor, span.after) >= 0;
}

/** Orders spans by their lower bound: (null, …] first, then [x, …] before (x, …]. */
function compareLower(s: WrittenSpan, t: WrittenSpan): number {
  const lower = (x: WrittenSpan): [RowId | null, number] =>
    x.from !== undefined ? [x.from, 0] : [x.after ?? null, 1];
  const [a, ax] = lower(s);
  const [b, bx] = lower(t);
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  return compareRowIds(a, b) || ax - bx;
}

/** Whether `t` (starting at or after `s`) touches `s`: their union is one span. */
function touches(s: WrittenSpan, t: WrittenSpan): boolean {
  if (t.from !== undefined) return compareRowIds(t.from, s.last) <= 0;
  return t.after === null || t.after === undefined || compareRowIds(t.after, s.last) <= 0;
}

function merged(s: Span, t: Span): Span {
  const lower = s.from !== undefined ? { from: s.from } : { after: s.after ?? null };
  return {
    ...lower,
    last: compareRowIds(t.last, s.last) > 0 ? t.last : s.last,
    epoch: Math.max(s.epoch, t.epoch),
  };
}

/** Sorted and merged where they touch. */
function normalised(spans: Span[]): Span[] {
  const sorted = [...spans].sort(compareLower);
  const out: Span[] = [];
  for (const t of sorted) {
    const s = out[out.length - 1];
    if (s && touches(s, t)) out[out.length - 1] = merged(s, t);
    else out.push(t);
  }
  return out;
}

/** Merges the two closest neighbours (integer ids: the smallest gap; else the first pair). */
function mergeClosest(spans: Span[]): Span[] {
  let at = 0;
  let best = Infinity;
  for (let i = 0; i + 1 < spans.length; i++) {
    const s = spans[i]!;
    const t = spans[i + 1]!;
    const lower = t.from ?? t.after;
    const gap = typeof lower === 'number' && typeof s.last === 'number' ? lower - s.last : Infinity;
    if (gap < best) {
      best = gap;
      at = i;
    }
  }
  return [...spans.slice(0, at), merged(spans[at]!, spans[at + 1]!), ...spans.slice(at + 2)];
}

/**
 * The record for `output` over `namespaces`: the carried one when it is for the same output
 * (spans of namespaces no longer targeted dropped), else a fresh one.
 */
export function writesRecordFor(
  carried: UnindexedWrites | undefined,
  output: Pick<FunctionOutputSpec, 'attribute' | 'version'>,
  namespaces: readonly string[],
): UnindexedWrites {
  const key = outputKey(output);
  if (!carried || carried.output !== key) return { output: key, epoch: carried?.epoch ?? 0, spans: {} };
  for (const ns of Object.keys(carried.spans)) if (!namespaces.includes(ns)) delete carried.spans[ns];
  return carried;
}

/** Records a span written in `namespace` now; keeps the record within its bounds. */
export function recordWritten(record: UnindexedWrites, namespace: string, span: WrittenSpan): void {
  let spans = normalised([...(record.spans[namespace] ?? []), { ...span, epoch: record.epoch }]);
  while (spans.length > MAX_WRITTEN_SPANS_PER_NAMESPACE) spans = mergeClosest(spans);
  record.spans[namespace] = spans;
  for (;;) {
    const counts = Object.entries(record.spans).map(([ns, s]) => [ns, s.length] as const);
    if (counts.reduce((n, [, c]) => n + c, 0) <= MAX_WRITTEN_SPANS) break;
    const [fullest] = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
    record.spans[fullest] = mergeClosest(record.spans[fullest]!);
  }
}

/**
 * An index check starts: returns the epoch it covers (every span recorded so far) and moves the
 * record on, so spans recorded while the check runs are not covered by it.
 */
export function startIndexCheck(record: UnindexedWrites): number {
  const covered = record.epoch;
  record.epoch += 1;
  return covered;
}

/** The check that started at `covered` found `namespace` indexed: its spans up to then are visible. */
export function dropIndexed(record: UnindexedWrites, namespace: string, covered: number): void {
  const kept = (record.spans[namespace] ?? []).filter((s) => s.epoch > covered);
  if (kept.length > 0) record.spans[namespace] = kept;
  else delete record.spans[namespace];
}

/** The spans of `namespace` to leave out of a scan or count (without their epochs). */
export function spansToSkip(record: UnindexedWrites | undefined, namespace: string): WrittenSpan[] {
  return (record?.spans[namespace] ?? []).map(({ epoch: _, ...span }) => span);
}

/** Spans held and the record's size in bytes as carried (JSON). */
export function writesRecordSize(record: UnindexedWrites | undefined): { spans: number; bytes: number } {
  if (!record) return { spans: 0, bytes: 0 };
  const spans = Object.values(record.spans).reduce((n, s) => n + s.length, 0);
  return { spans, bytes: spans === 0 ? 0 : JSON.stringify(record).length };
}
