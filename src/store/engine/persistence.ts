// Durable storage for namespaces: one directory per namespace holding `snapshot.jsonl` (a header
// line, then one `[id, row]` line per document in id order) and `wal.jsonl` (one line per
// acknowledged write: the resolved documents it put and the ids it removed, plus the schema
// after it). A write is appended and fdatasync'd before the server answers. Records are absolute
// (whole documents, whole schema), so replaying a record twice is harmless: this is what makes a
// crash between "snapshot renamed" and "log truncated" safe. A torn last line (a crash mid-append)
// is cut off on open; a bad line anywhere else refuses to start rather than lose data silently.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LayerError } from '../../util/errors.js';
import type { Id } from './ids.js';
import type { Row } from './filter.js';
import { NamespaceState, type NamespaceMeta } from './namespace.js';
import type { AttrSchema } from './schema.js';

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
  v: 1;
  name: string;
  meta: NamespaceMeta;
  schema: [string, AttrSchema][];
  rows: number;
}

export class CorruptDataError extends LayerError {}

const SNAPSHOT_BATCH = 5_000;

export class DiskPersistence {
  private readonly wals = new Map<string, { fh: FileHandle; bytes: number }>();
  private readonly snapshotBytes = new Map<string, number>();

  constructor(
    readonly dataDir: string,
    /** Snapshot once the log outgrows max(this, the last snapshot's size). */
    readonly minSnapshotWalBytes = 64 * 1024 * 1024,
  ) {}

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
    const snapPath = join(dir, 'snapshot.jsonl');
    const snapSize = await stat(snapPath).then(
      (s) => s.size,
      () => -1,
    );
    if (snapSize >= 0) {
      const lines = createInterface({ input: createReadStream(snapPath), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!ns) {
          const h = JSON.parse(line) as SnapshotHeader;
          ns = new NamespaceState(name, h.meta);
          ns.schema = new Map(h.schema);
          continue;
        }
        if (line.length === 0) continue;
        const [id, row] = JSON.parse(line) as [Id, Row];
        ns.put(id, row);
      }
      this.snapshotBytes.set(name, snapSize);
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
      ns ??= new NamespaceState(name, {
        createdAt: rec.created ?? rec.at,
        updatedAt: rec.at,
        lastWriteAt: rec.at,
      });
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
    }
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
    return wal.bytes > Math.max(this.minSnapshotWalBytes, this.snapshotBytes.get(name) ?? 0);
  }

  /** Writes a full snapshot of `ns` and empties its log. The caller holds the namespace's write lock. */
  async snapshot(ns: NamespaceState): Promise<void> {
    const dir = this.dir(ns.name);
    const tmp = join(dir, 'snapshot.jsonl.tmp');
    const fh = await open(tmp, 'w');
    let bytes = 0;
    try {
      const header: SnapshotHeader = {
        v: 1,
        name: ns.name,
        meta: ns.meta,
        schema: [...ns.schema],
        rows: ns.rows.size,
      };
      const write = async (s: string): Promise<void> => {
        const b = Buffer.from(s);
        await fh.write(b, 0, b.length);
        bytes += b.length;
      };
      await write(JSON.stringify(header) + '\n');
      let batch: string[] = [];
      for (const id of ns.ids.ascending()) {
        batch.push(JSON.stringify([id, ns.rows.get(id)]));
        if (batch.length >= SNAPSHOT_BATCH) {
          await write(batch.join('\n') + '\n');
          batch = [];
        }
      }
      if (batch.length) await write(batch.join('\n') + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, 'snapshot.jsonl'));
    await syncDir(dir);
    this.snapshotBytes.set(ns.name, bytes);
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
    this.snapshotBytes.delete(name);
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
  }
}

export function applyRecord(ns: NamespaceState, rec: WalRecord): void {
  ns.schema = new Map(rec.schema);
  if (rec.dm !== undefined) ns.meta.distanceMetric = rec.dm ?? undefined;
  if (rec.pinning !== undefined) ns.meta.pinning = rec.pinning;
  if (rec.sharding) ns.meta.sharding = rec.sharding;
  for (const [id, row] of rec.put) ns.put(id, row);
  for (const id of rec.del) ns.put(id, null);
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
