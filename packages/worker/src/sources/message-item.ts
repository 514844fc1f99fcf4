// How a queue message's body becomes a Pipeline item, shared by the SQS and Kafka sources. A body
// that is a JSON object with a string `key` is the item itself (`{key, version?, payload?,
// deleted?}`); anything else is the payload of an item keyed by the message's own id, so a plain
// text or JSON event still flows — its version is then a hash of the payload (itemVersion).
import type { PipelineItem } from '../contracts/pipeline.js';

/** Parses a message body into an item; `fallbackKey` keys bodies that carry no key of their own. */
export function itemFromBody(body: string | undefined, fallbackKey: string): PipelineItem {
  if (body === undefined || body === '') return { key: fallbackKey };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { key: fallbackKey, payload: body };
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    if (typeof o.key === 'string' && o.key.length > 0) {
      return {
        key: o.key,
        ...(typeof o.version === 'string' ? { version: o.version } : {}),
        ...(o.payload !== undefined ? { payload: o.payload } : {}),
        ...(o.deleted === true ? { deleted: true } : {}),
      };
    }
  }
  return { key: fallbackKey, payload: parsed };
}
