// Errors the engine raises while validating or executing a request. Each carries the HTTP
// status the real Turbopuffer service uses for the same mistake, so the server maps them 1:1:
// 400 for a request that is well-formed JSON but wrong (unknown attribute, duplicate id, bad
// filter), 422 for a body whose shape cannot be deserialized, 404 for a missing namespace.
import { LayerError } from '../../../packages/worker/src/util/errors.js';

export class StoreEngineError extends LayerError {
  constructor(
    readonly status: number,
    message: string,
    /** Response headers the status needs (Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string): StoreEngineError {
  return new StoreEngineError(400, message);
}

export function unprocessable(message: string): StoreEngineError {
  return new StoreEngineError(422, message);
}

export function namespaceNotFound(namespace: string): StoreEngineError {
  return new StoreEngineError(404, `namespace '${namespace}' was not found`);
}
