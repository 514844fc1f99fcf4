// Table tests for the check every worker answer passes before anything is written.
import { describe, expect, it } from 'vitest';
import type { BatchRow, FunctionOutputSpec } from '../../../packages/worker/src/contracts/function.js';
import {
  MAX_OUTPUT_VALUE_BYTES,
  outputValueProblem,
  validateWorkerOutputs,
} from '../../../packages/worker/src/claim-execution/worker-output.js';
import { InvalidWorkerAnswerError } from '../../../packages/worker/src/claim-execution/errors.js';

const tags: FunctionOutputSpec = { attribute: 'tags', kind: 'tags', version: 'v1' };
const rows: BatchRow[] = [1, 2, 3].map((id) => ({ id, inputs: {} }));
const ok = (id: number) => ({ id, value: [`t${id}`] });

describe('validateWorkerOutputs: structure problems fail the whole batch', () => {
  it.each([
    ['not an array', 'x', /expected an array of \{id, value\}, got string/],
    ['a missing id', [ok(1), ok(2)], /row 3: missing from the worker output/],
    ['an extra id', [ok(1), ok(2), ok(3), ok(9)], /row 9: not in the batch \(extra id\)/],
    ['a duplicate id', [ok(1), ok(2), ok(3), ok(2)], /row 2: returned more than once/],
    ['an entry without id', [ok(1), ok(2), ok(3), { value: 1 }], /outputs\[3\]: expected \{id, value\}/],
    [
      'an id of the wrong type',
      [ok(1), ok(2), { id: { x: 3 }, value: [] }],
      /outputs\[2\]\.id: expected a row id/,
    ],
  ])('%s', (_what, outputs, message) => {
    expect(() => validateWorkerOutputs(rows, outputs, tags)).toThrow(InvalidWorkerAnswerError);
    expect(() => validateWorkerOutputs(rows, outputs, tags)).toThrow(message);
  });
});

describe('validateWorkerOutputs: value problems are the row’s own', () => {
  it('keeps the valid rows and names the bad one', () => {
    const out = validateWorkerOutputs(rows, [ok(1), { id: 2, value: 42 }, { id: 3, error: 'nope' }], tags);
    expect(out.valid).toEqual([ok(1)]);
    expect(out.rowProblems).toEqual([
      {
        id: 2,
        cause: 'invalid',
        message: 'row 2: tags must be an array of strings for kind tags, got number',
      },
      { id: 3, cause: 'rejected', message: 'row 3: the handler refused it: nope' },
    ]);
  });
});

describe('outputValueProblem', () => {
  it.each([
    [['a'], undefined],
    [null, 'is null; return a value for every row'],
    [[1], 'must be an array of strings for kind tags, got an array of 1'],
    // Over the store's 8 MiB attribute value limit: refused here, before any write.
    [['x'.repeat(MAX_OUTPUT_VALUE_BYTES)], /over the store's 8\.0 MiB limit for one attribute value/],
    // Just under it in tags of at most 4 KiB each (the filterable value limit).
    [Array.from({ length: 2_000 }, () => 'x'.repeat(4_000)), undefined],
    [['ok', 'x'.repeat(4_097)], /has a tag of 4097 bytes, over the store's 4 KiB \(4096 bytes\) limit/],
    [['€'.repeat(1_366)], /has a tag of 4098 bytes/],
  ])('%#', (value, expected) => {
    const problem = outputValueProblem(value, tags);
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });
});

describe('outputValueProblem: strings and the 4 KiB filterable limit', () => {
  const spec = (kind: string): FunctionOutputSpec => ({ attribute: 'out', kind, version: 'v1' });
  it.each([
    ['string', 'x'.repeat(4_096), undefined],
    [
      'string',
      'x'.repeat(4_097),
      /is 4097 bytes, over the store's 4 KiB .* use output\.kind text for longer text/,
    ],
    // A text output is declared non-filterable (output-attributes.ts): up to 8 MiB.
    ['text', 'x'.repeat(100_000), undefined],
    ['text', 42, 'must be a string for kind text, got number'],
  ])('kind %s, %#', (kind, value, expected) => {
    const problem = outputValueProblem(value, spec(kind));
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });
});
