// The service's write path, modelled (opt-in; docs/adr/0098-store-index-lag-model.md). On
// Turbopuffer a write is durable in the namespace's write-ahead log when it returns, and an
// indexer folds the log into the index asynchronously. Queries read the index plus the
// unindexed tail of the log, but only up to a budget: "once a namespace has more than 128MiB of
// outstanding writes, further writes are not visible until they are indexed" (guarantees page).
// Past 2 GB unindexed, writes are refused with HTTP 429 until indexing catches up (ingestion
// page; limits page note 12).
//
// Here every logged record joins a per-namespace queue with its size in bytes. The indexer
// drains the queue's head at a fixed rate. A record is visible while the unindexed bytes up to
// and including it fit the budget; a record past the budget stays invisible until the window
// slides over it or it is indexed. Visibility is in log order, so queries see a prefix of the
// log, never a write without the writes before it.
//
// Writes always plan against the latest state (the log's, as the service's conditional writes
// do); queries read a second, in-memory copy that trails it. The copy exists only while some
// record is invisible: it is cloned from the latest state when the first record goes past the
// budget and dropped once every queued record is visible again, when both states are equal.
import { StoreEngineError } from './errors.js';
import { NamespaceState } from './namespace.js';
import { applyRecord, type WalRecord } from './persistence.js';
import { MemoryRows } from './rows.js';

export interface IndexLagOptions {
  /** Unindexed bytes queries still read (service: 128 MiB). Later writes stay invisible until indexed. */
  outstandingWriteBudgetBytes: number;
  /** Unindexed bytes past which writes are refused with 429 (service: 2 GB). */
  backpressureBytes: number;
  /** Bytes per second the indexer folds in, per namespace; 0 pauses it (nothing is ever indexed). */
  indexBytesPerSecond: number;
}

/**
 * The service's thresholds. The indexing rate is not documented; 32 MB/s is the documented
 * per-namespace write throughput, which the limits page says is "limited by indexing
 * performance" (note 8), so an indexer at that rate keeps up with a writer at the limit.
 */
export const SERVICE_INDEX_LAG: IndexLagOptions = {
  outstandingWriteBudgetBytes: 128 * 1024 * 1024,
  backpressureBytes: 2_000_000_000,
  indexBytesPerSecond: 32_000_000,
};

/** How often the indexer runs; each pass folds in rate × elapsed bytes. */
const INDEXER_PERIOD_MS = 20;

interface PendingRecord {
  rec: WalRecord;
  /** The write's size as received (its share of the log). */
  bytes: number;
  /** Bytes the indexer has still to fold in. */
  remaining: number;
  visible: boolean;
}

class NamespaceLag {
  readonly queue: PendingRecord[] = [];
  /** What queries read while a queued record is invisible; undefined when that is the latest state. */
  visible: NamespaceState | undefined;

  unindexedBytes(): number {
    let n = 0;
    for (const p of this.queue) n += p.remaining;
    return Math.ceil(n);
  }
}

export class IndexLagModel {
  private readonly lags = new Map<string, NamespaceLag>();
  private timer: NodeJS.Timeout | undefined;
  private last = performance.now();

  constructor(readonly options: IndexLagOptions) {
    for (const [key, value] of Object.entries(options)) {
      if (!Number.isFinite(value) || value < 0)
        throw new Error(`index lag: ${key} must be a number >= 0, got ${String(value)}`);
    }
    if (options.indexBytesPerSecond > 0) {
      this.timer = setInterval(() => this.runIndexer(), INDEXER_PERIOD_MS);
      this.timer.unref();
    }
  }

  /**
   * Refuses a write while the namespace's unindexed bytes exceed the backpressure limit, as the
   * service does with 429. `disable_backpressure` lifts it; the service documents that flag as
   * affecting only upserts and deletes by id, so a write with anything else is still refused.
   */
  admit(name: string, body: unknown): void {
    const unindexed = this.lags.get(name)?.unindexedBytes() ?? 0;
    if (unindexed <= this.options.backpressureBytes) return;
    if (backpressureDisabled(body)) return;
    throw new StoreEngineError(
      429,
      `write to namespace '${name}' rejected: indexing is behind by ${unindexed} bytes of unindexed writes, ` +
        `more than the ${this.options.backpressureBytes}-byte limit; retry once indexing catches up ` +
        '(upserts and deletes by id may set disable_backpressure)',
    );
  }

