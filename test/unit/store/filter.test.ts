// The filter compiler in isolation: semantics per operator on hand-made rows, and the
// validation messages a person sees when a filter is wrong.
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/store/storage/filter.js';
import type { Row } from '../../../src/store/storage/schema.js';
import { globToRegExp } from '../../../src/store/storage/glob.js';
import type { Schema } from '../../../src/store/storage/schema.js';

const schema: Schema = new Map([
  ['id', { type: 'uint' }],
  ['n', { type: 'int' }],
  ['s', { type: 'string', glob: true, filterable: true }],
  ['tags', { type: '[]string' }],
  ['body', { type: 'string', full_text_search: true }],
]);

function test(filter: unknown, row: Row, id = 1): boolean {
  return compileFilter(filter, { schema, field: 'filters', allowRefNew: true }).test(id, row, {
    id,
    row: { n: 5 },
  });
}

describe('compileFilter', () => {
  it.each<[unknown, Row, boolean, string]>([
    // [filter, row, expected, why]
    [['n', 'Lt', 3], {}, true, 'missing counts as lowest'],
    [['n', 'Gte', null], {}, true, 'Gte null matches everything'],
    [['n', 'Lt', null], { n: 1 }, false, 'nothing is below null'],
    [['n', 'Lt', { $ref_new: 'n' }], { n: 4 }, true, '$ref_new reads the new document'],
    [['n', 'Eq', { $ref_new: 'missing' }], {}, true, 'a $ref_new to an unset attribute is null'],
    [['tags', 'NotContainsAny', ['a']], {}, true, 'a missing array contains nothing'],
    [['s', 'Glob', 'a\\*'], { s: 'a*' }, true, 'backslash escapes a glob metacharacter'],
    [['s', 'Glob', 'a\\*'], { s: 'ab' }, false, 'escaped star is literal'],
    [
      ['body', 'ContainsAllTokens', 'quick fox'],
      { body: 'The Quick brown fox' },
      true,
      'tokens are case-folded',
    ],
    [
      ['body', 'ContainsTokenSequence', 'brown fox'],
      { body: 'the quick brown fox' },
      true,
      'phrase in order',
    ],
    [
      ['body', 'ContainsTokenSequence', 'fox brown'],
      { body: 'the quick brown fox' },
      false,
      'phrase out of order',
    ],
  ])('%j on %j → %s (%s)', (filter, row, expected) => {
    expect(test(filter, row)).toBe(expected);
  });

  it.each([
    [['n', 'Eq'], /expected \[attribute, operator, value\]/],
    [['n', 'eq', 1], /unknown operator 'eq' \(operators are case-sensitive/],
    [['nope', 'Eq', 1], /unknown attribute 'nope'/],
    [['n', 'In', [1, null]], /must not contain null/],
    [['n', 'Contains', 1], /needs an array attribute; 'n' is int, use Eq/],
    [['tags', 'Lt', 'a'], /use AnyLt/],
    [['s', 'Regex', 'a'], /needs regex: true/],
    [['body', 'Eq', 'x'], /not filterable/],
    [['s', 'Glob', '[ab'], /unclosed character class/],
  ])('rejects %j', (filter, message) => {
    expect(() => compileFilter(filter, { schema, field: 'filters', allowRefNew: false })).toThrow(message);
  });

  it('rejects $ref_new outside write conditions', () => {
    expect(() =>
      compileFilter(['n', 'Eq', { $ref_new: 'n' }], { schema, field: 'filters', allowRefNew: false }),
    ).toThrow(/only allowed in write conditions/);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['*.txt', 'a/b.txt', true],
    ['?at', 'cat', true],
    ['[!c]at', 'cat', false],
    ['[a-c]at', 'bat', true],
    ['{x,y}z', 'yz', true],
    ['a.b', 'axb', false],
  ])('%s vs %s → %s', (glob, s, expected) => {
    expect(globToRegExp(glob, false).test(s)).toBe(expected);
  });
});
