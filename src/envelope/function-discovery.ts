// A Function's discovery as a pure state machine: one id-ordered cursor per target namespace,
// at most `maxConcurrentScans` scans at once, and a read-ahead bounded in rows, so the workflow
// holds at most about 2 × (claims in flight × rows per claim) ids whatever the namespace size.
// The workflow runs the scans it is told to and feeds the pages back.
import type { FunctionBatchPayload, FunctionRuntimeSpec, RowId } from '../contracts/function.js';
import type { BatchIn } from './batch-envelope.js';
import { batchesOfIds, idKey } from './function-payload.js';

/** Largest discovery page, whatever the free read-ahead. */
export const MAX_DISCOVERY_PAGE = 10_000;

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
  scansToStart(opts: { heldRows: number; readAheadRows: number; maxConcurrentScans: number }): ScanRequest[] {
    if (!this.passActive) return [];
    const out: ScanRequest[] = [];
    const idle = Object.entries(this.cursors).filter(([, c]) => !c.exhausted && !c.scanning);
    for (const [i, [namespace, cursor]] of idle.entries()) {
      const running = this.scansRunning;
      const free = opts.readAheadRows - opts.heldRows - this.reservedRows;
      if (running >= opts.maxConcurrentScans || free < Math.max(1, opts.readAheadRows / 2)) break;
      // Share the free rows among the scans that may still start now.
      const startable = Math.min(idle.length - i, opts.maxConcurrentScans - running);
      const limit = Math.max(1, Math.min(MAX_DISCOVERY_PAGE, Math.floor(free / startable)));
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
    page: { ids: RowId[]; nextAfterId: RowId | null },
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
