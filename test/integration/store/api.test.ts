// Namespace-level API and errors through the official client: metadata (v1 and v2 shapes),
// schema, list, delete, hint_cache_warm, auth, and the project's error mapping and retry rule.
import { NotFoundError, Turbopuffer } from '@turbopuffer/turbopuffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isRetryableStoreError,
  StoreAuthError,
  StoreBadRequestError,
  StoreConnectionError,
  StoreNotFoundError,
} from '../../../packages/worker/src/store/errors.js';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

describe('namespace endpoints', () => {
  it('metadata: v2 through the client, v1 with the legacy encryption shape', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, private: true, title: 'x' }] });
    const md = await ns.metadata();
    expect(md).toMatchObject({
      approx_row_count: 1,
      encryption: { mode: 'default' },
      index: { status: 'up-to-date' },
      schema: { id: { type: 'uint' }, private: { type: 'bool', filterable: true } },
    });
    expect(Date.parse(md.created_at)).not.toBeNaN();
    const v1 = await h.tpuf.get<Record<string, unknown>>(`/v1/namespaces/${name}/metadata`);
    expect(v1).toMatchObject({ encryption: { sse: true }, approx_row_count: 1 });
    const patched = await ns.updateMetadata({ pinning: { replicas: 2 } });
    expect(patched.pinning).toMatchObject({ replicas: 2 });
  });

  it('schema get, update (types are fixed, flags can change) and exists', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    expect(await ns.exists()).toBe(false);
    await ns.write({ upsert_rows: [{ id: 1, title: 'hello' }] });
    expect(await ns.exists()).toBe(true);
    expect(await ns.schema()).toEqual({
      id: { type: 'uint', filterable: null, full_text_search: null },
      title: { type: 'string', filterable: true, full_text_search: null },
    });
    const updated = await ns.updateSchema({
      schema: { title: { type: 'string', glob: true, full_text_search: false } },
    });
    expect(updated.title).toMatchObject({ type: 'string', glob: true, full_text_search: null });
    await expect(ns.updateSchema({ schema: { title: 'int' } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('cannot change type'),
    });
  });

  it('lists namespaces by prefix across pages', async () => {
    const prefix = uniqueNamespace('list');
    for (let i = 0; i < 7; i++) await h.tpuf.namespace(`${prefix}-${i}`).write({ upsert_rows: [{ id: 1 }] });
    const first = await h.tpuf.namespaces({ prefix, page_size: 5 });
    expect(first.namespaces).toHaveLength(5);
    // A cursor for the second page, which holds the remaining two.
    expect(first.next_cursor).toEqual(expect.any(String));
    const names: string[] = [];
    for await (const n of h.tpuf.namespaces({ prefix, page_size: 5 })) names.push(n.id);
    expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`));
    expect(await h.store.listNamespaces(prefix)).toEqual(names);
  });

  it('delete removes a namespace; later calls get 404; hint_cache_warm is a 202 without async polling', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1 }] });
    expect(await ns.hintCacheWarm()).toMatchObject({ status: 'ACCEPTED', message: expect.any(String) });
    expect(await ns.deleteAll()).toEqual({ status: 'OK' });
    await expect(ns.query({ rank_by: ['id', 'asc'], top_k: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(ns.deleteAll()).rejects.toMatchObject({ status: 404 });
    await h.store.deleteNamespace(name); // ignoreMissing by default
    await ns.write({ upsert_rows: [{ id: 2 }] }); // the name can be reused
    expect((await ns.query({ rank_by: ['id', 'asc'], top_k: 5 })).rows).toEqual([{ id: 2 }]);
  });

  it('explain_query describes the plan', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, c: 'a' }] });
    const res = await ns.explainQuery({ rank_by: ['id', 'asc'], top_k: 1, filters: ['c', 'Eq', 'a'] });
    expect(res.plan_text).toContain('index scan on c');
  });
});

describe('errors', () => {
  it('unknown namespace → 404 with x-should-retry: false', async () => {
    const err = await h.tpuf
      .namespace('does-not-exist')
      .query({ rank_by: ['id', 'asc'], top_k: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).error).toEqual({
      status: 'error',
      error: "namespace 'does-not-exist' was not found",
    });
    expect((err as NotFoundError).headers.get('x-should-retry')).toBe('false');
  });

  it('malformed filters → 400 naming the problem and the place', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1, color: 'red' }] });
    const cases: [unknown, RegExp][] = [
      [['color', 'Equals', 'red'], /unknown operator 'Equals'.*Eq, NotEq/],
      [['colour', 'Eq', 'red'], /unknown attribute 'colour' \(the namespace has: id, color\)/],
      [['And', ['color', 'Eq', 'red']], /invalid filter at filters\[1\]\[0\]/],
      [{ color: 'red' }, /expected \[attribute, operator, value\]/],
      [['Or', [['color', 'Eq', 'red'], ['color']]], /at filters\[1\]\[1\]/],
    ];
    for (const [filters, message] of cases) {
      const err = await ns
        .query({ rank_by: ['id', 'asc'], top_k: 1, filters: filters as never })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400 });
      expect((err as { error: { error: string } }).error.error).toMatch(message);
    }
  });

  it('bad shapes → 422; missing rank_by → 400 with an example', async () => {
    const name = uniqueNamespace();
    const ns = h.tpuf.namespace(name);
    await ns.write({ upsert_rows: [{ id: 1 }] });
    await expect(
      ns.query({ rank_by: ['id', 'asc'], top_k: 1, consistency: 'eventual' as never }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(ns.query({ top_k: 1 })).rejects.toMatchObject({
      status: 400,
      error: { error: expect.stringContaining('"rank_by": ["id", "asc"]') },
    });
  });

  it('the project client maps errors to typed classes with one retry rule', async () => {
    const err = await h.store
      .query('nope-missing', { rank_by: ['id', 'asc'], top_k: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreNotFoundError);
    expect(isRetryableStoreError(err)).toBe(false);
    const bad = await h.store
      .write(uniqueNamespace(), { upsert_rows: [{ id: 1 }, { id: 1 }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(StoreBadRequestError);
    expect(isRetryableStoreError(bad)).toBe(false);

    const down = createStoreClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'x', maxRetries: 0 });
    const conn = await down.countRows('x').catch((e: unknown) => e);
    expect(conn).toBeInstanceOf(StoreConnectionError);
    expect(isRetryableStoreError(conn)).toBe(true);
  });
});

describe('auth', () => {
  it('accepts only listed bearer keys', async () => {
    const secured = await startHarness({ memory: true, apiKeys: ['k1', 'k2'] });
    try {
      await secured.tpuf.namespace('a').write({ upsert_rows: [{ id: 1 }] });
      const other = new Turbopuffer({
        apiKey: 'k2',
        baseURL: secured.server.url,
        region: null,
        maxRetries: 0,
      });
      expect(await other.namespace('a').exists()).toBe(true);
      const wrong = createStoreClient({ baseUrl: secured.server.url, apiKey: 'nope', maxRetries: 0 });
      const err = await wrong.countRows('a').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreAuthError);
      expect((err as StoreAuthError).status).toBe(401);
      expect(isRetryableStoreError(err)).toBe(false);
    } finally {
      await secured.server.close();
    }
  });
});
