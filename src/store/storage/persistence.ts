// Durable storage for namespaces. One directory per namespace holds:
//   wal.jsonl      one line per acknowledged write: the resolved documents it put and the ids it
//                  removed, plus the schema after it. Appended and fdatasync'd before the server
//                  answers: this is what makes an acknowledged write survive a crash.
//   rows-<n>.seg   the documents themselves, an append-only segment (rows.ts) written as writes
//                  apply but not fsync'd per write; memory holds only an id → offset index.
//   snapshot.jsonl a checkpoint: one header line naming the segment and the length of it that
//                  was fsync'd, with the schema and metadata at that point.
// A checkpoint (when the log outgrows its threshold) fsyncs the segment, optionally compacts it
// into rows-<n+1>.seg, writes the header atomically (tmp + rename) and then empties the log.
// Opening cuts the segment back to the checkpointed length and replays the log on top. Log
// records are absolute (whole documents, whole schema), so replaying one twice is harmless: this
// is what makes a crash between "checkpoint renamed" and "log truncated" safe. A torn last log
// line (a crash mid-append) is cut off on open; a bad line anywhere else refuses to start rather
// than lose data silently. A v1 snapshot (every row as a JSON line, from before segments) is
// read once and rewritten as a segment checkpoint. See docs/adr/0044-disk-backed-rows.md.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { LayerError } from '../../../packages/worker/src/util/errors.js';
import type { Id } from './ids.js';
import type { Row, AttrSchema } from './schema.js';
import { NamespaceState, type NamespaceMeta } from './namespace.js';
import { SegmentRows } from './rows.js';

export interface WalRecord {
  at: number;
  created?: number;
  schema: [string, AttrSchema][];
  dm?: string | null;
  pinning?: unknown;
  sharding?: { num_shards: number };
  /** `metadata`: a configuration change (pinning) that is neither data nor schema. */
  kind?: 'metadata';
  put: [Id, Row][];
  del: Id[];
}

interface SnapshotHeader {
  /** 1: rows follow as JSON lines (legacy); 2: rows are in `segment`. */
  v: 1 | 2;
  name: string;
  meta: NamespaceMeta;
  schema: [string, AttrSchema][];
  rows: number;
  segment?: string;
  /** Bytes of `segment` that were fsync'd when this checkpoint was written. */
  segmentBytes?: number;
}

export class CorruptDataError extends LayerError {}

export class DiskPersistence {
  private readonly wals = new Map<string, { fh: FileHandle; bytes: number }>();
  private readonly segments = new Map<string, SegmentRows>();

  constructor(
    readonly dataDir: string,
    /** Checkpoint once the log outgrows this. */
    readonly minSnapshotWalBytes = 64 * 1024 * 1024,
    /** Decoded rows kept in each namespace's cache. */
    readonly cacheRows?: number,
  ) {}

  /** A new, empty namespace backed by a segment; call after its first log record is appended. */
  create(name: string, meta: NamespaceMeta): NamespaceState {
    return new NamespaceState(name, meta, this.openSegment(name, 'rows-0.seg', 0));
  }

  private openSegment(name: string, file: string, committed: number): SegmentRows {
    this.segments.get(name)?.close();
    const seg = SegmentRows.open(join(this.dir(name), file), committed, this.cacheRows);
    this.segments.set(name, seg);
    return seg;
  }

  private dir(name: string): string {
    return join(this.dataDir, 'namespaces', `ns-${name}`);
  }

  async loadAll(): Promise<NamespaceState[]> {
    const root = join(this.dataDir, 'namespaces');
    await mkdir(root, { recursive: true });
    const out: NamespaceState[] = [];
    for (const entry of await readdir(root)) {
      if (!entry.startsWith('ns-')) {
        if (entry.startsWith('.trash-')) await rm(join(root, entry), { recursive: true, force: true });
        continue;
      }
      const ns = await this.load(entry.slice(3));
      if (ns) out.push(ns);
    }
    return out;
  }

