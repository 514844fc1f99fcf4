// Namespace metadata, listing, exists() and the options the embedded store refuses, through the
// official client, with the store's clock in the test's hands so timestamps are exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (): string => new Date(clock).toISOString();
const tick = (ms = 1_000): void => {
  clock += ms;
};

beforeAll(async () => {
  h = await startHarness({ memory: true, now: () => clock });
});
afterAll(async () => {
  await h.server.close();
});

describe('metadata()', () => {
  it('reports rows, bytes, timestamps, schema, index and encryption as the service does', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('md'));
    const created = iso();
    await ns.write({
      upsert_rows: [
        { id: 1, title: 'alpha', body: 'the quick fox' },
        { id: 2, title: 'beta', body: 'a lazy dog' },
      ],
      schema: { body: { type: 'string', full_text_search: true } },
    });
    const first = await ns.metadata();
    expect(first).toEqual({
      approx_row_count: 2,
      approx_logical_bytes: expect.any(Number),
      created_at: created,
      updated_at: created,
      last_write_at: created,
      encryption: { mode: 'default' },
      index: { status: 'up-to-date' },
      schema: {
        id: { type: 'uint' },
        title: { type: 'string', filterable: true },
        body: {
          type: 'string',
          filterable: false,
          full_text_search: expect.objectContaining({ tokenizer: 'word_v4', k1: 1.2, b: 0.75 }),
        },
      },
    });
    expect(first.approx_logical_bytes).toBeGreaterThan(0);

    // A data write moves updated_at and last_write_at and the counts.
    tick();
    const wrote = iso();
    await ns.write({ upsert_rows: [{ id: 3, title: 'gamma', body: 'a much longer body than the others' }] });
    const second = await ns.metadata();
    expect(second).toMatchObject({
      approx_row_count: 3,
      created_at: created,
      updated_at: wrote,
      last_write_at: wrote,
    });
    expect(second.approx_logical_bytes).toBeGreaterThan(first.approx_logical_bytes);

    // A schema change moves updated_at only ("data or schema" vs "data").
    tick();
    const schemaAt = iso();
    await ns.updateSchema({ schema: { title: { type: 'string', glob: true } } });
    expect(await ns.metadata()).toMatchObject({ updated_at: schemaAt, last_write_at: wrote });

    // Pinning is configuration: neither timestamp moves.
    tick();
    const pinned = await ns.updateMetadata({ pinning: { replicas: 2 } });
    expect(pinned).toMatchObject({ pinning: { replicas: 2 }, updated_at: schemaAt, last_write_at: wrote });
    const unchanged = await ns.updateMetadata({});
    expect(unchanged.pinning).toEqual({ replicas: 2 });
    const unpinned = await ns.updateMetadata({ pinning: null });
    expect(unpinned.pinning).toBeUndefined();

    // Deletes count down.
    tick();
    await ns.write({ deletes: [1, 2] });
    expect(await ns.metadata()).toMatchObject({ approx_row_count: 1, last_write_at: iso() });
  });

  it('shows sharding given on the inaugural write, and refuses it later', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('md-shard'));
    await ns.write({ upsert_rows: [{ id: 1 }], sharding: { num_shards: 4 } });
    expect((await ns.metadata()).sharding).toEqual({ num_shards: 4 });
    // The same setting again is no change.
    await ns.write({ upsert_rows: [{ id: 2 }], sharding: { num_shards: 4 } });
    await expect(ns.write({ upsert_rows: [{ id: 3 }], sharding: { num_shards: 8 } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("only be configured on a namespace's inaugural write"),
    });
  });

  it('a missing namespace is a 404 for metadata and false for exists()', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('md-missing'));
    expect(await ns.exists()).toBe(false);
    await expect(ns.metadata()).rejects.toMatchObject({ status: 404 });
    await ns.write({ upsert_rows: [{ id: 1 }] });
    expect(await ns.exists()).toBe(true);
    await ns.deleteAll();
    expect(await ns.exists()).toBe(false);
  });
});

