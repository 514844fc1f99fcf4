// Where a namespace's documents live. `MemoryRows` (the in-memory store) is a plain Map.
// `SegmentRows` (the durable store) keeps documents on disk in an append-only segment file and
// holds in memory only what finding them needs: id → slot in a Map, and per slot the payload's
// offset and length and the document's logical size in typed arrays (about 60 bytes a document,
// against ~800 for a decoded row object). Reads decode the JSON payload on demand, through a
// bounded LRU of decoded rows and a read-ahead block that makes id-ordered scans sequential I/O.
// See docs/adr/0044-disk-backed-rows.md.
//
// Segment frame: u32 frame length (header included) · u8 kind · u32 logical bytes · id · JSON payload.
//   kind 1/2: a document with a numeric (f64) / string (u16 byte length + UTF-8) id;
//   kind 3/4: a tombstone (no payload) with a numeric / string id.
// The segment is not fsync'd per write: the write-ahead log (persistence.ts) is what makes a
// write durable, and a checkpoint fsyncs the segment before the log is truncated. On open the
// segment is cut back to the length the last checkpoint recorded and the log is replayed.
//
// Over 400 lines on purpose: SegmentRows is the segment format's reader, writer and compaction,
// which must agree byte for byte on the frame layout above.
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Id } from './ids.js';
import type { Row } from './schema.js';

export interface RowTable extends Iterable<[Id, Row]> {
  readonly size: number;
  /** Sum of the documents' logical sizes (metadata's approx_logical_bytes). */
  readonly logicalBytes: number;
  get(id: Id): Row | undefined;
  has(id: Id): boolean;
  keys(): Iterable<Id>;
  set(id: Id, row: Row): void;
  delete(id: Id): boolean;
}

/** A cheap estimate of a document's logical size (what metadata reports). */
export function rowBytes(id: Id, row: Row): number {
  let n = typeof id === 'number' ? 8 : id.length;
  for (const k in row) {
    const v = row[k];
    n += k.length;
    if (typeof v === 'string') n += v.length;
    else if (Array.isArray(v)) n += v.length * 8;
    else n += 8;
  }
  return n;
}

export class MemoryRows implements RowTable {
  private readonly map = new Map<Id, Row>();
  logicalBytes = 0;

  get size(): number {
    return this.map.size;
  }
  get(id: Id): Row | undefined {
    return this.map.get(id);
  }
  has(id: Id): boolean {
    return this.map.has(id);
  }
  keys(): Iterable<Id> {
    return this.map.keys();
  }
  set(id: Id, row: Row): void {
    const old = this.map.get(id);
    if (old) this.logicalBytes -= rowBytes(id, old);
    this.map.set(id, row);
    this.logicalBytes += rowBytes(id, row);
  }
  delete(id: Id): boolean {
    const old = this.map.get(id);
    if (!old) return false;
    this.logicalBytes -= rowBytes(id, old);
    return this.map.delete(id);
  }
  [Symbol.iterator](): Iterator<[Id, Row]> {
    return this.map[Symbol.iterator]();
  }
}

const KIND_NUM = 1;
const KIND_STR = 2;
const TOMB_NUM = 3;
const TOMB_STR = 4;
/** Bytes read ahead when reads walk the file forwards (id-ordered scans of a compacted segment). */
const READ_AHEAD = 256 * 1024;
const SCAN_CHUNK = 4 * 1024 * 1024;
const DEFAULT_ROW_CACHE = 16_384;

export class CorruptSegmentError extends Error {}

export class SegmentRows implements RowTable {
  private readonly slots = new Map<Id, number>();
  private off = new Float64Array(1024);
  private len = new Uint32Array(1024);
  private bytes = new Uint32Array(1024);
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  logicalBytes = 0;
  /** Payload bytes of live documents; the rest of the file is garbage that compaction drops. */
  private liveBytes = 0;

  /** Frames appended since the last flush, not yet in the file. */
  private pending = Buffer.allocUnsafe(64 * 1024);
  private pendingLen = 0;
  /** File length (bytes written with writeSync); `end` counts pending frames too. */
  private written: number;

  private block = Buffer.allocUnsafe(READ_AHEAD);
  private blockStart = -1;
  private blockLen = 0;

  /**
   * Decoded rows, a two-generation LRU approximation: hits and new rows go to `young`; when it
   * holds half the budget it becomes `old` (the previous `old` is dropped). O(1) per access,
   * unlike evicting a Map's first key, which walks past every deleted entry before it.
   */
  private young = new Map<Id, Row>();
  private old = new Map<Id, Row>();

  private constructor(
    public path: string,
    private fd: number,
    length: number,
    private readonly cacheRows: number,
  ) {
    this.written = length;
  }