  private async load(name: string): Promise<NamespaceState | undefined> {
    const dir = this.dir(name);
    let ns: NamespaceState | undefined;
    let legacy = false;
    const snapPath = join(dir, 'snapshot.jsonl');
    const exists = await stat(snapPath).then(
      () => true,
      () => false,
    );
    if (exists) {
      const lines = createInterface({ input: createReadStream(snapPath), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!ns) {
          const h = JSON.parse(line) as SnapshotHeader;
          const v2 = h.v === 2 && h.segment !== undefined;
          ns = new NamespaceState(
            name,
            h.meta,
            this.openSegment(name, v2 ? h.segment! : 'rows-0.seg', v2 ? (h.segmentBytes ?? 0) : 0),
          );
          ns.schema = new Map(h.schema);
          if (!v2) legacy = true;
          else break;
          continue;
        }
        if (line.length === 0) continue;
        const [id, row] = JSON.parse(line) as [Id, Row];
        ns.put(id, row);
      }
      lines.close();
    }
    const walPath = join(dir, 'wal.jsonl');
    const buf = await readFile(walPath).catch(() => Buffer.alloc(0));
    let start = 0;
    let good = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(10, start);
      const end = nl < 0 ? buf.length : nl;
      let rec: WalRecord | undefined;
      try {
        rec = nl < 0 ? undefined : (JSON.parse(buf.toString('utf8', start, end)) as WalRecord);
      } catch {
        rec = undefined;
      }
      if (!rec) {
        if (nl >= 0 && buf.indexOf(10, nl + 1) >= 0) {
          throw new CorruptDataError(`${walPath}: unreadable record at byte ${start}; refusing to start`);
        }
        break; // torn tail from a crash mid-append
      }
      ns ??= new NamespaceState(
        name,
        { createdAt: rec.created ?? rec.at, updatedAt: rec.at, lastWriteAt: rec.at },
        this.openSegment(name, 'rows-0.seg', 0),
      );
      applyRecord(ns, rec);
      start = end + 1;
      good = start;
    }
    const fh = await open(walPath, 'a');
    if (good < buf.length) {
      await fh.truncate(good);
      await fh.datasync();
    }
    this.wals.set(name, { fh, bytes: good });
    if (!ns) {
      await fh.close();
      this.wals.delete(name);
      await rm(dir, { recursive: true, force: true });
      return undefined;
    }
    segmentOf(ns).flush();
    if (legacy) await this.snapshot(ns);
    return ns;
  }

  /** Appends one record and waits until it is on disk. Returns true when a snapshot is due. */
  async append(name: string, rec: WalRecord): Promise<boolean> {
    let wal = this.wals.get(name);
    if (!wal) {
      await mkdir(this.dir(name), { recursive: true });
      await syncDir(join(this.dataDir, 'namespaces'));
      wal = { fh: await open(join(this.dir(name), 'wal.jsonl'), 'a'), bytes: 0 };
      this.wals.set(name, wal);
    }
    const line = Buffer.from(JSON.stringify(rec) + '\n');
    await wal.fh.write(line, 0, line.length);
    await wal.fh.datasync();
    wal.bytes += line.length;
    return wal.bytes > this.minSnapshotWalBytes;
  }

  /**
   * Checkpoints `ns`: fsyncs (and, when mostly garbage, compacts) its segment, records it in
   * snapshot.jsonl and empties the log. The caller holds the namespace's write lock.
   */
  async snapshot(ns: NamespaceState): Promise<void> {
    const dir = this.dir(ns.name);
    const seg = segmentOf(ns);
    let oldPath: string | undefined;
    // Compaction waits for 16 MiB of segment (or one log's worth, when checkpoints are tighter).
    if (seg.wantsCompaction(Math.min(16 * 1024 * 1024, this.minSnapshotWalBytes))) {
      oldPath = seg.path;
      const gen = Number(/rows-(\d+)\.seg$/.exec(seg.path)?.[1] ?? 0) + 1;
      seg.compactTo(join(dir, `rows-${gen}.seg`), ns.ids.ascending());
    }
    const segmentBytes = seg.sync();
    const header: SnapshotHeader = {
      v: 2,
      name: ns.name,
      meta: ns.meta,
      schema: [...ns.schema],
      rows: ns.rows.size,
      segment: basename(seg.path),
      segmentBytes,
    };
    const tmp = join(dir, 'snapshot.jsonl.tmp');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(header) + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, 'snapshot.jsonl'));
    await syncDir(dir);
    if (oldPath) await rm(oldPath, { force: true });
    const wal = this.wals.get(ns.name);
    if (wal) {
      await wal.fh.truncate(0);
      await wal.fh.datasync();
      wal.bytes = 0;
    }
  }

  async drop(name: string): Promise<void> {
    const wal = this.wals.get(name);
    this.wals.delete(name);
    this.segments.get(name)?.close();
    this.segments.delete(name);
    await wal?.fh.close();
    const trash = join(
      this.dataDir,
      'namespaces',
      `.trash-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    );
    await rename(this.dir(name), trash).catch(() => undefined);
    await syncDir(join(this.dataDir, 'namespaces'));
    await rm(trash, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const { fh } of this.wals.values()) await fh.close();
    this.wals.clear();
    for (const seg of this.segments.values()) seg.close();
    this.segments.clear();
  }
}

function segmentOf(ns: NamespaceState): SegmentRows {
  if (!(ns.rows instanceof SegmentRows)) throw new Error(`namespace ${ns.name} is not disk-backed`);
  return ns.rows;
}

export function applyRecord(ns: NamespaceState, rec: WalRecord): void {
  ns.schema = new Map(rec.schema);
  if (rec.dm !== undefined) ns.meta.distanceMetric = rec.dm ?? undefined;
  if (rec.pinning !== undefined) ns.meta.pinning = rec.pinning;
  if (rec.sharding) ns.meta.sharding = rec.sharding;
  for (const [id, row] of rec.put) ns.put(id, row);
  for (const id of rec.del) ns.put(id, null);
  if (ns.rows instanceof SegmentRows) ns.rows.flush();
  // updated_at follows data and schema; a metadata-only change (pinning) leaves it alone.
  if (rec.kind !== 'metadata') ns.meta.updatedAt = rec.at;
  if (rec.put.length || rec.del.length) ns.meta.lastWriteAt = rec.at;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.datasync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}
