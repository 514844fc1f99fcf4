// The record of rows a Function wrote that the store may not show yet (docs/adr/0110): spans
// merge where batches chain, stay within their bound, and leave only after an index check that
// started after them found the namespace indexed.
import { describe, expect, it } from 'vitest';
import type { RowId, WrittenSpan } from '../../../packages/worker/src/contracts/function.js';
import type { UnindexedWrites } from '../../../src/contracts/function.js';
import { outsideSpans, spanFilter } from '../../../packages/worker/src/claim-execution/function-filters.js';
import {
  MAX_WRITTEN_SPANS,
  MAX_WRITTEN_SPANS_PER_NAMESPACE,
  compareRowIds,
  dropIndexed,
  recordWritten,
  spanCoversAfter,
  spanHolds,
  spanOfBatch,
  spansToSkip,
  startIndexCheck,
  writesRecordFor,
  writesRecordSize,
} from '../../../src/envelope/unindexed-writes.js';

const output = { attribute: 'tags', version: 'v1' };
const fresh = (): UnindexedWrites => writesRecordFor(undefined, output, ['a', 'b']);
const range = (after: RowId | null, last: RowId): WrittenSpan => ({ after, last });
const ids = (from: RowId, last: RowId): WrittenSpan => ({ from, last });

function recorded(spans: WrittenSpan[], ns = 'a'): WrittenSpan[] {
  const record = fresh();
  for (const span of spans) recordWritten(record, ns, span);
  return spansToSkip(record, ns);
}

describe('recordWritten', () => {
  it.each([
    // Consecutive range batches share their bound: one span, whatever order they finish in.
    ['a chain finished in order', [range(null, 8), range(8, 16), range(16, 24)], [range(null, 24)]],
    ['a chain finished out of order', [range(16, 24), range(null, 8), range(8, 16)], [range(null, 24)]],
    // A batch still out leaves a gap: two spans until it finishes.
    ['a gap where a batch is still out', [range(null, 8), range(16, 24)], [range(null, 8), range(16, 24)]],
    // An id list inside a range (a dead letter of a row the range wrote around) adds nothing.
    ['an id inside a range', [range(10, 20), ids(15, 15)], [range(10, 20)]],
    ['an id at a range end', [range(10, 20), ids(20, 20)], [range(10, 20)]],
    // A range starting inside an id span joins it: its lower bound is at or before the span's end.
    ['a range from inside an id span', [ids(5, 12), range(10, 20)], [ids(5, 20)]],
    // Neighbouring ids with nothing known between them stay apart (a row could lie between).
    ['two single ids', [ids(3, 3), ids(4, 4)], [ids(3, 3), ids(4, 4)]],
    // (x, …] starts after [x, …]: ordered by lower bound, the id span first.
    ['same lower bound, inclusive first', [range(5, 9), ids(5, 5)], [ids(5, 9)]],
    ['string ids', [range('b', 'd'), range('d', 'f')], [range('b', 'f')]],
  ])('%s', (_what, spans, expected) => {
    expect(recorded(spans)).toEqual(expected);
  });

  it('keeps each namespace apart', () => {
    const record = fresh();
    recordWritten(record, 'a', range(null, 8));
    recordWritten(record, 'b', range(8, 16));
    expect(spansToSkip(record, 'a')).toEqual([range(null, 8)]);
    expect(spansToSkip(record, 'b')).toEqual([range(8, 16)]);
  });

  it('merges the closest spans past the bound of a namespace, so every recorded id stays covered', () => {
    const record = fresh();
    // Single ids 0, 10, 20, … with one close pair (500 and 501).
    const written = [...Array.from({ length: MAX_WRITTEN_SPANS_PER_NAMESPACE }, (_, i) => i * 10), 501];
    for (const id of written) recordWritten(record, 'a', ids(id, id));
    const spans = spansToSkip(record, 'a');
    expect(spans).toHaveLength(MAX_WRITTEN_SPANS_PER_NAMESPACE);
    expect(spans).toContainEqual(ids(500, 501));
    for (const id of written) expect(spans.some((s) => spanHolds(s, id))).toBe(true);
  });

  it('bounds the spans of all namespaces together', () => {
    const namespaces = Array.from({ length: 8 }, (_, i) => `ns${i}`);
    const record = writesRecordFor(undefined, output, namespaces);
    for (const ns of namespaces)
      for (let i = 0; i < MAX_WRITTEN_SPANS_PER_NAMESPACE; i++)
        recordWritten(record, ns, ids(i * 10, i * 10));
    expect(writesRecordSize(record).spans).toBe(MAX_WRITTEN_SPANS);
    // Every id still covered.
    for (const ns of namespaces)
      for (let i = 0; i < MAX_WRITTEN_SPANS_PER_NAMESPACE; i++)
        expect(spansToSkip(record, ns).some((s) => spanHolds(s, i * 10))).toBe(true);
  });
});

