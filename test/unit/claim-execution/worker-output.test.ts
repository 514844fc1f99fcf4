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
    [['x'.repeat(MAX_OUTPUT_VALUE_BYTES - 16)], undefined],
  ])('%#', (value, expected) => {
    const problem = outputValueProblem(value, tags);
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });
});
