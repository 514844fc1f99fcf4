// Write semantics through the official client: upsert/patch/delete by rows and columns,
// conditional writes with $ref_new, filter-based writes, the response shape, and atomicity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

async function all(ns: string): Promise<Record<string, unknown>[]> {
  const res = await h.tpuf
    .namespace(ns)
    .query({ rank_by: ['id', 'asc'], top_k: 10_000, include_attributes: true });
  return res.rows ?? [];
}

describe('upsert, patch and delete', () => {
  it('upsert replaces whole documents; patch writes only the given keys; null clears', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace());
    const first = await ns.write({
      upsert_rows: [
        { id: 1, a: 1, b: 1 },
        { id: 2, a: 2, b: 2 },
      ],
    });
    expect(first).toMatchObject({
      status: 'OK',
      rows_affected: 2,
      rows_upserted: 2,
      billing: { billable_logical_bytes_written: expect.any(Number) },
    });
    expect(first).not.toHaveProperty('rows_patched');
    expect(first).not.toHaveProperty('upserted_ids');

    await ns.write({ upsert_rows: [{ id: 1, a: 10 }] });
    const patched = await ns.write({
      patch_rows: [
        { id: 2, b: 20 },
        { id: 99, b: 1 },
      ],
      return_affected_ids: true,
    });
    expect(patched).toMatchObject({ rows_affected: 1, rows_patched: 1, patched_ids: [2] });
    await ns.write({ patch_rows: [{ id: 2, a: null }] });
    const rows = (await ns.query({ rank_by: ['id', 'asc'], top_k: 10, include_attributes: true })).rows;
    // Patching a missing id does not create it; the upsert dropped b; null removed a.
    expect(rows).toEqual([
      { id: 1, a: 10 },
      { id: 2, b: 20 },
    ]);
  });

  it('columns forms behave like rows', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_columns: { id: [1, 2, 3], color: ['red', null, 'blue'], n: [1, 2, 3] } });
    await ns.write({ patch_columns: { id: [1, 3], n: [100, 300] } });
    expect(await all(name)).toEqual([
      { id: 1, color: 'red', n: 100 },
      { id: 2, n: 2 },
      { id: 3, color: 'blue', n: 300 },
    ]);
  });

  it('deletes report only rows that existed, with ids when asked', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({
      upsert_rows: [
        { id: 'a', x: 1 },
        { id: 'b', x: 2 },
      ],
    });
    const res = await ns.write({ deletes: ['a', 'zzz'], return_affected_ids: true });
    expect(res).toMatchObject({ rows_affected: 1, rows_deleted: 1, deleted_ids: ['a'] });
    expect(await all(name)).toEqual([{ id: 'b', x: 2 }]);
  });

  it('mixes upserts, patches and deletes of different ids in one request', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({
      upsert_rows: [
        { id: 1, v: 1 },
        { id: 2, v: 2 },
        { id: 3, v: 3 },
      ],
    });
    const res = await ns.write({
      upsert_rows: [{ id: 4, v: 4 }],
      patch_rows: [{ id: 1, v: 11 }],
      deletes: [2],
    });
    expect(res).toMatchObject({ rows_affected: 3, rows_upserted: 1, rows_patched: 1, rows_deleted: 1 });
    expect(await all(name)).toEqual([
      { id: 1, v: 11 },
      { id: 3, v: 3 },
      { id: 4, v: 4 },
    ]);
  });

  it('delete_by_filter runs before patch_by_filter, which runs before writes by id', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({
      upsert_rows: [1, 2, 3, 4, 5].map((id) => ({ id, g: id % 2 === 0 ? 'even' : 'odd', n: id })),
    });
    const res = await ns.write({
      delete_by_filter: ['n', 'Gte', 5],
      patch_by_filter: { filters: ['g', 'Eq', 'odd'], patch: { flag: true } },
      return_affected_ids: true,
    });
    expect(res).toMatchObject({
      rows_deleted: 1,
      deleted_ids: [5],
      rows_patched: 2,
      patched_ids: [1, 3],
      rows_affected: 3,
    });
    expect(await all(name)).toEqual([
      { id: 1, g: 'odd', n: 1, flag: true },
      { id: 2, g: 'even', n: 2 },
      { id: 3, g: 'odd', n: 3, flag: true },
      { id: 4, g: 'even', n: 4 },
    ]);
  });

  it('vectors: write with a distance metric, read back, and cannot be patched', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await expect(ns.write({ upsert_rows: [{ id: 1, vector: [1, 0] }] })).rejects.toMatchObject({
      status: 400,
    });
    await ns.write({ upsert_rows: [{ id: 1, vector: [1, 0] }], distance_metric: 'cosine_distance' });
    await expect(ns.write({ patch_rows: [{ id: 1, vector: [0, 1] }] })).rejects.toThrow(/cannot be patched/);
    const schema = await ns.schema();
    expect(schema.vector).toMatchObject({ type: '[2]f32', ann: true });
  });
});

