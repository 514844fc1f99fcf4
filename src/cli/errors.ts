// One place that turns any error into the line a person reads on the terminal. Typed errors
// that carry a field path and a fix print both; anything else prints its message.
import { LayerError } from '../util/errors.js';

export function formatCliError(err: unknown): string {
  if (err instanceof LayerError) return `error: ${err.message}${err.hint ? `\n  fix: ${err.hint}` : ''}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
