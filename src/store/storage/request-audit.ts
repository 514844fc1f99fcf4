// The largest request of each kind the store has been sent (opt-in; docs/adr/0112): what a test
// compares with the service's limits to show a client — the engine — never exceeds them. Every
// request is recorded as sent, before validation, so one the store refuses counts too; the
// refusals themselves are counted by status.
import { requestRowCount } from './write-rate-limit.js';

type Obj = Record<string, unknown>;

export interface RequestAuditSnapshot {
  writes: number;
  queries: number;
  /** Largest request body in bytes (after gunzip), any route. */
  maxBodyBytes: number;
  /** Most rows one write named (upserted, patched or deleted by id). */
  maxRowsPerWrite: number;
  /** Largest `top_k` / `limit` / `limit.total` of a query or sub-query. */
  maxTopK: number;
  /** Most rows one `patch_by_filter` changed. */
  maxPatchByFilterRows: number;
  /** Largest filter (JSON, UTF-8 bytes) in a query, sub-query, write condition or by-filter write. */
  maxFilterBytes: number;
  /** Requests refused, by HTTP status. */
  refused: Record<number, number>;
}

function filterBytes(f: unknown): number {
  return f === undefined || f === null ? 0 : Buffer.byteLength(JSON.stringify(f));
}

function topK(q: Obj): number {
  const limit = q.limit;
  const fromLimit =
    typeof limit === 'number'
      ? limit
      : typeof limit === 'object' && limit !== null
        ? Number((limit as Obj).total) || 0
        : 0;
  return Math.max(typeof q.top_k === 'number' ? q.top_k : 0, fromLimit);
}

export class RequestAudit {
  private s: RequestAuditSnapshot = RequestAudit.empty();

  private static empty(): RequestAuditSnapshot {
    return {
      writes: 0,
      queries: 0,
      maxBodyBytes: 0,
      maxRowsPerWrite: 0,
      maxTopK: 0,
      maxPatchByFilterRows: 0,
      maxFilterBytes: 0,
      refused: {},
    };
  }

  /** A copy of what has been recorded since the start (or the last reset). */
  snapshot(): RequestAuditSnapshot {
    return { ...this.s, refused: { ...this.s.refused } };
  }

  /** Forgets everything recorded, e.g. after a test has seeded its data. */
  reset(): void {
    this.s = RequestAudit.empty();
  }

  body(bytes: number): void {
    this.s.maxBodyBytes = Math.max(this.s.maxBodyBytes, bytes);
  }

  write(body: unknown): void {
    this.s.writes += 1;
    if (typeof body !== 'object' || body === null) return;
    const b = body as Obj;
    this.s.maxRowsPerWrite = Math.max(this.s.maxRowsPerWrite, requestRowCount(b));
    const pbf = b.patch_by_filter as Obj | undefined;
    for (const f of [
      b.upsert_condition,
      b.patch_condition,
      b.delete_condition,
      b.delete_by_filter,
      pbf?.filters,
    ])
      this.filter(f);
  }

  patchedByFilter(rows: number): void {
    this.s.maxPatchByFilterRows = Math.max(this.s.maxPatchByFilterRows, rows);
  }

  query(body: unknown): void {
    this.s.queries += 1;
    if (typeof body !== 'object' || body === null) return;
    const b = body as Obj;
    const parts = Array.isArray(b.queries) ? (b.queries as unknown[]) : [b];
    for (const q of parts) {
      if (typeof q !== 'object' || q === null) continue;
      this.s.maxTopK = Math.max(this.s.maxTopK, topK(q as Obj));
      this.filter((q as Obj).filters);
    }
    // A multi-query's own `limit` (the fused result of rerank_by) counts too.
    if (Array.isArray(b.queries)) this.s.maxTopK = Math.max(this.s.maxTopK, topK(b));
  }

  refusal(status: number): void {
    this.s.refused[status] = (this.s.refused[status] ?? 0) + 1;
  }

  private filter(f: unknown): void {
    this.s.maxFilterBytes = Math.max(this.s.maxFilterBytes, filterBytes(f));
  }
}