describe('conditional writes', () => {
  it('upsert_condition with $ref_new applies only newer versions, and always to missing ids', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({
      upsert_rows: [
        { id: 1, version: 5, v: 'old' },
        { id: 2, version: 5, v: 'old' },
      ],
    });
    const res = await ns.write({
      upsert_rows: [
        { id: 1, version: 4, v: 'stale' },
        { id: 2, version: 6, v: 'new' },
        { id: 3, version: 1, v: 'created' },
      ],
      upsert_condition: ['version', 'Lt', { $ref_new: 'version' }],
      return_affected_ids: true,
    });
    expect(res).toMatchObject({ rows_upserted: 2, rows_affected: 2, upserted_ids: [2, 3] });
    expect(res.billing.query).toBeDefined();
    expect((await all(name)).map((r) => r.v)).toEqual(['old', 'new', 'created']);
  });

  it('insert-if-missing is ["id", "Eq", null]', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, v: 'first' }] });
    const res = await ns.write({
      upsert_rows: [
        { id: 1, v: 'second' },
        { id: 2, v: 'second' },
      ],
      upsert_condition: ['id', 'Eq', null],
    });
    expect(res.rows_upserted).toBe(1);
    expect((await all(name)).map((r) => r.v)).toEqual(['first', 'second']);
  });

  it('patch_condition is checked against the current document; missing ids are skipped', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({
      upsert_rows: [
        { id: 1, status: 'pending' },
        { id: 2, status: 'done' },
      ],
    });
    const res = await ns.write({
      patch_rows: [
        { id: 1, status: 'running' },
        { id: 2, status: 'running' },
        { id: 3, status: 'running' },
      ],
      patch_condition: ['status', 'Eq', 'pending'],
    });
    expect(res).toMatchObject({ rows_patched: 1, rows_affected: 1 });
    expect((await all(name)).map((r) => r.status)).toEqual(['running', 'done']);
  });

  it('delete_condition: $ref_new reads as null', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, keep: true }, { id: 2 }] });
    const res = await ns.write({ deletes: [1, 2], delete_condition: ['keep', 'Eq', { $ref_new: 'keep' }] });
    expect(res.rows_deleted).toBe(1);
    expect(await all(name)).toEqual([{ id: 1, keep: true }]);
  });

  it('patch_condition cannot be combined with patch_by_filter', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, a: 1 }] });
    await expect(
      ns.write({
        patch_by_filter: { filters: ['a', 'Eq', 1], patch: { a: 2 } },
        patch_condition: ['a', 'Eq', 1],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('atomicity and validation', () => {
  it('a request that fails validation changes nothing', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, n: 1 }] });
    // Row 2 is valid, row 3 has the wrong type: neither is written, nor is the delete applied.
    await expect(
      ns.write({
        upsert_rows: [
          { id: 2, n: 2 },
          { id: 3, n: 'three' },
        ],
        deletes: [1],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/attribute 'n'.*int/) });
    expect(await all(name)).toEqual([{ id: 1, n: 1 }]);
  });

  it('the same id twice in one request is a 400', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace());
    await expect(ns.write({ upsert_rows: [{ id: 1 }], deletes: [1] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('duplicate document id 1'),
    });
  });

  it('rejects unknown fields with 422 and invalid ids with 400', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace());
    await expect(ns.write({ upsert_rowz: [] } as never)).rejects.toMatchObject({ status: 422 });
    await expect(ns.write({ upsert_rows: [{ id: -1 }] })).rejects.toMatchObject({ status: 400 });
    await expect(ns.write({ upsert_rows: [{ id: 'x'.repeat(65) }] })).rejects.toMatchObject({ status: 400 });
  });

  it('declared types: uuid ids, datetimes round-trip as RFC 3339 and filter by time', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    const id = '0190A5B2-7C3D-7E8F-9A0B-1C2D3E4F5A6B';
    await ns.write({
      schema: { id: 'uuid', at: 'datetime' },
      upsert_rows: [{ id, at: '2025-01-02T03:04:05Z' }],
    });
    const res = await ns.query({
      rank_by: ['id', 'asc'],
      top_k: 1,
      include_attributes: true,
      filters: ['at', 'Gt', '2025-01-01'],
    });
    expect(res.rows).toEqual([{ id: id.toLowerCase(), at: '2025-01-02T03:04:05.000Z' }]);
    await expect(ns.write({ upsert_rows: [{ id: 'not-a-uuid' }] })).rejects.toMatchObject({ status: 400 });
  });

  it('patch_by_filter over its cap fails unless allow_partial', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    // The cap is 50k rows; write just over it in two requests.
    for (let start = 0; start <= 50_000; start += 25_001) {
      const rows = Array.from({ length: Math.min(25_001, 50_001 - start) }, (_, i) => ({
        id: start + i,
        g: 1,
      }));
      await ns.write({ upsert_rows: rows });
    }
    await expect(
      ns.write({ patch_by_filter: { filters: ['g', 'Eq', 1], patch: { g: 2 } } }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await h.store.countRows(name, ['g', 'Eq', 2])).toBe(0);
    const res = await ns.write({
      patch_by_filter: { filters: ['g', 'Eq', 1], patch: { g: 2 } },
      patch_by_filter_allow_partial: true,
    });
    expect(res).toMatchObject({ rows_patched: 50_000, rows_remaining: true });
    expect(await h.store.countRows(name, ['g', 'Eq', 1])).toBe(1);
  });
});
