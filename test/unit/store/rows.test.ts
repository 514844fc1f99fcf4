// The disk-backed row table on its own: what a reopened segment holds (latest version per id,
// tombstones honoured, pending frames readable before a flush), that it is cut back to the
// checkpointed length, that compaction keeps every live row in id order, and that the decoded
// row cache stays bounded.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRows, rowBytes, SegmentRows } from '../../../src/store/storage/rows.js';
import { NamespaceState } from '../../../src/store/storage/namespace.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'layer-rows-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SegmentRows', () => {
  it('reads back the latest version of each row, before and after a flush, and after reopening', () => {
    const path = join(tmp(), 'rows-0.seg');
    const a = SegmentRows.open(path, 0);
    a.set(1, { t: 'one' });
    a.set('k-é', { t: 'unicode id', v: [1.5, 2] });
    a.set(2, { t: 'two' });
    a.set(1, { t: 'one again', n: 7 });
    expect(a.get(1)).toEqual({ t: 'one again', n: 7 }); // still pending, not in the file
    expect(a.delete(2)).toBe(true);
    expect(a.delete(2)).toBe(false);
    const end = a.sync();
    expect(statSync(path).size).toBe(end);
    a.close();

    const b = SegmentRows.open(path, end, 0); // no cache: every read decodes from the file
    expect(b.size).toBe(2);
    expect(b.get(1)).toEqual({ t: 'one again', n: 7 });
    expect(b.get('k-é')).toEqual({ t: 'unicode id', v: [1.5, 2] });
    expect(b.get(2)).toBeUndefined();
    expect([...b.keys()].sort()).toEqual([1, 'k-é']);
    expect(b.logicalBytes).toBe(
      rowBytes(1, { t: 'one again', n: 7 }) + rowBytes('k-é', { t: 'unicode id', v: [1.5, 2] }),
    );
    b.close();
  });

  it('cuts the file back to the checkpointed length: later frames are the log replay’s to redo', () => {
    const path = join(tmp(), 'rows-0.seg');
    const a = SegmentRows.open(path, 0);
    a.set(1, { v: 'checkpointed' });
    const committed = a.sync();
    a.set(1, { v: 'after the checkpoint' });
    a.set(2, { v: 'after the checkpoint' });
    a.close();
    const b = SegmentRows.open(path, committed);
    expect(statSync(path).size).toBe(committed);
    expect([...b]).toEqual([[1, { v: 'checkpointed' }]]);
    b.close();
  });

  it('compacts live rows into a new file in the order given, dropping old versions and deletes', () => {
    const dir = tmp();
    const a = SegmentRows.open(join(dir, 'rows-0.seg'), 0);
    for (let round = 0; round < 5; round++) for (let id = 9; id >= 0; id--) a.set(id, { round, id });
    for (const id of [3, 4]) a.delete(id);
    const before = a.end;
    const order = [0, 1, 2, 5, 6, 7, 8, 9];
    a.compactTo(join(dir, 'rows-1.seg'), order);
    expect(a.path).toBe(join(dir, 'rows-1.seg'));
    expect(a.end).toBeLessThan(before / 4);
    const end = a.sync();
    a.close();
    const b = SegmentRows.open(join(dir, 'rows-1.seg'), end, 0);
    // Frames are in the given order, so iterating the reopened file yields them in that order.
    expect([...b]).toEqual(order.map((id) => [id, { round: 4, id }]));
    b.close();
  });

  it('keeps at most cacheRows decoded rows and still answers every id', () => {
    const path = join(tmp(), 'rows-0.seg');
    const a = SegmentRows.open(path, 0, 4);
    for (let id = 0; id < 100; id++) a.set(id, { id, pad: 'x'.repeat(id) });
    a.flush();
    for (let id = 99; id >= 0; id--) expect(a.get(id)).toEqual({ id, pad: 'x'.repeat(id) });
    expect(a.cachedRows).toBeLessThanOrEqual(4);
    expect(a.cachedRows).toBeGreaterThan(0);
    a.close();
  });

  it('a namespace over a reopened segment has its ids in order', () => {
    const path = join(tmp(), 'rows-0.seg');
    const a = SegmentRows.open(path, 0);
    for (const id of ['b', 30, 'a', 2, 100]) a.set(id, { id });
    const end = a.sync();
    a.close();
    const ns = new NamespaceState(
      'n',
      { createdAt: 0, updatedAt: 0, lastWriteAt: 0 },
      SegmentRows.open(path, end),
    );
    expect([...ns.ids.ascending()]).toEqual([2, 30, 100, 'a', 'b']);
    (ns.rows as SegmentRows).close();
  });
});

describe('MemoryRows', () => {
  it('tracks logical bytes through replace and delete', () => {
    const m = new MemoryRows();
    m.set(1, { a: 'xy' });
    m.set(1, { a: 'xyz' });
    m.set(2, { b: 1 });
    expect(m.logicalBytes).toBe(rowBytes(1, { a: 'xyz' }) + rowBytes(2, { b: 1 }));
    m.delete(1);
    expect(m.logicalBytes).toBe(rowBytes(2, { b: 1 }));
  });
});
