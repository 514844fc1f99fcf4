// The engine's side of the service's request limits (docs/adr/0112): writes cut by bytes as well
// as rows, dead-letter text within the 4 KiB filterable limit, a range read within top_k, and a
// text output declared non-filterable — the last two against the embedded store with its
// request audit, so the test sees the requests the engine sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkByBytes, jsonBytesUpTo } from '../../../packages/worker/src/store/write-chunks.js';
import {
  ENGINE_WRITE_REQUEST_BUDGET_BYTES,
  STORE_MAX_FILTERABLE_VALUE_BYTES,
  STORE_MAX_TOP_K,
} from '../../../packages/worker/src/contracts/store-limits.js';
import { deadLetterRowsPerWrite, deadLetterValue } from '../../../src/activities/dead-letter-value.js';
import {
  rangeResolveLimit,
  type FunctionClaimInput,
  type FunctionClaimSpec,
} from '../../../packages/worker/src/contracts/function.js';
import { runFunctionClaimWith } from '../../../packages/worker/src/claim-execution/function-batch.js';
import { declareEngineAttributes } from '../../../src/activities/output-attributes.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';

const MiB = 1024 * 1024;

describe('chunkByBytes', () => {
  const size = (n: number) => n;
  it.each([
    ['empty', [], 10, Infinity, []],
    ['all fit', [3, 3, 3], 10, Infinity, [[3, 3, 3]]],
    ['cut at the budget', [4, 4, 4], 10, Infinity, [[4, 4], [4]]],
    ['an item over the budget goes alone', [2, 30, 2], 10, Infinity, [[2], [30], [2]]],
    ['and by count', [1, 1, 1, 1, 1], 100, 2, [[1, 1], [1, 1], [1]]],
  ])('%s', (_what, items, budget, maxItems, want) => {
    expect(chunkByBytes(items as number[], size, budget as number, maxItems as number)).toEqual(want);
  });

  it.each([
    ['a string (UTF-8 plus quotes)', '€€', 8],
    ['an object (keys, values)', { id: 1, t: 'ab' }, 2 + 4 + 1 + (1 + 4) + 4],
    ['an array', [1, 2], 2 + 2 + 2],
  ])('jsonBytesUpTo: %s', (_what, value, bytes) => {
    expect(jsonBytesUpTo(value)).toBe(bytes);
  });
});

describe('deadLetterValue', () => {
  const at = '2026-01-01T00:00:00.000Z';
  it.each([
    ['a short message, kept whole', 'boom', 'boom'],
    ['2,000 ASCII characters fit', 'x'.repeat(5_000), undefined],
    ['3-byte characters: cut further', '€'.repeat(5_000), undefined],
    ['control characters escape to 6 bytes: cut further', '\u0001'.repeat(5_000), undefined],
  ])('%s', (_what, message, kept) => {
    const value = deadLetterValue({ type: 'RowRejected', message, attempts: 1, version: 'v1', at });
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(STORE_MAX_FILTERABLE_VALUE_BYTES);
    const parsed = JSON.parse(value) as { message: string; version: string };
    expect(parsed.version).toBe('v1');
    if (kept !== undefined) expect(parsed.message).toBe(kept);
    else expect(parsed.message).toMatch(/… \[truncated: 5000 characters in all\]$/);
  });

  it('rows per dead-letter write keep a write within the engine budget', () => {
    const value = deadLetterValue({ message: 'x'.repeat(5_000), attempts: 1, version: 'v1', at });
    const perWrite = deadLetterRowsPerWrite(value);
    expect(perWrite * (Buffer.byteLength(value) + 64)).toBeLessThanOrEqual(ENGINE_WRITE_REQUEST_BUDGET_BYTES);
  });
});

describe('rangeResolveLimit', () => {
  it.each([
    [1, 2],
    [4, 8],
    [5_000, 10_000],
    [10_000, STORE_MAX_TOP_K], // the largest batchSize: never past top_k
  ])('%i rows → %i', (rows, limit) => {
    expect(rangeResolveLimit(rows)).toBe(limit);
  });
});

describe('a Function batch against the store', () => {
  let server: StoreServer;
  let store: StoreClient;
  beforeAll(async () => {
    server = await startStoreServer({ memory: true, auditRequests: true });
    store = createStoreClient({ baseUrl: server.url });
  });
  afterAll(async () => server?.close());

  const spec: FunctionClaimSpec = {
    k8sNamespace: 'test',
    name: 'summaries',
    inputs: ['id', 'title'],
    output: { attribute: 'summary', kind: 'text', version: 'v1' },
    worker: { dispatch: 'pull', batchSize: 10, timeoutSeconds: 10 },
  };
  const claim = (
    namespace: string,
    lastId: number,
    rows: number,
  ): FunctionClaimInput & { spec: FunctionClaimSpec } => ({
    claimId: 'c1',
    spec,
    parts: [{ namespace, afterId: null, batchIds: ['b1'], lastIds: [lastId], rows: [rows] }],
  });

  it('writes a batch of large text outputs in several requests, each within the budget', async () => {
    const ns = `limits-text-${Date.now()}`;
    await store.upsertRows(
      ns,
      Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: `t${i}` })) as never,
    );
    expect(await declareEngineAttributes(store, ns, spec.output)).toBe(true);
    // A text output is declared non-filterable, so values past 4 KiB are stored.
    expect(await store.schema(ns)).toMatchObject({ summary: { type: 'string', filterable: false } });
    server.store.audit!.reset();
    const value = (id: unknown) => `${String(id)}:${'s'.repeat(5 * MiB)}`;
    const report = await runFunctionClaimWith(store, claim(ns, 10, 10), async (req) =>
      req.rows.map((r) => ({ id: r.id, value: value(r.id) })),
    );
    expect(report.outcomes[0]).toMatchObject({ status: 'done', counts: { written: 10 } });
    const audit = server.store.audit!.snapshot();
    // 50 MiB of outputs: one read and two patches (6 rows, then 4), none over the budget.
    expect(audit.writes).toBe(2);
    expect(audit.maxRowsPerWrite).toBe(6);
    expect(audit.maxBodyBytes).toBeLessThanOrEqual(ENGINE_WRITE_REQUEST_BUDGET_BYTES);
    expect(audit.refused).toEqual({});
    const row = await store.query(ns, {
      filters: ['id', 'Eq', 7],
      rank_by: ['id', 'asc'],
      limit: 1,
      include_attributes: ['summary'],
    });
    expect(row.rows?.[0]?.summary).toBe(value(7));
  }, 60_000);

  it('leaves an existing attribute and one the filter names as they are', async () => {
    const ns = `limits-keep-${Date.now()}`;
    await store.upsertRows(ns, [{ id: 1, title: 't', summary: 'short' }] as never);
    await declareEngineAttributes(store, ns, spec.output);
    expect(await store.schema(ns)).toMatchObject({ summary: { filterable: true } });
    const other = `limits-filter-${Date.now()}`;
    await store.upsertRows(other, [{ id: 1, title: 't' }] as never);
    await declareEngineAttributes(store, other, spec.output, ['summary', 'Eq', null]);
    expect((await store.schema(other))?.summary).toBeUndefined();
  });
});
