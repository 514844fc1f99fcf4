// Client mistakes and hostile bodies get a 400/413 with a message and `x-should-retry: false`,
// never a 500 with a stack trace, and never unbounded memory. Raw HTTP here on purpose: the
// official client would refuse to send most of these.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_FILTER_DEPTH } from '../../../src/store/storage/filter.js';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ memory: true, maxBodyBytes: 1024 * 1024 });
});
afterAll(() => h.server.close());

async function post(path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: res.status,
    retry: res.headers.get('x-should-retry'),
    body: (await res.json()) as { error: string },
  };
}

/** `depth` pairs of Not around one condition, as JSON text (JSON.stringify would overflow too). */
function nestedNotQuery(depth: number): string {
  const filter = `${'["Not",["Not",'.repeat(depth)}["id","Gte",0]${']]'.repeat(depth)}`;
  return `{"rank_by":["id","asc"],"top_k":1,"filters":${filter}}`;
}

describe('hostile input to the store', () => {
  it('a gzip bomb is refused with 413 once it inflates past the body limit', async () => {
    const name = uniqueNamespace('bomb');
    // 64 MiB of one JSON string compresses to ~64 KiB; the limit is 1 MiB.
    const inflated = Buffer.concat([
      Buffer.from('{"upsert_rows":[{"id":1,"t":"'),
      Buffer.alloc(64 * 1024 * 1024, 'a'),
      Buffer.from('"}]}'),
    ]);
    const bomb = gzipSync(inflated);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const out = await post(`/v2/namespaces/${name}`, bomb, { 'content-encoding': 'gzip' });
    expect(out.status).toBe(413);
    expect(out.retry).toBe('false');
    expect(out.body.error).toMatch(/inflates to more than 1048576 bytes/);
    // Nothing was written and the server never held the whole inflated body.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 * 1024);
    const list = await fetch(`${h.server.url}/v1/namespaces?prefix=${name}`).then((r) => r.json());
    expect(list).toMatchObject({ namespaces: [] });
  });

  it('a gzip header on a plain body is a 400 naming the header', async () => {
    const out = await post(`/v2/namespaces/${uniqueNamespace('plain')}`, '{"upsert_rows":[{"id":1}]}', {
      'content-encoding': 'gzip',
    });
    expect(out.status).toBe(400);
    expect(out.retry).toBe('false');
    expect(out.body.error).toMatch(/labelled content-encoding: gzip but is not valid gzip/);
  });

  it('a real gzip body under the limit is accepted', async () => {
    const name = uniqueNamespace('gz');
    const out = await post(`/v2/namespaces/${name}`, gzipSync('{"upsert_rows":[{"id":7,"t":"x"}]}'), {
      'content-encoding': 'gzip',
    });
    expect(out.status).toBe(200);
    const rows = await h.tpuf
      .namespace(name)
      .query({ rank_by: ['id', 'asc'], top_k: 5, include_attributes: true });
    expect(rows.rows).toEqual([{ id: 7, t: 'x' }]);
  });

  it('a filter nested thousands deep is a 400 naming the bound, and no stack is logged', async () => {
    const name = uniqueNamespace('deep');
    await h.tpuf.namespace(name).write({ upsert_rows: [{ id: 1, c: 'a' }] });
    const stderr = vi.spyOn(process.stderr, 'write');
    try {
      for (const depth of [MAX_FILTER_DEPTH, 5_000]) {
        const out = await post(`/v2/namespaces/${name}/query`, nestedNotQuery(depth));
        expect(out.status).toBe(400);
        expect(out.retry).toBe('false');
        expect(out.body.error).toMatch(new RegExp(`nested more than ${MAX_FILTER_DEPTH} levels deep`));
      }
      // Half the bound still evaluates (Not(Not(x)) = x).
      const ok = await post(`/v2/namespaces/${name}/query`, nestedNotQuery(MAX_FILTER_DEPTH / 4));
      expect(ok.status).toBe(200);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).not.toMatch(
        /internal error|at compileNode/,
      );
    } finally {
      stderr.mockRestore();
    }
  });

  it('a bad %-escape in the path is a 400, not a 500', async () => {
    const res = await fetch(`${h.server.url}/v2/namespaces/bad%E0%A4%A/query`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(((await res.json()) as { error: string }).error).toMatch(/malformed percent-escape/);
  });

  it('integer ids that JSON cannot keep exactly are refused, not rounded onto another id', async () => {
    const name = uniqueNamespace('bigid');
    // 2^53 + 1 parses as 2^53: without the check it would overwrite document 2^53.
    for (const raw of ['9007199254740993', '18446744073709551616']) {
      const out = await post(`/v2/namespaces/${name}`, `{"upsert_rows":[{"id":${raw},"t":"x"}]}`);
      expect(out.status).toBe(400);
      expect(out.body.error).toMatch(/above 2\^53 - 1 .* send large ids as strings/);
    }
    const ok = await post(`/v2/namespaces/${name}`, `{"upsert_rows":[{"id":9007199254740991,"t":"max"}]}`);
    expect(ok.status).toBe(200);
    const rows = await h.tpuf
      .namespace(name)
      .query({ rank_by: ['id', 'asc'], top_k: 5, include_attributes: true });
    expect(rows.rows).toEqual([{ id: 9007199254740991, t: 'max' }]);
    // The way to keep a full u64: a string id, in a namespace of string ids.
    const asString = uniqueNamespace('bigid-s');
    const s = await post(
      `/v2/namespaces/${asString}`,
      `{"upsert_rows":[{"id":"18446744073709551615","t":"s"}]}`,
    );
    expect(s.status).toBe(200);
  });
});
