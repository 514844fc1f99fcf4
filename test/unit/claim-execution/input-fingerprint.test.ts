import { describe, expect, it } from 'vitest';
import {
  attributesToDecide,
  fingerprintAttribute,
  inputFingerprint,
  rowNeedsWork,
} from '../../../packages/worker/src/claim-execution/input-fingerprint.js';
import {
  candidateFilter,
  workFilter,
} from '../../../packages/worker/src/claim-execution/function-filters.js';
import type { FunctionOutputSpec } from '../../../packages/worker/src/contracts/function.js';

const output: FunctionOutputSpec = { attribute: 'tags', kind: 'tags', version: 'v2', inputFingerprint: true };
const inputs = ['id', 'title', 'meta'];

describe('inputFingerprint', () => {
  it('is stable across key order, ignores the id, and treats a missing attribute as null', () => {
    const a = inputFingerprint(inputs, { id: 1, title: 'Red shoe', meta: { b: 1, a: [1, 2] } });
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(inputFingerprint(inputs, { meta: { a: [1, 2], b: 1 }, title: 'Red shoe', id: 99 })).toBe(a);
    expect(inputFingerprint(inputs, { id: 1, title: 'Red shoe' })).toBe(
      inputFingerprint(inputs, { id: 1, title: 'Red shoe', meta: null }),
    );
  });

  it.each([
    ['another title', { title: 'Blue shoe', meta: { b: 1, a: [1, 2] } }],
    ['array order', { title: 'Red shoe', meta: { b: 1, a: [2, 1] } }],
    ['a number that was a string', { title: 'Red shoe', meta: { b: '1', a: [1, 2] } }],
    ['the value moved to another input', { title: null, meta: 'Red shoe' }],
  ])('changes with %s', (_, row) => {
    const before = inputFingerprint(inputs, { title: 'Red shoe', meta: { b: 1, a: [1, 2] } });
    expect(inputFingerprint(inputs, row)).not.toBe(before);
  });
});

describe('rowNeedsWork', () => {
  const fp = inputFingerprint(inputs, { title: 'Red shoe' });
  it.each<[string, FunctionOutputSpec, Record<string, unknown>, boolean]>([
    ['no version', output, { title: 'Red shoe' }, true],
    ['an older version', output, { title: 'Red shoe', tags_v: 'v1', tags_fp: fp }, true],
    ['this version, matching fingerprint', output, { title: 'Red shoe', tags_v: 'v2', tags_fp: fp }, false],
    ['this version, edited input', output, { title: 'Blue shoe', tags_v: 'v2', tags_fp: fp }, true],
    ['this version, no fingerprint yet', output, { title: 'Red shoe', tags_v: 'v2' }, true],
    [
      'fingerprints off: an edited input is not work',
      { ...output, inputFingerprint: false },
      { title: 'Blue shoe', tags_v: 'v2', tags_fp: fp },
      false,
    ],
  ])('%s', (_, out, row, expected) => {
    expect(rowNeedsWork(out, inputs, row)).toBe(expected);
  });
});

describe('what discovery asks the store for', () => {
  it('selects candidates without the version condition only when fingerprints decide', () => {
    const user = ['category', 'Eq', 'shoes'];
    expect(candidateFilter(output, user)).toEqual(['And', [user, ['tags_error', 'Eq', null]]]);
    const plain = { ...output, inputFingerprint: undefined };
    expect(candidateFilter(plain, user)).toEqual(workFilter(plain, user));
  });

  it('reads the inputs, the version and the fingerprint', () => {
    expect(fingerprintAttribute(output)).toBe('tags_fp');
    expect(attributesToDecide(output, inputs)).toEqual(['title', 'meta', 'tags_v', 'tags_fp']);
    expect(attributesToDecide({ ...output, inputFingerprint: false }, inputs)).toEqual([
      'title',
      'meta',
      'tags_v',
    ]);
  });
});
