// Checks a worker's answer against the rows it was given and the Function's output spec before
// anything is written. A bad answer is the worker's bug, not a passing fault: the batch fails
// without retries and the message names the row and the field, so the person reading it in the
// Temporal UI (or on the dead-lettered row) knows what to fix.
import type { BatchRow, FunctionOutputSpec, RowId } from '../contracts/function.js';
import { FailureType, type FailureReport } from '../contracts/failures.js';
import { truncateErrorText } from '../contracts/error-text.js';
import { InvalidWorkerAnswerError } from './errors.js';
import {
  STORE_MAX_ATTRIBUTE_VALUE_BYTES,
  STORE_MAX_FILTERABLE_VALUE_BYTES,
} from '../contracts/store-limits.js';
import { jsonBytesUpTo } from '../store/write-chunks.js';

export interface ValidatedOutput {
  id: RowId;
  value: unknown;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}

/**
 * The largest attribute value Turbopuffer stores (8 MiB, docs "Limits"). A larger output would be
 * refused by the store after the rest of its batch was sent; it is refused here instead, as that
 * row's fault, so the other rows of the batch are written and nothing partial reaches the store.
 */
export const MAX_OUTPUT_VALUE_BYTES = STORE_MAX_ATTRIBUTE_VALUE_BYTES;

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** UTF-8 bytes of `s` when over the filterable value limit (4 KiB), else undefined. */
function filterableOversize(s: string): number | undefined {
  if (s.length * 3 <= STORE_MAX_FILTERABLE_VALUE_BYTES) return undefined;
  const bytes = Buffer.byteLength(s, 'utf8');
  return bytes > STORE_MAX_FILTERABLE_VALUE_BYTES ? bytes : undefined;
}

/** Checks one value against the output kind; returns the problem, or undefined when it fits. */
export function outputValueProblem(value: unknown, output: FunctionOutputSpec): string | undefined {
  if (value === undefined || value === null) return `is ${describe(value)}; return a value for every row`;
  const oversize = jsonBytesUpTo(value, MAX_OUTPUT_VALUE_BYTES);
  if (oversize > MAX_OUTPUT_VALUE_BYTES)
    return `is more than ${megabytes(oversize)} encoded, over the store's ${megabytes(MAX_OUTPUT_VALUE_BYTES)} limit for one attribute value`;
  switch (output.kind) {
    case 'tags': {
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
        return `must be an array of strings for kind tags, got ${describe(value)}`;
      }
      // Tags are filterable (consumers filter by them): the store takes at most 4 KiB per tag.
      for (const tag of value as string[]) {
        const bytes = filterableOversize(tag);
        if (bytes !== undefined)
          return `has a tag of ${bytes} bytes, over the store's 4 KiB (${STORE_MAX_FILTERABLE_VALUE_BYTES} bytes) limit for a filterable value`;
      }
      return undefined;
    }
    case 'embedding': {
      if (!Array.isArray(value) || value.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        return `must be an array of finite numbers for kind embedding, got ${describe(value)}`;
      }
      if (output.dim !== undefined && value.length !== output.dim) {
        return `has length ${value.length}, but output.dim is ${output.dim}`;
      }
      return undefined;
    }
    case 'text':
      // The engine declares a text output non-filterable (output-attributes.ts): up to 8 MiB.
      return typeof value === 'string' ? undefined : `must be a string for kind text, got ${describe(value)}`;
    case 'string': {
      if (typeof value !== 'string') return `must be a string for kind string, got ${describe(value)}`;
      const bytes = filterableOversize(value);
      return bytes === undefined
        ? undefined
        : `is ${bytes} bytes, over the store's 4 KiB (${STORE_MAX_FILTERABLE_VALUE_BYTES} bytes) limit for a filterable value; use output.kind text for longer text (stored non-filterable)`;
    }
    case 'number':
    case 'float':
    case 'int':
      if (typeof value !== 'number' || !Number.isFinite(value))
        return `must be a finite number for kind ${output.kind}, got ${describe(value)}`;
      if (output.kind === 'int' && !Number.isInteger(value))
        return `must be an integer for kind int, got ${value}`;
      return undefined;
    case 'bool':
    case 'boolean':
      return typeof value === 'boolean'
        ? undefined
        : `must be a boolean for kind ${output.kind}, got ${describe(value)}`;
    default:
      // Kinds the engine does not know are stored as the worker returns them.
      return undefined;
  }
}