  /**
   * Opens (creating it if missing) the segment at `path`, cuts it back to `committed` bytes
   * (what the last checkpoint fsync'd; anything after it is replayed from the log) and indexes
   * its frames.
   */
  static open(path: string, committed: number, cacheRows = DEFAULT_ROW_CACHE): SegmentRows {
    const fd = openSync(path, 'a+');
    closeSync(fd);
    const rw = openSync(path, 'r+');
    ftruncateSync(rw, committed);
    const seg = new SegmentRows(path, rw, committed, cacheRows);
    seg.indexFrames(committed);
    return seg;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Bytes in the file, flushed or not. */
  get end(): number {
    return this.written + this.pendingLen;
  }

  has(id: Id): boolean {
    return this.slots.has(id);
  }

  keys(): Iterable<Id> {
    return this.slots.keys();
  }

  get(id: Id): Row | undefined {
    const young = this.young.get(id);
    if (young) return young;
    const old = this.old.get(id);
    if (old) {
      this.remember(id, old);
      return old;
    }
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    const row = JSON.parse(this.readPayload(this.off[slot]!, this.len[slot]!)) as Row;
    this.remember(id, row);
    return row;
  }

  set(id: Id, row: Row): void {
    const json = JSON.stringify(row);
    const lb = rowBytes(id, row);
    const payloadOff = this.appendFrame(id, json, false, lb);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.allocSlot();
      this.slots.set(id, slot);
    } else {
      this.logicalBytes -= this.bytes[slot]!;
      this.liveBytes -= this.len[slot]!;
    }
    const payloadLen = this.end - payloadOff;
    this.off[slot] = payloadOff;
    this.len[slot] = payloadLen;
    this.bytes[slot] = lb;
    this.logicalBytes += lb;
    this.liveBytes += payloadLen;
    this.remember(id, row);
  }

