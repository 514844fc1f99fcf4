// Per-namespace write throughput limits (opt-in; docs/adr/0098-store-index-lag-model.md). The
// service documents "10k writes/s @ 32 MB/s" per namespace (limits page). Each namespace has a
// bucket per dimension holding one second of budget; a write is admitted while the bucket is
// not in debt and then charged in full, so one write larger than a second's budget still goes
// through and the next waits until the debt is paid. A refused write is charged nothing and
// answered 429 with Retry-After (and retry-after-ms, which the official client prefers).
import { StoreEngineError } from './errors.js';

export interface WriteRateLimitOptions {
  /** Rows (upserted, patched or deleted by id) per second per namespace; undefined or 0: unlimited. */
  rowsPerSecond?: number;
  /** Request bytes per second per namespace; undefined or 0: unlimited. */
  bytesPerSecond?: number;
}

interface Bucket {
  rows: number;
  bytes: number;
  at: number;
}

export class WriteRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly options: WriteRateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined && (!Number.isFinite(value) || value < 0))
        throw new Error(`write rate limit: ${key} must be a number >= 0, got ${String(value)}`);
    }
  }

  /** Charges a write of `rows` rows and `bytes` bytes to `name`, or throws 429 with the wait. */
  admit(name: string, rows: number, bytes: number): void {
    const rowRate = this.options.rowsPerSecond || 0;
    const byteRate = this.options.bytesPerSecond || 0;
    if (rowRate === 0 && byteRate === 0) return;
    const now = this.now();
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = { rows: rowRate, bytes: byteRate, at: now }));
    const elapsed = (now - b.at) / 1000;
    b.at = now;
    b.rows = Math.min(rowRate, b.rows + elapsed * rowRate);
    b.bytes = Math.min(byteRate, b.bytes + elapsed * byteRate);
    const waitMs = Math.max(
      rowRate > 0 && b.rows < 0 ? (-b.rows / rowRate) * 1000 : 0,
      byteRate > 0 && b.bytes < 0 ? (-b.bytes / byteRate) * 1000 : 0,
    );
    if (waitMs > 0) {
      const ms = Math.ceil(waitMs);
      throw new StoreEngineError(
        429,
        `write to namespace '${name}' rejected: over the namespace's write rate limit ` +
          `(${describeLimit(rowRate, byteRate)}); retry after ${ms} ms`,
        { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))), 'retry-after-ms': String(ms) },
      );
    }
    if (rowRate > 0) b.rows -= rows;
    if (byteRate > 0) b.bytes -= bytes;
  }

  forget(name: string): void {
    this.buckets.delete(name);
  }
}

function describeLimit(rowRate: number, byteRate: number): string {
  const parts: string[] = [];
  if (rowRate > 0) parts.push(`${rowRate} rows/s`);
  if (byteRate > 0) parts.push(`${byteRate} bytes/s`);
  return parts.join(', ');
}

/** Rows a write request names: upserts, patches and deletes by id (filter writes are bounded on their own). */
export function requestRowCount(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const b = body as Record<string, unknown>;
  const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
  const colLen = (v: unknown): number =>
    typeof v === 'object' && v !== null ? len((v as Record<string, unknown>).id) : 0;
  return (
    len(b.upsert_rows) +
    colLen(b.upsert_columns) +
    len(b.patch_rows) +
    colLen(b.patch_columns) +
    len(b.deletes)
  );
}
