// What a dead letter writes: `<attribute>_error` holds a JSON text (type, message, attempts,
// version, at) on each failed row, and dead-letter writes are cut to the engine's write budget.
// The engine filters on that attribute (Eq null), so it is filterable, and the service stores at
// most 4 KiB in a filterable value (docs/adr/0112): the message is cut until the JSON fits.
import { truncateErrorText } from '../../packages/worker/src/contracts/error-text.js';
import {
  ENGINE_WRITE_REQUEST_BUDGET_BYTES,
  STORE_MAX_FILTERABLE_VALUE_BYTES,
} from '../../packages/worker/src/contracts/store-limits.js';

/** Longest message kept on a dead-lettered row, in characters (bytes permitting). */
const DEAD_LETTER_MESSAGE_CHARS = 2000;

export interface DeadLetterFields {
  type?: string;
  message: string;
  attempts: number;
  version: string;
  at: string;
}

/**
 * The `<attribute>_error` value: at most `maxBytes` UTF-8 bytes (the filterable value limit), the
 * message cut shorter for multi-byte or escaped text.
 *
 * @example deadLetterValue({ message: '€'.repeat(3000), attempts: 1, version: 'v1', at }) // ≤ 4096 bytes
 */
export function deadLetterValue(f: DeadLetterFields, maxBytes = STORE_MAX_FILTERABLE_VALUE_BYTES): string {
  let chars = DEAD_LETTER_MESSAGE_CHARS;
  for (;;) {
    const text = JSON.stringify({
      ...(f.type ? { type: f.type } : {}),
      message: truncateErrorText(f.message, chars),
      attempts: f.attempts,
      version: f.version,
      at: f.at,
    });
    if (Buffer.byteLength(text, 'utf8') <= maxBytes || chars === 0) return text;
    chars = Math.floor(chars / 2);
  }
}

/** Rows per dead-letter write for this value: the engine's write budget over a row's size. */
export function deadLetterRowsPerWrite(value: string): number {
  return Math.max(
    1,
    Math.floor(ENGINE_WRITE_REQUEST_BUDGET_BYTES / (Buffer.byteLength(value, 'utf8') + 128)),
  );
}
