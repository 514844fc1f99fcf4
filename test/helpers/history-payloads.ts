import type { Payload } from '@temporalio/common';

/** Every payload anywhere in history events (a deep walk of the decoded proto objects). */
export function payloadsIn(value: unknown, out: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) payloadsIn(v, out);
    return out;
  }
  const o = value as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    out.push(o as Payload);
    return out;
  }
  for (const v of Object.values(o)) payloadsIn(v, out);
  return out;
}
