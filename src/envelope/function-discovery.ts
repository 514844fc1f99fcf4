// A Function's discovery as a pure state machine: one id-ordered cursor per target namespace,
// at most `maxConcurrentScans` scans at once, and a read-ahead bounded in rows, so the workflow
// holds at most about 2 × (claims in flight × rows per claim) ids whatever the namespace size.
// The workflow runs the scans it is told to and feeds the pages back.
import {
  packRowIds,
  unpackRowIds,
  type PackedRowIds,
  type RowId,
} from '../../packages/worker/src/contracts/function.js';
import { type FunctionBatchPayload, type FunctionRuntimeSpec } from '../contracts/function.js';
import type { BatchIn } from './batch-envelope.js';
import { batchesOfIds, idKey } from './function-payload.js';

/** Largest discovery page of ids, whatever the free read-ahead. */
export const MAX_DISCOVERY_PAGE = 10_000;
/**
 * Largest discovery page that comes back as range cuts (docs/adr/0100): the answer holds one id
 * per batch, not per row, so a scan may cover many more rows (fewer activities per row).
 */
export const MAX_RANGE_DISCOVERY_PAGE = 65_536;
/** Read-ahead of range discovery in rows: what waits is one range per batch, not one id per row. */
export const RANGE_READ_AHEAD_ROWS = 2 * MAX_RANGE_DISCOVERY_PAGE;

/**
 * A page of discovery cut into consecutive ranges: batch i is (i === 0 ? afterId : lastIds[i-1],
 * lastIds[i]], each holding batchSize rows but the last (`rows` in all).
 */
export interface RangeCuts {
  afterId: RowId | null;
  lastIds: PackedRowIds;
  rows: number;
  batchSize: number;
}

/** A discovery page: ids (older runs, input fingerprints), or range cuts. */
export type DiscoveryPage =
  { ids: RowId[]; nextAfterId: RowId | null } | { cuts: RangeCuts; nextAfterId: RowId | null };

/** Cuts an id-ordered list of row ids into ranges of `batchSize` rows. */
export function cutRanges(afterId: RowId | null, ids: readonly RowId[], batchSize: number): RangeCuts {
  const lastIds: RowId[] = [];
  for (let i = batchSize - 1; i < ids.length + batchSize - 1; i += batchSize)
    lastIds.push(ids[Math.min(i, ids.length - 1)]!);
  return { afterId, lastIds: packRowIds(lastIds), rows: ids.length, batchSize };
}

/** Rows of range i of a cut. */
export function rowsOfCut(cuts: RangeCuts, i: number): number {
  return Math.max(0, Math.min(cuts.batchSize, cuts.rows - i * cuts.batchSize));
}

/**
 * What decides which rows are work: a spec change that changes it drops what was discovered.
 * With input fingerprints the input list is part of a row's work (its hash).
 */
export function workDefinition(spec: FunctionRuntimeSpec): string {
  return JSON.stringify([
    spec.targetNamespaces,
    spec.output,
    spec.filter,
    spec.output.inputFingerprint ? spec.inputs : null,
  ]);
}

export interface ScanCursor {
  afterId: RowId | null;
  exhausted: boolean;
  scanning: boolean;
  /** Rows promised to the scan in progress. */
  reservedRows: number;
}

export interface ScanRequest {
  namespace: string;
  afterId: RowId | null;
  limit: number;
}

export class FunctionDiscovery {
  cursors: Record<string, ScanCursor> = {};
  passActive = false;
  private batchSeq = 0;

  constructor(private readonly batchPrefix: string) {}

  get scansRunning(): number {
    return Object.values(this.cursors).filter((c) => c.scanning).length;
  }
  private get reservedRows(): number {
    return Object.values(this.cursors).reduce((n, c) => n + c.reservedRows, 0);
  }

