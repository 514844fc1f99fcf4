// The errors the batch engine throws for a worker's bad answer, in a leaf module: the thrower
// (worker-output, pipeline-write) and the one classifier (failures.ts) both import them from
// here, so classifying an error never imports the code that throws it (no import cycle).
import type { RowId } from '../contracts/function.js';
import { LayerError } from '../util/errors.js';

/** One row's output does not fit the output spec (row-scoped: that row is dead-lettered). */
export class InvalidWorkerOutputError extends LayerError {
  constructor(
    message: string,
    readonly rowId?: RowId,
  ) {
    super(message, 'fix the worker so each row gets a value of output.kind (and output.dim)');
  }
}

/** The answer as a whole is malformed (not an array; missing, extra or duplicate ids). */
export class InvalidWorkerAnswerError extends LayerError {
  constructor(message: string) {
    super(message, 'fix the worker so it returns exactly one valid output per input row id');
  }
}

/** A Pipeline worker's answer does not fit the documents/chunks contract. */
export class InvalidPipelineOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPipelineOutputError';
  }
}
