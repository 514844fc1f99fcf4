// The service's documented limits (turbopuffer.md §10, docs/adr/0112) held by the embedded
// store, through the official client: attribute names per namespace, attribute value size,
// filterable value size, document size, full-text query length, and the attribute lists a query
// may name. Each refusal is a 400 with a message naming the limit and the fix.
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

/** The store's error text as sent (`{"status":"error","error":…}`), quotes unescaped. */
function errorText(err: unknown): string {
  expect(err).toBeInstanceOf(BadRequestError);
  return String(((err as BadRequestError).error as { error?: unknown }).error);
}

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
    // Values over 4 KiB need a non-filterable attribute (below).
    await ns.write({
      upsert_rows: [{ id: 1, body: 'a'.repeat(8 * MiB) }],
      schema: { body: { type: 'string', filterable: false } },
    });
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

describe('filterable value size', () => {
  it('a filterable string over 4 KiB is refused with a 400 naming the fix; 4 KiB exactly is accepted', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('filterable'));
    await ns.write({ upsert_rows: [{ id: 1, title: 'a'.repeat(4096) }] });
    const err = await ns
      .write({ upsert_rows: [{ id: 2, title: 'a'.repeat(4097) }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).status).toBe(400);
    expect(errorText(err)).toMatch(
      /attribute 'title': the value is 4097 bytes; a filterable attribute value is limited to 4 KiB \(4096 bytes\)\. Declare the attribute non-filterable to store longer values: "schema": \{"title": \{"type": "string", "filterable": false\}\}/,
    );
    // Bytes, not characters: 1,366 three-byte characters are 4,098 bytes.
    await expect(ns.write({ patch_rows: [{ id: 1, title: '€'.repeat(1366) }] })).rejects.toThrow(
      /the value is 4098 bytes/,
    );
    const res = await ns.query({ rank_by: ['id', 'asc'], top_k: 10, include_attributes: ['title'] });
    expect(res.rows).toEqual([{ id: 1, title: 'a'.repeat(4096) }]);
  });

  it('an array counts per element; non-filterable and full-text attributes take longer values', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('filterable-kinds'));
    await expect(ns.write({ upsert_rows: [{ id: 1, tags: ['short', 'b'.repeat(5000)] }] })).rejects.toThrow(
      /attribute 'tags': an element of the value is 5000 bytes/,
    );
    // Many elements of up to 4 KiB each are fine (the 8 MiB limit is on the whole array).
    await ns.write({ upsert_rows: [{ id: 1, tags: Array.from({ length: 10 }, () => 'c'.repeat(4096)) }] });
    await ns.write({
      upsert_rows: [{ id: 2, summary: 's'.repeat(100_000), body: 'word '.repeat(20_000) }],
      schema: {
        summary: { type: 'string', filterable: false },
        body: { type: 'string', full_text_search: true },
      },
    });
    // patch_by_filter values are held to the same limit.
    await expect(
      ns.write({ patch_by_filter: { filters: ['id', 'Eq', 1], patch: { note: 'n'.repeat(4097) } } }),
    ).rejects.toThrow(/attribute 'note': the value is 4097 bytes/);
  });
});

describe('document size', () => {
  // Arrays of numbers count 8 bytes an element (as for the 8 MiB limit): a 72 MiB document
  // travels in ~18 MB of JSON.
  const eightMiBOfNumbers = () => new Array<number>(MiB).fill(0);

  it('a document over 64 MiB is refused with a 400 and nothing is written; 64 MiB fits', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('doc'));
    const row: { id: number; [attr: string]: number | number[] } = { id: 1 };
    for (let i = 0; i < 9; i++) row[`v${i}`] = eightMiBOfNumbers();
    const err = await ns.write({ upsert_rows: [row] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(
      /document 1: 75497498 bytes \(id, attribute names and values\); the limit is 64 MiB \(67108864 bytes\) per document/,
    );
    await expect(ns.query({ rank_by: ['id', 'asc'], top_k: 1 })).rejects.toMatchObject({ status: 404 });
    // Seven full attributes and a smaller eighth stay under it; a patch that grows it past is refused.
    const fits: { id: number; [attr: string]: number | number[] } = { id: 1 };
    for (let i = 0; i < 7; i++) fits[`v${i}`] = eightMiBOfNumbers();
    fits.v7 = new Array<number>(MiB - 64).fill(0);
    await ns.write({ upsert_rows: [fits] });
    await expect(ns.write({ patch_rows: [{ id: 1, v8: new Array<number>(100).fill(1) }] })).rejects.toThrow(
      /document 1: \d+ bytes .*the limit is 64 MiB/,
    );
  });
});

describe('full-text query length', () => {
  it('a BM25 query or token filter over 1,024 bytes is refused with a 400; 1,024 bytes is answered', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-len'));
    await ns.write({
      upsert_rows: [{ id: 1, body: 'the quick brown fox' }],
      schema: { body: { type: 'string', full_text_search: true } },
    });
    const at = 'fox '.repeat(256); // 1,024 bytes
    const ok = await ns.query({ rank_by: ['body', 'BM25', at], top_k: 1 });
    expect(ok.rows?.map((r) => r.id)).toEqual([1]);
    const err = await ns.query({ rank_by: ['body', 'BM25', `${at}x`], top_k: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(errorText(err)).toMatch(
      /rank_by field "body": the full-text query is 1025 bytes; the limit is 1024 bytes per query/,
    );
    const filterErr = await ns
      .query({ filters: ['body', 'ContainsAnyToken', '€'.repeat(342)], rank_by: ['id', 'asc'], top_k: 1 })
      .catch((e: unknown) => e);
    expect(errorText(filterErr)).toMatch(
      /filter field "body" \(ContainsAnyToken\): the full-text query is 1026 bytes/,
    );
  });
});