describe('namespace listing', () => {
  it('pages by prefix with a cursor until the last page, which has none', async () => {
    const prefix = uniqueNamespace('lst');
    const names = ['a', 'b', 'c', 'd', 'e'].map((s) => `${prefix}-${s}`);
    for (const n of [...names].reverse()) await h.tpuf.namespace(n).write({ upsert_rows: [{ id: 1 }] });
    await h.tpuf.namespace(`${prefix}x-other`).write({ upsert_rows: [{ id: 1 }] });

    const page1 = await h.tpuf.namespaces({ prefix: `${prefix}-`, page_size: 2 });
    expect(page1.namespaces.map((n) => n.id)).toEqual(names.slice(0, 2));
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await h.tpuf.namespaces({ prefix: `${prefix}-`, page_size: 2, cursor: page1.next_cursor! });
    expect(page2.namespaces.map((n) => n.id)).toEqual(names.slice(2, 4));
    expect(page2.next_cursor).not.toEqual(page1.next_cursor);
    const page3 = await h.tpuf.namespaces({ prefix: `${prefix}-`, page_size: 2, cursor: page2.next_cursor! });
    expect(page3.namespaces.map((n) => n.id)).toEqual(names.slice(4));
    // The client fills a missing next_cursor with ''; on the wire the last page has none.
    expect(page3.next_cursor ?? '').toBe('');
    const raw = await h.tpuf.get<Record<string, unknown>>('/v1/namespaces', {
      query: { prefix: `${prefix}-`, page_size: 2, cursor: page2.next_cursor! },
    });
    expect(Object.keys(raw)).toEqual(['namespaces']);

    // The client's auto-pagination walks the same pages.
    const all: string[] = [];
    for await (const n of h.tpuf.namespaces({ prefix, page_size: 2 })) all.push(n.id);
    expect(all).toEqual([...names, `${prefix}x-other`]);
  });

  it.each([0, 1001, 2.5])('refuses page_size %s', async (pageSize) => {
    await expect(h.tpuf.namespaces({ page_size: pageSize })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('page_size must be an integer from 1 to 1000'),
    });
  });
});

describe('options the embedded store refuses instead of ignoring', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'a malformed customer-managed key (v2 form)',
      { encryption: { mode: 'customer-managed', key_name: 'mykey' } },
      'Malformed Cloud KMS crypto key: mykey',
    ],
    [
      'a malformed customer-managed key (v1 cmek form)',
      { encryption: { cmek: { key_name: 'mykey' } } },
      'Malformed Cloud KMS crypto key: mykey',
    ],
    [
      'a well-formed GCP key: there is no KMS here',
      {
        encryption: {
          mode: 'customer-managed',
          key_name: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
        },
      },
      'customer-managed encryption keys (CMEK) are not available in the embedded store',
    ],
    [
      'a cross-region copy',
      { copy_from_namespace: { source_namespace: 'src', source_region: 'aws-us-east-1' } },
      'cross-region copies',
    ],
    [
      'a copy from another organization',
      { copy_from_namespace: { source_namespace: 'src', source_api_key: 'tpuf_other' } },
      'another organization',
    ],
  ])('%s → 400, nothing written', async (_why, extra, message) => {
    const ns = h.tpuf.namespace(uniqueNamespace('refuse'));
    const body = extra.copy_from_namespace ? extra : { upsert_rows: [{ id: 1 }], ...extra };
    await expect(ns.write(body as never)).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining(message),
    });
    expect(await ns.exists()).toBe(false);
  });

  it('default encryption is accepted', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('enc'));
    await ns.write({ upsert_rows: [{ id: 1 }], encryption: { mode: 'default' } });
    expect((await ns.metadata()).encryption).toEqual({ mode: 'default' });
  });

  it('read_only namespaces are refused', async () => {
    const name = uniqueNamespace('ro');
    await h.tpuf.namespace(name).write({ upsert_rows: [{ id: 1 }] });
    await expect(
      h.tpuf.patch(`/v1/namespaces/${name}/metadata`, { body: { read_only: true } }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('read_only namespaces are not supported'),
    });
  });
});

describe('query performance', () => {
  it('reports measured times, the rows examined, the namespace size and the last write seen', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('perf'));
    tick();
    const at = iso();
    await ns.write({ upsert_rows: [1, 2, 3, 4].map((id) => ({ id, color: id % 2 ? 'red' : 'blue' })) });
    // No index narrows a Lt filter: every row is examined.
    const res = await ns.query({ rank_by: ['id', 'asc'], filters: ['color', 'Lt', 'c'], top_k: 10 });
    expect(res.rows?.map((r) => r.id)).toEqual([2, 4]);
    const p = res.performance as unknown as Record<string, unknown>;
    expect(p).toMatchObject({
      approx_namespace_size: 4,
      exhaustive_search_count: 4,
      cache_hit_ratio: 1,
      cache_temperature: 'hot',
      last_included_write_at: at,
    });
    expect(p.query_execution_ms).toEqual(expect.any(Number));
    expect(p.query_execution_ms as number).toBeLessThanOrEqual(p.server_total_ms as number);
    // An id lookup examines only the ids named.
    const one = await ns.query({ rank_by: ['id', 'asc'], filters: ['id', 'Eq', 3], top_k: 10 });
    expect(one.performance.exhaustive_search_count).toBe(1);
  });
});