  /**
   * Queues a logged record. Call before the record is applied to `latest` (undefined while the
   * record creates the namespace): if the record is past the budget, the view queries keep is
   * cloned from `latest` first, so it is the state before this record.
   */
  record(name: string, latest: NamespaceState | undefined, rec: WalRecord, bytes: number): void {
    let lag = this.lags.get(name);
    if (!lag) this.lags.set(name, (lag = new NamespaceLag()));
    const pending: PendingRecord = { rec, bytes, remaining: bytes, visible: false };
    lag.queue.push(pending);
    if (!lag.visible && this.windowBytes(lag) <= this.options.outstandingWriteBudgetBytes) {
      pending.visible = true;
      return;
    }
    if (!lag.visible) lag.visible = cloneForQueries(name, latest, rec.at);
  }

  /** The state queries read: `latest` unless some of its writes are still invisible. */
  view(name: string, latest: NamespaceState): NamespaceState {
    return this.lags.get(name)?.visible ?? latest;
  }

  unindexedBytes(name: string): number {
    return this.lags.get(name)?.unindexedBytes() ?? 0;
  }

  forget(name: string): void {
    this.lags.delete(name);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Folds `bytes` of each namespace's queue into its index (the indexer's pass; tests call it directly). */
  index(bytesPerNamespace: number): void {
    for (const [name, lag] of this.lags) {
      let budget = bytesPerNamespace;
      while (lag.queue.length > 0 && budget > 0) {
        const head = lag.queue[0]!;
        const used = Math.min(head.remaining, budget);
        head.remaining -= used;
        budget -= used;
        if (head.remaining > 0) break;
        // Indexed: visible from now on whatever the budget says.
        if (!head.visible) {
          applyRecord(lag.visible!, head.rec);
          head.visible = true;
        }
        lag.queue.shift();
      }
      this.advanceVisibility(lag);
      if (lag.queue.length === 0 && !lag.visible) this.lags.delete(name);
    }
  }

  private runIndexer(): void {
    const now = performance.now();
    const elapsed = (now - this.last) / 1000;
    this.last = now;
    if (this.lags.size > 0) this.index(this.options.indexBytesPerSecond * elapsed);
  }

  /** Unindexed bytes a query would have to read to see every queued record. */
  private windowBytes(lag: NamespaceLag): number {
    let n = 0;
    for (const p of lag.queue) n += p.bytes;
    return n;
  }

  /** Makes queued records visible, in log order, while the window fits the budget. */
  private advanceVisibility(lag: NamespaceLag): void {
    if (!lag.visible) return;
    let window = 0;
    for (const p of lag.queue) {
      window += p.bytes;
      if (p.visible) continue;
      if (window > this.options.outstandingWriteBudgetBytes) return;
      applyRecord(lag.visible, p.rec);
      p.visible = true;
    }
    // Every queued record is visible: the view equals the latest state again.
    lag.visible = undefined;
  }
}

/** An in-memory copy queries can read while the latest state moves ahead. Rows are shared: they are never mutated in place. */
function cloneForQueries(name: string, latest: NamespaceState | undefined, at: number): NamespaceState {
  if (!latest) return new NamespaceState(name, { createdAt: at, updatedAt: at, lastWriteAt: at });
  const rows = new MemoryRows();
  for (const id of latest.ids.ascending()) rows.set(id, latest.rows.get(id)!);
  const copy = new NamespaceState(name, { ...latest.meta }, rows);
  copy.schema = new Map([...latest.schema].map(([k, v]) => [k, { ...v }]));
  return copy;
}

type Obj = Record<string, unknown>;

function backpressureDisabled(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Obj;
  if (b.disable_backpressure !== true) return false;
  const onlyUpsertsAndDeletes = [
    'patch_rows',
    'patch_columns',
    'patch_by_filter',
    'delete_by_filter',
    'upsert_condition',
    'patch_condition',
    'delete_condition',
  ].every((k) => b[k] === undefined || b[k] === null);
  return onlyUpsertsAndDeletes;
}
