// Durability and concurrency: data written before close() is there after reopening the same
// data directory (through the log, through a snapshot, and past a torn log tail), and concurrent
// writers never lose an update.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

const dirs: string[] = [];
const open: Harness[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'layer-store-'));
  dirs.push(d);
  return d;
}
async function start(dir: string, minSnapshotWalBytes?: number): Promise<Harness> {
  const h = await startHarness({ dataDir: dir, ...(minSnapshotWalBytes ? { minSnapshotWalBytes } : {}) });
  open.push(h);
  return h;
}
async function stop(h: Harness): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.server.close();
}
afterEach(async () => {
  for (const h of open.splice(0)) await h.server.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function dump(h: Harness, ns: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  let afterId: string | number | null = null;
  do {
    const page = await h.store.scanPage({ namespace: ns, afterId, limit: 5000, attributes: true });
    rows.push(...page.rows);
    afterId = page.nextAfterId;
  } while (afterId !== null);
  return rows;
}

describe('persistence', () => {
  it('survives a restart: rows, deletes, patches, schema and metadata', async () => {
    const dir = dataDir();
    const a = await start(dir);
    const ns = a.tpuf.namespace('catalog');
    await ns.write({
      schema: { at: 'datetime' },
      upsert_rows: [
        { id: 1, at: '2025-01-01T00:00:00Z', n: 1 },
        { id: 2, n: 2 },
        { id: 3, n: 3 },
      ],
    });
    await ns.write({ deletes: [2], patch_rows: [{ id: 3, n: 30 }] });
    await a.tpuf.namespace('gone').write({ upsert_rows: [{ id: 1 }] });
    await a.tpuf.namespace('gone').deleteAll();
    const before = await ns.metadata();
    await stop(a);

    const b = await start(dir);
    expect(await dump(b, 'catalog')).toEqual([
      { id: 1, at: '2025-01-01T00:00:00.000Z', n: 1 },
      { id: 3, n: 30 },
    ]);
    expect(await b.tpuf.namespace('gone').exists()).toBe(false);
    const after = await b.tpuf.namespace('catalog').metadata();
    expect(after.schema).toEqual(before.schema);
    expect(after.created_at).toBe(before.created_at);
  });

  it('snapshots and truncates the log, then replays snapshot + log', async () => {
    const dir = dataDir();
    const a = await start(dir, 64 * 1024); // snapshot after ~64 KiB of log
    const name = uniqueNamespace();
    for (let batch = 0; batch < 10; batch++) {
      const rows = Array.from({ length: 500 }, (_, i) => ({
        id: batch * 500 + i,
        text: `row ${batch}-${i}`,
        batch,
      }));
      await a.store.upsertRows(name, rows);
    }
    await a.store.deleteRows(name, [0, 1, 2]);
    const nsDir = join(dir, 'namespaces', `ns-${name}`);
    expect(readdirSync(nsDir)).toContain('snapshot.jsonl');
    expect(statSync(join(nsDir, 'wal.jsonl')).size).toBeLessThan(64 * 1024);
    await stop(a);

    const b = await start(dir);
    expect(await b.store.countRows(name)).toBe(4997);
    expect(await b.store.countRows(name, ['batch', 'Eq', 9])).toBe(500);
    // Every row, value for value, from snapshot + log: not only how many.
    const expected = Array.from({ length: 5000 }, (_, id) => ({
      id,
      text: `row ${Math.floor(id / 500)}-${id % 500}`,
      batch: Math.floor(id / 500),
    })).filter((r) => r.id > 2);
    expect(await dump(b, name)).toEqual(expected);
  });

  it('reads a data directory from before segments (v1 snapshot of JSON rows + log) and converts it', async () => {
    const dir = dataDir();
    const nsDir = join(dir, 'namespaces', 'ns-old');
    mkdirSync(nsDir, { recursive: true });
    const meta = { createdAt: Date.parse('2025-01-01T00:00:00Z'), updatedAt: 1, lastWriteAt: 1 };
    const schema = [
      ['id', { type: 'uint' }],
      ['v', { type: 'string' }],
    ];
    writeFileSync(
      join(nsDir, 'snapshot.jsonl'),
      [
        JSON.stringify({ v: 1, name: 'old', meta, schema, rows: 2 }),
        '[1,{"v":"one"}]',
        '[2,{"v":"two"}]',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(nsDir, 'wal.jsonl'),
      JSON.stringify({ at: 2, schema, put: [[3, { v: 'three' }]], del: [1] }) + '\n',
    );
    const a = await start(dir);
    expect(await dump(a, 'old')).toEqual([
      { id: 2, v: 'two' },
      { id: 3, v: 'three' },
    ]);
    expect((await a.tpuf.namespace('old').metadata()).created_at).toBe('2025-01-01T00:00:00.000Z');
    await stop(a);
    // Converted: a segment now holds the rows and the log is empty; it reopens the same.
    expect(readdirSync(nsDir)).toContain('rows-0.seg');
    expect(statSync(join(nsDir, 'wal.jsonl')).size).toBe(0);
    const b = await start(dir);
    expect(await dump(b, 'old')).toEqual([
      { id: 2, v: 'two' },
      { id: 3, v: 'three' },
    ]);
  });

  it('cuts off a torn last log record (a crash mid-append) and keeps everything before it', async () => {
    const dir = dataDir();
    const a = await start(dir);
    await a.store.upsertRows('torn', [{ id: 1, v: 'kept' }]);
    await stop(a);
    appendFileSync(join(dir, 'namespaces', 'ns-torn', 'wal.jsonl'), '{"at":1,"schema":[["id",{"type":"ui');
    const b = await start(dir);
    expect(await dump(b, 'torn')).toEqual([{ id: 1, v: 'kept' }]);
    await b.store.upsertRows('torn', [{ id: 2, v: 'after' }]);
    await stop(b);
    const c = await start(dir);
    expect(await dump(c, 'torn')).toEqual([
      { id: 1, v: 'kept' },
      { id: 2, v: 'after' },
    ]);
  });
});

describe('durability across SIGKILL', () => {
  it('every acknowledged write is there after the store process is killed mid-stream', async () => {
    const dir = dataDir();
    const bin = fileURLToPath(new URL('../../../bin/layer.js', import.meta.url));
    // Checkpoint every ~32 KiB of log so the kill can land around a checkpoint and compaction.
    const child = spawn(
      process.execPath,
      [bin, 'store', 'serve', '--data', dir, '--port', '0', '--checkpoint-bytes', String(32 * 1024)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`store exited with ${code} before listening`)));
    });
    const client = createStoreClient({ baseUrl: url, apiKey: 'k', maxRetries: 0 });
    // Overwrite the same 200 ids again and again (old versions become garbage to compact); the
    // acknowledged generation of each id is what must survive.
    const acked = new Map<number, number>();
    let killed = false;
    const writer = (async () => {
      for (let gen = 0; !killed; gen++) {
        const rows = Array.from({ length: 200 }, (_, i) => ({ id: i, gen, text: `g${gen} `.repeat(20) }));
        try {
          await client.upsertRows('killed', rows);
        } catch {
          return;
        }
        for (const r of rows) acked.set(r.id, gen);
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    killed = true;
    child.kill('SIGKILL');
    await writer;
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
    expect(acked.size).toBe(200);
    // The run went through checkpoints that compacted the segment (rows-1.seg or later).
    expect(
      readdirSync(join(dir, 'namespaces', 'ns-killed')).some((f) => /^rows-[1-9]\d*\.seg$/.test(f)),
    ).toBe(true);

    const h = await start(dir);
    const rows = (await dump(h, 'killed')) as { id: number; gen: number }[];
    expect(rows).toHaveLength(200);
    // A write the client saw acknowledged is there; one in flight at the kill may be too.
    for (const r of rows) expect(r.gen === acked.get(r.id) || r.gen === acked.get(r.id)! + 1).toBe(true);
    // One request is atomic: all 200 rows carry the same generation.
    expect(new Set(rows.map((r) => r.gen)).size).toBe(1);
  });
});

describe('concurrent writers', () => {
  it('many parallel writers to one namespace: every row lands', async () => {
    const dir = dataDir();
    const h = await start(dir);
    const name = uniqueNamespace();
    await Promise.all(
      Array.from({ length: 20 }, (_, w) =>
        h.store.upsertRows(
          name,
          Array.from({ length: 100 }, (_, i) => ({ id: w * 100 + i, writer: w })),
        ),
      ),
    );
    expect(await h.store.countRows(name)).toBe(2000);
    // Each row is exactly the one its writer sent.
    expect(await dump(h, name)).toEqual(
      Array.from({ length: 2000 }, (_, id) => ({ id, writer: Math.floor(id / 100) })),
    );
  });

  it('compare-and-set increments with $ref_new never lose an update', async () => {
    const h = await start(dataDir());
    const name = uniqueNamespace();
    await h.store.upsertRows(name, [{ id: 1, counter: 0 }]);
    const increment = async (): Promise<number> => {
      let attempts = 0;
      for (;;) {
        attempts++;
        const res = await h.store.query(name, {
          rank_by: ['id', 'asc'],
          top_k: 1,
          include_attributes: ['counter'],
        });
        const current = res.rows![0]!.counter as number;
        const w = await h.store.patchRows(
          name,
          [{ id: 1, counter: current + 1 }],
          ['counter', 'Lt', { $ref_new: 'counter' }],
        );
        if (w.rows_patched === 1) return attempts;
      }
    };
    const attempts = await Promise.all(Array.from({ length: 12 }, increment));
    const final = await h.store.query(name, {
      rank_by: ['id', 'asc'],
      top_k: 1,
      include_attributes: ['counter'],
    });
    expect(final.rows![0]!.counter).toBe(12);
    // The conditions really raced: some writers had to retry.
    expect(attempts.some((a) => a > 1)).toBe(true);
  });

  it('concurrent patches of different attributes of one row all survive', async () => {
    const h = await start(dataDir());
    const name = uniqueNamespace();
    await h.store.upsertRows(name, [{ id: 7 }]);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => h.store.patchRows(name, [{ id: 7, [`f${i}`]: i }])),
    );
    const res = await h.store.query(name, { rank_by: ['id', 'asc'], top_k: 1, include_attributes: true });
    expect(Object.keys(res.rows![0]!)).toHaveLength(31);
  });
});