  startPass(namespaces: readonly string[]): void {
    this.passActive = true;
    this.cursors = Object.fromEntries(
      namespaces.map((ns) => [ns, { afterId: null, exhausted: false, scanning: false, reservedRows: 0 }]),
    );
  }

  /** Forgets the pass (a spec change): pages of scans still running are dropped when they arrive. */
  reset(): void {
    this.passActive = false;
    this.cursors = {};
  }

  /**
   * Scans to start now. `heldRows` are rows already waiting or out; the read-ahead is topped up
   * to `readAheadRows` once at least half of it is free, so each scan fetches many batches.
   */
  scansToStart(opts: {
    heldRows: number;
    readAheadRows: number;
    maxConcurrentScans: number;
    /** Largest page (MAX_RANGE_DISCOVERY_PAGE when the scan answers with range cuts). */
    maxPage?: number;
  }): ScanRequest[] {
    if (!this.passActive) return [];
    const out: ScanRequest[] = [];
    const idle = Object.entries(this.cursors).filter(([, c]) => !c.exhausted && !c.scanning);
    for (const [i, [namespace, cursor]] of idle.entries()) {
      const running = this.scansRunning;
      const free = opts.readAheadRows - opts.heldRows - this.reservedRows;
      if (running >= opts.maxConcurrentScans || free < Math.max(1, opts.readAheadRows / 2)) break;
      // Share the free rows among the scans that may still start now.
      const startable = Math.min(idle.length - i, opts.maxConcurrentScans - running);
      const limit = Math.max(1, Math.min(opts.maxPage ?? MAX_DISCOVERY_PAGE, Math.floor(free / startable)));
      cursor.scanning = true;
      cursor.reservedRows = limit;
      out.push({ namespace, afterId: cursor.afterId, limit });
    }
    return out;
  }

  /**
   * A page arrived: advance the cursor and cut the ids nobody holds into batches. `cursors` is the
   * object that was current when the scan started; a page of a pass that was reset is dropped.
   */
  onPage(
    namespace: string,
    passCursors: Record<string, ScanCursor>,
    page: DiscoveryPage,
    held: ReadonlySet<string>,
    batchSize: number,
  ): BatchIn<FunctionBatchPayload>[] {
    const cursor = passCursors[namespace];
    if (cursor) {
      cursor.scanning = false;
      cursor.reservedRows = 0;
    }
    if (passCursors !== this.cursors || !cursor) return [];
    cursor.afterId = page.nextAfterId;
    cursor.exhausted = page.nextAfterId === null;
    if ('cuts' in page) {
      // Ranges: a pass starts only when no range-born work is held (FunctionDiscoveryFeed), so
      // nothing held can lie inside them (docs/adr/0100).
      let afterId = page.cuts.afterId;
      return unpackRowIds(page.cuts.lastIds).map((lastId, i) => {
        this.batchSeq += 1;
        const payload: FunctionBatchPayload = { namespace, afterId, lastId };
        afterId = lastId;
        return { batchId: `${this.batchPrefix}-${this.batchSeq}`, rows: rowsOfCut(page.cuts, i), payload };
      });
    }
    // Rows waiting or leased are not discovered twice.
    const fresh = page.ids.filter((id) => !held.has(idKey(namespace, id)));
    return batchesOfIds(namespace, fresh, batchSize, () => {
      this.batchSeq += 1;
      return `${this.batchPrefix}-${this.batchSeq}`;
    });
  }

  /** A scan failed: its namespace is done for this pass (the next pass tries again). */
  onScanFailed(namespace: string, passCursors: Record<string, ScanCursor>): void {
    const cursor = passCursors[namespace];
    if (!cursor) return;
    cursor.scanning = false;
    cursor.reservedRows = 0;
    cursor.exhausted = true;
  }

  /** Every cursor reached its end and no scan is running. */
  get exhausted(): boolean {
    return Object.values(this.cursors).every((c) => c.exhausted && !c.scanning);
  }
}