  delete(id: Id): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.appendFrame(id, null, true, 0);
    this.forget(id, slot);
    return true;
  }

  *[Symbol.iterator](): Iterator<[Id, Row]> {
    for (const id of [...this.slots.keys()]) {
      const row = this.get(id);
      if (row) yield [id, row];
    }
  }

  /** Writes pending frames to the file (no fsync: the log is what is durable). */
  flush(): void {
    if (this.pendingLen === 0) return;
    let done = 0;
    while (done < this.pendingLen)
      done += writeSync(this.fd, this.pending, done, this.pendingLen - done, this.written + done);
    this.written += this.pendingLen;
    this.pendingLen = 0;
    if (this.pending.length > 4 * 1024 * 1024) this.pending = Buffer.allocUnsafe(64 * 1024);
  }

  /** Flushes and fsyncs; returns the segment length that is now safe to record in a checkpoint. */
  sync(): number {
    this.flush();
    fsyncSync(this.fd);
    return this.written;
  }

  /** True when most of the file is superseded versions and deleted documents. */
  wantsCompaction(minBytes = 16 * 1024 * 1024): boolean {
    return this.end > minBytes && this.liveBytes * 2 < this.end;
  }

  /**
   * Rewrites the live documents, in the order `ids` gives (id order, so that scans read the
   * file front to back), into `newPath`, fsyncs it and switches to it. The old file is left for
   * the caller to remove once a checkpoint names the new one.
   */
  compactTo(newPath: string, ids: Iterable<Id>): void {
    this.flush();
    const next = SegmentRows.open(newPath, 0, this.cacheRows);
    for (const id of ids) {
      const slot = this.slots.get(id);
      if (slot === undefined) continue;
      const payload = this.readPayload(this.off[slot]!, this.len[slot]!);
      const payloadOff = next.appendFrame(id, payload, false, this.bytes[slot]!);
      const ns = next.allocSlot();
      next.slots.set(id, ns);
      next.off[ns] = payloadOff;
      next.len[ns] = next.end - payloadOff;
      next.bytes[ns] = this.bytes[slot]!;
      next.logicalBytes += this.bytes[slot]!;
      next.liveBytes += next.len[ns]!;
      if (next.pendingLen > 4 * 1024 * 1024) next.flush();
    }
    next.sync();
    closeSync(this.fd);
    Object.assign(this, {
      path: next.path,
      fd: next.fd,
      written: next.written,
      slots: next.slots,
      off: next.off,
      len: next.len,
      bytes: next.bytes,
      freeSlots: next.freeSlots,
      nextSlot: next.nextSlot,
      logicalBytes: next.logicalBytes,
      liveBytes: next.liveBytes,
      blockStart: -1,
      blockLen: 0,
    });
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  /** Decoded rows held by the cache (at most cacheRows). */
  get cachedRows(): number {
    let n = this.young.size;
    for (const id of this.old.keys()) if (!this.young.has(id)) n++;
    return n;
  }

  private remember(id: Id, row: Row): void {
    if (this.cacheRows <= 0) return;
    this.young.set(id, row);
    if (this.young.size >= Math.max(1, this.cacheRows >> 1)) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  private forget(id: Id, slot: number): void {
    this.slots.delete(id);
    this.young.delete(id);
    this.old.delete(id);
    this.logicalBytes -= this.bytes[slot]!;
    this.liveBytes -= this.len[slot]!;
    this.freeSlots.push(slot);
  }

  private allocSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.nextSlot++;
    if (slot >= this.off.length) {
      const cap = this.off.length * 2;
      const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      this.off = grow(this.off, (n) => new Float64Array(n));
      this.len = grow(this.len, (n) => new Uint32Array(n));
      this.bytes = grow(this.bytes, (n) => new Uint32Array(n));
    }
    return slot;
  }

  /** Appends one frame to the pending buffer; returns the file offset of its payload. */
  private appendFrame(id: Id, payload: string | null, tombstone: boolean, logical: number): number {
    const idBytes = typeof id === 'number' ? 8 : 2 + Buffer.byteLength(id);
    const max = 9 + idBytes + (payload === null ? 0 : payload.length * 3);
    if (this.pendingLen + max > this.pending.length) {
      if (this.pendingLen > 0 && this.pendingLen + max > 4 * 1024 * 1024) this.flush();
      if (this.pendingLen + max > this.pending.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.pending.length * 2, this.pendingLen + max));
        this.pending.copy(bigger, 0, 0, this.pendingLen);
        this.pending = bigger;
      }
    }
    const buf = this.pending;
    const start = this.pendingLen;
    let p = start + 4;
    buf[p++] = typeof id === 'number' ? (tombstone ? TOMB_NUM : KIND_NUM) : tombstone ? TOMB_STR : KIND_STR;
    buf.writeUInt32LE(logical, p);
    p += 4;
    if (typeof id === 'number') {
      buf.writeDoubleLE(id, p);
      p += 8;
    } else {
      const n = buf.write(id, p + 2, 'utf8');
      buf.writeUInt16LE(n, p);
      p += 2 + n;
    }
    const payloadAt = p;
    if (payload !== null) p += buf.write(payload, p, 'utf8');
    buf.writeUInt32LE(p - start, start);
    this.pendingLen = p;
    return this.written + payloadAt;
  }

  private readPayload(off: number, len: number): string {
    if (off >= this.written) {
      const at = off - this.written;
      return this.pending.toString('utf8', at, at + len);
    }
    if (off >= this.blockStart && off + len <= this.blockStart + this.blockLen) {
      const at = off - this.blockStart;
      return this.block.toString('utf8', at, at + len);
    }
    // Reads that move forwards just past the last block are a scan: read ahead. Others read
    // only the frame, so random lookups do not pull a quarter megabyte each.
    const forward =
      this.blockStart >= 0 && off >= this.blockStart && off <= this.blockStart + this.blockLen + READ_AHEAD;
    const want = forward ? Math.max(len, READ_AHEAD) : len;
    if (this.block.length < want) this.block = Buffer.allocUnsafe(want);
    const n = readSync(this.fd, this.block, 0, want, off);
    if (n < len) throw new CorruptSegmentError(`${this.path}: short read at ${off} (${n} of ${len} bytes)`);
    this.blockStart = off;
    this.blockLen = n;
    return this.block.toString('utf8', 0, len);
  }

  /** Rebuilds the id index from the frames in the first `length` bytes of the file. */
  private indexFrames(length: number): void {
    let buf = Buffer.allocUnsafe(SCAN_CHUNK);
    let pos = 0;
    while (pos < length) {
      const want = Math.min(buf.length, length - pos);
      const n = readSync(this.fd, buf, 0, want, pos);
      if (n <= 0) throw new CorruptSegmentError(`${this.path}: ends at ${pos}, expected ${length} bytes`);
      let p = 0;
      while (p + 9 <= n) {
        const frameLen = buf.readUInt32LE(p);
        if (frameLen < 11) throw new CorruptSegmentError(`${this.path}: bad frame at byte ${pos + p}`);
        if (p + frameLen > n) break;
        const kind = buf[p + 4]!;
        const logical = buf.readUInt32LE(p + 5);
        let q = p + 9;
        let id: Id;
        if (kind === KIND_NUM || kind === TOMB_NUM) {
          id = buf.readDoubleLE(q);
          q += 8;
        } else if (kind === KIND_STR || kind === TOMB_STR) {
          const idLen = buf.readUInt16LE(q);
          id = buf.toString('utf8', q + 2, q + 2 + idLen);
          q += 2 + idLen;
        } else throw new CorruptSegmentError(`${this.path}: unknown frame kind ${kind} at byte ${pos + p}`);
        const existing = this.slots.get(id);
        if (kind === TOMB_NUM || kind === TOMB_STR) {
          if (existing !== undefined) this.forget(id, existing);
        } else {
          const payloadLen = frameLen - (q - p);
          const slot = existing ?? this.allocSlot();
          if (existing === undefined) this.slots.set(id, slot);
          else {
            this.logicalBytes -= this.bytes[slot]!;
            this.liveBytes -= this.len[slot]!;
          }
          this.off[slot] = pos + q;
          this.len[slot] = payloadLen;
          this.bytes[slot] = logical;
          this.logicalBytes += logical;
          this.liveBytes += payloadLen;
        }
        p += frameLen;
      }
      if (p === 0) {
        // One frame larger than the chunk: grow and reread.
        buf = Buffer.allocUnsafe(buf.length * 2);
        continue;
      }
      pos += p;
    }
  }
}
