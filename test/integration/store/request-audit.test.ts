// The store's request audit (docs/adr/0112), through the official client: the largest request of
// each kind it was sent — body bytes, rows per write, top_k, patch_by_filter rows, filter bytes —
// and refusals by status. The audit of a large Function (test/integration/function/
// request-limits.test.ts) compares these with the service's limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ memory: true, auditRequests: true });
});
afterAll(async () => {
  await h.server.close();
});

describe('request audit', () => {
  it('records the largest request of each kind, refused ones included, and forgets on reset', async () => {
    const audit = h.server.store.audit!;
    const ns = h.tpuf.namespace(uniqueNamespace('audit'));
    const rows = Array.from({ length: 300 }, (_, i) => ({ id: i, kind: i % 3 === 0 ? 'a' : 'b' }));
    const write = { upsert_rows: rows };
    await ns.write(write);
    await ns.write({ patch_rows: [{ id: 1, n: 1 }], deletes: [2, 3] });
    const filter = [
      'And',
      [
        ['kind', 'Eq', 'a'],
        ['id', 'Lt', 1_000],
      ],
    ] as const;
    await ns.write({ patch_by_filter: { filters: filter as never, patch: { n: 2 } } });
    await ns.query({ rank_by: ['id', 'asc'], top_k: 250, filters: ['kind', 'Eq', 'b'] });
    await ns.multiQuery({ queries: [{ rank_by: ['id', 'asc'], limit: { total: 400 } }] });
    await expect(ns.query({ rank_by: ['id', 'asc'], top_k: 10_001 })).rejects.toMatchObject({ status: 400 });

    expect(audit.snapshot()).toEqual({
      writes: 3,
      queries: 3,
      maxBodyBytes: Buffer.byteLength(JSON.stringify(write)),
      maxRowsPerWrite: 300,
      maxTopK: 10_001,
      maxPatchByFilterRows: 99, // ids 0, 3, …, 297 less the deleted 3
      maxFilterBytes: Buffer.byteLength(JSON.stringify(filter)),
      refused: { 400: 1 },
    });
    audit.reset();
    await ns.query({ rank_by: ['id', 'asc'], top_k: 5 });
    expect(audit.snapshot()).toMatchObject({ queries: 1, maxTopK: 5, writes: 0, refused: {} });
  });

  it('is off by default', async () => {
    const plain = await startHarness();
    try {
      expect(plain.server.store.audit).toBeUndefined();
    } finally {
      await plain.server.close();
    }
  });
});
