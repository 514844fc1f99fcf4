// Base of the project's typed errors. Each subclass is defined next to the code that throws
// it; `hint` says how to fix the input when the fix is the caller's to make.
export class LayerError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value given by a person (a file, a flag, a CR) is wrong. `path` names the field. */
export class InvalidInputError extends LayerError {
  constructor(
    readonly path: string,
    message: string,
    hint?: string,
  ) {
    super(`${path}: ${message}`, hint);
  }
}