function idKey(id: RowId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** Rows whose output could not be written: a bad value, or the handler's own `{ id, error }`. */
export interface RowProblem {
  id: RowId;
  message: string;
  /** `rejected`: the handler refused the row; `invalid`: its value does not fit the output spec. */
  cause: 'rejected' | 'invalid';
}

function summary(problems: readonly { message: string }[]): string {
  const first = problems[0]!;
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return `${first.message}${more}`;
}

/**
 * One output per input row. Structure problems (not an array, missing, extra or duplicate ids)
 * throw InvalidWorkerAnswerError: the batch is at fault. A value that does not fit, or an entry
 * `{ id, error }` by which the handler refuses a row, is a problem of that row only: it comes
 * back in `rowProblems` and the other rows are written.
 */
export function validateWorkerOutputs(
  rows: readonly BatchRow[],
  outputs: unknown,
  output: FunctionOutputSpec,
): { valid: ValidatedOutput[]; rowProblems: RowProblem[] } {
  if (!Array.isArray(outputs)) {
    throw new InvalidWorkerAnswerError(
      `invalid worker output: expected an array of {id, value}, got ${describe(outputs)}`,
    );
  }
  const expected = new Map(rows.map((r) => [idKey(r.id), r.id]));
  const seen = new Set<string>();
  const structure: { message: string }[] = [];
  const rowProblems: RowProblem[] = [];
  const valid: ValidatedOutput[] = [];
  outputs.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object' || !('id' in entry)) {
      structure.push({ message: `outputs[${index}]: expected {id, value}, got ${describe(entry)}` });
      return;
    }
    const { id, value, error } = entry as { id: unknown; value: unknown; error?: unknown };
    if (typeof id !== 'number' && typeof id !== 'string') {
      structure.push({ message: `outputs[${index}].id: expected a row id, got ${describe(id)}` });
      return;
    }
    const key = idKey(id);
    if (!expected.has(key)) {
      structure.push({ message: `row ${JSON.stringify(id)}: not in the batch (extra id)` });
      return;
    }
    if (seen.has(key)) {
      structure.push({ message: `row ${JSON.stringify(id)}: returned more than once` });
      return;
    }
    seen.add(key);
    if (error !== undefined && error !== null) {
      const why = typeof error === 'string' ? error : JSON.stringify(error);
      rowProblems.push({
        id,
        cause: 'rejected',
        message: `row ${JSON.stringify(id)}: the handler refused it: ${why}`,
      });
      return;
    }
    const problem = outputValueProblem(value, output);
    if (problem)
      rowProblems.push({
        id,
        cause: 'invalid',
        message: `row ${JSON.stringify(id)}: ${output.attribute} ${problem}`,
      });
    else valid.push({ id, value });
  });
  for (const [key, id] of expected) {
    if (!seen.has(key))
      structure.push({ message: `row ${JSON.stringify(id)}: missing from the worker output` });
  }
  if (structure.length > 0)
    throw new InvalidWorkerAnswerError(`invalid worker output: ${summary(structure)}`);
  return { valid, rowProblems };
}

/** Row problems grouped into one failure report per cause (one dead-letter write each). */
export function rowFailureReports(problems: readonly RowProblem[]): FailureReport[] {
  const out: FailureReport[] = [];
  for (const cause of ['invalid', 'rejected'] as const) {
    const group = problems.filter((p) => p.cause === cause);
    if (group.length === 0) continue;
    out.push({
      type: cause === 'invalid' ? FailureType.InvalidWorkerOutput : FailureType.RowRejected,
      message: truncateErrorText(
        cause === 'invalid' ? `invalid worker output: ${summary(group)}` : summary(group),
      ),
      rowIds: group.map((p) => p.id),
    });
  }
  return out;
}
