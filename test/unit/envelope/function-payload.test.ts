// The one module that knows a Function payload's shape (src/envelope/function-payload.ts).
import { describe, expect, it } from 'vitest';
import type { RowId } from '../../../packages/worker/src/contracts/function.js';
import {
  batchesOfIds,
  claimBatches,
  deadLetterIds,
  functionPayloadOps,
  heldRowKeys,
  idKey,
  namespacesOf,
} from '../../../src/envelope/function-payload.js';

describe('function payloads', () => {
  it.each<[string, RowId[], RowId[][]]>([
    ['an odd batch: the first half is the larger', [1, 2, 3], [[1, 2], [3]]],
    ['an even batch splits evenly', ['a', 'b'], [['a'], ['b']]],
  ])('split: %s', (_why, ids, halves) => {
    const [a, b] = functionPayloadOps.split({ namespace: 'p', ids });
    expect([a, b]).toEqual(halves.map((h) => ({ namespace: 'p', ids: h })));
  });

  it('cuts ids into batches of batchSize, named in order', () => {
    let n = 0;
    const batches = batchesOfIds('p', [1, 2, 3, 4, 5], 2, () => `b${(n += 1)}`);
    expect(batches.map((b) => [b.batchId, b.rows, 'ids' in b.payload ? b.payload.ids : null])).toEqual([
      ['b1', 2, [1, 2]],
      ['b2', 2, [3, 4]],
      ['b3', 1, [5]],
    ]);
  });

  it('gives the claim activity batch id, namespace and ids', () => {
    expect(claimBatches([{ batchId: 'b1', payload: { namespace: 'p', ids: [1] } }])).toEqual([
      { batchId: 'b1', namespace: 'p', ids: [1] },
    ]);
  });

  it('names each namespace of a claim once, in order', () => {
    const ns = (namespace: string) => ({ payload: { namespace, ids: [] } });
    expect(namespacesOf([ns('b'), ns('a'), ns('b')])).toEqual(['b', 'a']);
  });

  it.each<[string, RowId[] | undefined, RowId[]]>([
    ['a row-scoped failure marks exactly its rows', [2], [2]],
    ['a whole batch that failed for good marks all of it', undefined, [1, 2]],
  ])('deadLetterIds: %s', (_why, rowIds, marked) => {
    expect(deadLetterIds({ namespace: 'p', ids: [1, 2] }, rowIds)).toEqual(marked);
  });

  it('tells held rows apart by namespace and id type (1 and "1" are different rows)', () => {
    const held = heldRowKeys([{ namespace: 'p', ids: [1] }]);
    expect([held.has(idKey('p', 1)), held.has(idKey('p', '1')), held.has(idKey('q', 1))]).toEqual([
      true,
      false,
      false,
    ]);
  });
});