describe('index checks', () => {
  it('drop only the spans recorded before the check started', () => {
    const record = fresh();
    recordWritten(record, 'a', range(null, 8));
    const covered = startIndexCheck(record);
    // Written while the check runs: the check may have read the store before this write.
    recordWritten(record, 'a', range(100, 108));
    recordWritten(record, 'b', range(null, 4));
    dropIndexed(record, 'a', covered);
    expect(spansToSkip(record, 'a')).toEqual([range(100, 108)]);
    expect(spansToSkip(record, 'b')).toEqual([range(null, 4)]);
  });

  it('a span merged with a later one stays until a check covers the later one', () => {
    const record = fresh();
    recordWritten(record, 'a', range(null, 8));
    const covered = startIndexCheck(record);
    recordWritten(record, 'a', range(8, 16));
    dropIndexed(record, 'a', covered);
    expect(spansToSkip(record, 'a')).toEqual([range(null, 16)]);
    dropIndexed(record, 'a', startIndexCheck(record));
    expect(spansToSkip(record, 'a')).toEqual([]);
    expect(writesRecordSize(record)).toEqual({ spans: 0, bytes: 0 });
  });
});

describe('writesRecordFor', () => {
  it('keeps the record of the same output, drops namespaces no longer targeted, starts afresh for another output', () => {
    const record = fresh();
    recordWritten(record, 'a', range(null, 8));
    recordWritten(record, 'b', range(null, 8));
    expect(writesRecordFor(record, output, ['a'])).toBe(record);
    expect(Object.keys(record.spans)).toEqual(['a']);
    expect(writesRecordFor(record, { attribute: 'tags', version: 'v2' }, ['a']).spans).toEqual({});
  });
});

describe('spans and ids', () => {
  it.each([
    [range(null, 10), 0, true],
    [range(null, 10), 11, false],
    [range(5, 10), 5, false],
    [range(5, 10), 6, true],
    [ids(5, 10), 5, true],
    [ids(5, 10), 10, true],
    [ids(5, 10), 4, false],
  ])('%j holds %j: %s', (span, id, holds) => {
    expect(spanHolds(span, id)).toBe(holds);
  });

  it.each([
    // A scan at the cursor reads rows after it: inside the span, it jumps to the span's end.
    [range(null, 10), null, true],
    [range(null, 10), 3, true],
    [range(null, 10), 10, false],
    [range(5, 10), 4, false],
    [range(5, 10), 5, true],
    [ids(5, 10), null, false],
    // Rows between 4 and 5 are not in the span (string ids, or rows never written): scanned first.
    [ids(5, 10), 4, false],
    [ids(5, 10), 5, true],
  ])('%j covers the rows after cursor %j: %s', (span, cursor, covers) => {
    expect(spanCoversAfter(span, cursor)).toBe(covers);
  });

  it('orders ids as the store does: integers numerically, then strings', () => {
    expect([10, 'a', 9, 'B', 100].sort(compareRowIds)).toEqual([9, 10, 100, 'B', 'a']);
  });

  it('a finished batch covers its range, or the span of its ids', () => {
    expect(spanOfBatch({ namespace: 'a', afterId: 3, lastId: 9 })).toEqual(range(3, 9));
    expect(spanOfBatch({ namespace: 'a', ids: [7, 2, 5] })).toEqual(ids(2, 7));
    expect(spanOfBatch({ namespace: 'a', ids: [] })).toBeUndefined();
  });

  it('filters leave the spans out', () => {
    expect(spanFilter(range(null, 9))).toEqual(['id', 'Lte', 9]);
    expect(spanFilter(range(3, 9))).toEqual([
      'And',
      [
        ['id', 'Gt', 3],
        ['id', 'Lte', 9],
      ],
    ]);
    expect(spanFilter(ids(3, 9))).toEqual([
      'And',
      [
        ['id', 'Gte', 3],
        ['id', 'Lte', 9],
      ],
    ]);
    const work = ['tags_v', 'Eq', null];
    expect(outsideSpans(work, [])).toBe(work);
    expect(outsideSpans(work, [range(null, 9)])).toEqual([
      'And',
      [work, ['Not', ['Or', [['id', 'Lte', 9]]]]],
    ]);
  });
});
