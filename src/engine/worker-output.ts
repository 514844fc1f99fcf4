// Checks a worker's answer against the rows it was given and the Function's output spec before
// anything is written. A bad answer is the worker's bug, not a passing fault: the batch fails
// without retries and the message names the row and the field, so the person reading it in the
// Temporal UI (or on the dead-lettered row) knows what to fix.
import type { BatchRow, FunctionOutputSpec, RowId } from '../contracts/function.js';
import { LayerError } from '../util/errors.js';

export class InvalidWorkerOutputError extends LayerError {
  constructor(
    message: string,
    readonly rowId?: RowId,
  ) {
    super(message, 'fix the worker so it returns exactly one valid output per input row id');
  }
}

export interface ValidatedOutput {
  id: RowId;
  value: unknown;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}

/** Checks one value against the output kind; returns the problem, or undefined when it fits. */
export function outputValueProblem(value: unknown, output: FunctionOutputSpec): string | undefined {
  if (value === undefined || value === null) return `is ${describe(value)}; return a value for every row`;
  switch (output.kind) {
    case 'tags':
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
        return `must be an array of strings for kind tags, got ${describe(value)}`;
      }
      return undefined;
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
    case 'string':
      return typeof value === 'string'
        ? undefined
        : `must be a string for kind ${output.kind}, got ${describe(value)}`;
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

/**
 * One output per input row: no missing, extra or duplicate ids, every value of the right shape.
 * Throws InvalidWorkerOutputError naming the first problem (and how many more there are).
 */
export function validateWorkerOutputs(
  rows: readonly BatchRow[],
  outputs: unknown,
  output: FunctionOutputSpec,
): ValidatedOutput[] {
  if (!Array.isArray(outputs)) {
    throw new InvalidWorkerOutputError(
      `worker output: expected an array of {id, value}, got ${describe(outputs)}`,
    );
  }
  const expected = new Map(rows.map((r) => [idKey(r.id), r.id]));
  const seen = new Set<string>();
  const problems: { message: string; id?: RowId }[] = [];
  const valid: ValidatedOutput[] = [];
  outputs.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object' || !('id' in entry)) {
      problems.push({ message: `outputs[${index}]: expected {id, value}, got ${describe(entry)}` });
      return;
    }
    const { id, value } = entry as { id: unknown; value: unknown };
    if (typeof id !== 'number' && typeof id !== 'string') {
      problems.push({ message: `outputs[${index}].id: expected a row id, got ${describe(id)}` });
      return;
    }
    const key = idKey(id);
    if (!expected.has(key)) {
      problems.push({ message: `row ${JSON.stringify(id)}: not in the batch (extra id)`, id });
      return;
    }
    if (seen.has(key)) {
      problems.push({ message: `row ${JSON.stringify(id)}: returned more than once`, id });
      return;
    }
    seen.add(key);
    const problem = outputValueProblem(value, output);
    if (problem) problems.push({ message: `row ${JSON.stringify(id)}: ${output.attribute} ${problem}`, id });
    else valid.push({ id, value });
  });
  for (const [key, id] of expected) {
    if (!seen.has(key))
      problems.push({ message: `row ${JSON.stringify(id)}: missing from the worker output`, id });
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})`
        : '';
    throw new InvalidWorkerOutputError(`invalid worker output: ${first.message}${more}`, first.id);
  }
  return valid;
}
