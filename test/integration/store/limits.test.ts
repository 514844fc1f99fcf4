// The service's documented limits (turbopuffer.md §10) held by the embedded store, through the
// official client: attribute names per namespace, attribute value size, and the attribute
// lists a query may name. Each refusal is a 400 with a message naming the limit and the fix.
import { BadRequestError } from '@turbopuffer/turbopuffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

const MiB = 1024 * 1024;

function wideRow(id: number, names: number, prefix = 'a'): { id: number } & Record<string, unknown> {
  const row: { id: number } & Record<string, unknown> = { id };
  for (let i = 0; i < names; i++) row[`${prefix}${i}`] = i;
  return row;
}

describe('include_attributes is bounded by the attribute limit', () => {
  it('200,000 names are refused with a 400 before any row is read, and the store keeps answering', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('include'));
    await ns.write({ upsert_rows: Array.from({ length: 2_000 }, (_, i) => ({ id: i, title: `t${i}` })) });
    const names = Array.from({ length: 200_000 }, (_, i) => `missing_${i}`);
    const err = await ns
      .query({ rank_by: ['id', 'asc'], top_k: 2_000, include_attributes: names })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(
      /include_attributes: more than 1025 distinct names \(200000 given\); a namespace holds at most 1024/,
    );
    // Another request right after is answered at once.
    const res = await ns.query({ rank_by: ['id', 'asc'], top_k: 1, include_attributes: ['title'] });
    expect(res.rows).toEqual([{ id: 0, title: 't0' }]);
  });

  it('a long list of repeated names is de-duplicated, not refused', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('dedup'));
    await ns.write({ upsert_rows: [{ id: 1, title: 'x', n: 2 }] });
    const names = Array.from({ length: 50_000 }, (_, i) => (i % 2 ? 'title' : 'n'));
    const res = await ns.query({ rank_by: ['id', 'asc'], top_k: 1, include_attributes: names });
    expect(res.rows).toEqual([{ id: 1, title: 'x', n: 2 }]);
  });

  it('exclude_attributes is bounded the same way', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('exclude'));
    await ns.write({ upsert_rows: [{ id: 1, title: 'x' }] });
    const names = Array.from({ length: 5_000 }, (_, i) => `missing_${i}`);
    await expect(ns.query({ rank_by: ['id', 'asc'], top_k: 1, exclude_attributes: names })).rejects.toThrow(
      /exclude_attributes: more than 1025 distinct names/,
    );
  });
});

describe('attribute names per namespace', () => {
  it('1,024 names are accepted; the 1,025th is refused with a 400 and nothing is written', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('names'));
    await ns.write({ upsert_rows: [wideRow(1, 1_024)] });
    const err = await ns.write({ upsert_rows: [{ id: 2, one_more: 1 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(
      /write: the namespace would have 1025 attribute names; the limit is 1024 per namespace/,
    );
    const res = await ns.query({ rank_by: ['id', 'asc'], top_k: 10 });
    expect(res.rows).toEqual([{ id: 1 }]);
    // Existing attributes can still be written.
    await ns.write({ upsert_rows: [{ id: 2, a0: 5 }] });
  });

  it('one write with 1,025 new names is refused, and so is a schema update past the limit', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('names-one'));
    await expect(ns.write({ upsert_rows: [wideRow(1, 1_025)] })).rejects.toThrow(
      /the limit is 1024 per namespace/,
    );
    await ns.write({ upsert_rows: [wideRow(1, 1_024)] });
    await expect(ns.updateSchema({ schema: { extra: 'string' } })).rejects.toThrow(
      /schema: the namespace would have 1025 attribute names/,
    );
  });
});

describe('attribute value size', () => {
  it('a string value over 8 MiB is refused with a 400; exactly 8 MiB is accepted', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('big'));
    await ns.write({ upsert_rows: [{ id: 1, body: 'a'.repeat(8 * MiB) }] });
    const err = await ns
      .write({ upsert_rows: [{ id: 2, body: 'a'.repeat(8 * MiB + 1) }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(
      /attribute 'body': the value is 8388609 bytes; the limit is 8 MiB \(8388608 bytes\) per attribute value/,
    );
  });

  it('multi-byte characters count in bytes, and arrays count as a whole (patches too)', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('big-utf8'));
    await ns.write({ upsert_rows: [{ id: 1, t: 'x' }] });
    // 3 MiB characters of 3 bytes each: 9 MiB.
    await expect(ns.write({ patch_rows: [{ id: 1, t: '€'.repeat(3 * MiB) }] })).rejects.toThrow(
      /attribute 't': the value is 9437184 bytes/,
    );
    await expect(
      ns.write({ upsert_rows: [{ id: 2, tags: ['a'.repeat(5 * MiB), 'b'.repeat(5 * MiB)] }] }),
    ).rejects.toThrow(/attribute 'tags': the value is 10485760 bytes/);
  });
});

describe('queries per multi-query', () => {
  it('16 sub-queries are answered; the 17th is refused with a 400 naming the limit', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('multi'));
    await ns.write({ upsert_rows: [{ id: 1, title: 'x' }] });
    const q = { rank_by: ['id', 'asc'] as ['id', 'asc'], top_k: 1 };
    const ok = await ns.multiQuery({ queries: Array.from({ length: 16 }, () => q) });
    expect(ok.results).toHaveLength(16);
    const err = await ns
      .multiQuery({ queries: Array.from({ length: 17 }, () => q) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(/at most 16 queries per multi-query, got 17/);
  });
});
