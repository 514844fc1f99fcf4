// foldAbsentAttributes: a filter on a namespace that lacks some of its attributes, with each
// condition on a missing attribute replaced by its value on a null (ADR 0077). The expected
// values follow the store's null semantics in src/store/storage/filter.ts.
import { describe, expect, it } from 'vitest';
import { foldAbsentAttributes, countableFilter } from '../../../src/operator/function-estimate.js';

const declared = new Set(['title', 'category']);

describe('foldAbsentAttributes', () => {
  it.each([
    // The seed's filter on a namespace without tags_v: every row lacks the version.
    [
      [
        'Or',
        [
          ['tags_v', 'NotEq', 'v1'],
          ['tags_v', 'Eq', null],
        ],
      ],
      true,
    ],
    [['tags_v', 'Eq', 'v1'], false], // null equals only null
    [['tags_v', 'NotEq', null], false],
    [['n', 'Lt', 3], true], // null sorts below every value
    [['n', 'Gt', 3], false],
    [['n', 'Gte', null], true],
    [['tags', 'In', ['a']], false], // null is in no list
    [['tags', 'NotIn', ['a']], true],
    [['tags', 'Contains', 'a'], false],
    [['title2', 'NotGlob', 'a*'], true],
    [['Not', ['tags_v', 'Eq', null]], false],
    // Declared attributes and id are left to the store.
    [
      ['category', 'Eq', 'live'],
      ['category', 'Eq', 'live'],
    ],
    [
      ['id', 'Gt', 3],
      ['id', 'Gt', 3],
    ],
    [
      [
        'And',
        [
          ['category', 'Eq', 'live'],
          ['tags_v', 'Eq', null],
        ],
      ],
      ['category', 'Eq', 'live'],
    ],
    [
      [
        'And',
        [
          ['category', 'Eq', 'live'],
          ['tags_v', 'Eq', 'v1'],
        ],
      ],
      false,
    ],
    [
      [
        'Or',
        [
          ['category', 'Eq', 'live'],
          ['tags_v', 'Eq', 'v1'],
          ['title', 'Eq', 'x'],
        ],
      ],
      [
        'Or',
        [
          ['category', 'Eq', 'live'],
          ['title', 'Eq', 'x'],
        ],
      ],
    ],
    // An operator it does not know stays, so the store names the mistake.
    [
      ['tags_v', 'Bogus', 1],
      ['tags_v', 'Bogus', 1],
    ],
  ])('%j → %j', (filter, expected) => {
    expect(foldAbsentAttributes(filter, declared)).toEqual(expected);
  });
});

describe('countableFilter', () => {
  const output = { attribute: 'tags' } as never;
  it("drops the seed's filter on a fresh namespace (every row matches) and keeps it once tags_v exists", () => {
    const filter = [
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ];
    expect(countableFilter({ output, filter }, new Set(['title']))).toBeUndefined();
    expect(countableFilter({ output, filter: ['tags_v', 'Eq', 'v1'] }, new Set(['title']))).toBe(false);
  });
});
