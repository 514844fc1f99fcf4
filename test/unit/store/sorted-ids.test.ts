// The ordered id set against a plain sorted array as the model, under random inserts/deletes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedIds } from '../../../src/store/storage/sorted-ids.js';
import { compareIds, type Id } from '../../../src/store/storage/ids.js';

const idArb = fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.string({ maxLength: 4 }));

describe('SortedIds', () => {
  it('matches a sorted-array model for add, delete and iteration from any point', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), idArb), { maxLength: 3000 }), idArb, (ops, from) => {
        const set = new SortedIds();
        const model = new Set<Id>();
        for (const [add, id] of ops) {
          if (add) expect(set.add(id)).toBe(!model.has(id));
          else expect(set.delete(id)).toBe(model.has(id));
          if (add) model.add(id);
          else model.delete(id);
        }
        const sorted = [...model].sort(compareIds);
        expect(set.size).toBe(sorted.length);
        expect([...set.ascending()]).toEqual(sorted);
        expect([...set.descending()]).toEqual([...sorted].reverse());
        expect([...set.ascending(from)]).toEqual(sorted.filter((x) => compareIds(x, from) > 0));
        expect([...set.ascending(from, true)]).toEqual(sorted.filter((x) => compareIds(x, from) >= 0));
        expect([...set.descending(from)]).toEqual(sorted.filter((x) => compareIds(x, from) < 0).reverse());
        expect([...set.descending(from, true)]).toEqual(
          sorted.filter((x) => compareIds(x, from) <= 0).reverse(),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('orders numbers before strings', () => {
    const set = new SortedIds();
    for (const id of ['b', 10, 'a', 2]) set.add(id);
    expect([...set.ascending()]).toEqual([2, 10, 'a', 'b']);
  });
});
