// A range batch on the worker (docs/adr/0100), against the embedded store: it resolves the rows in
// (afterId, lastId] that still match the Function's filter, in id order and bounded; rows
// inserted since discovery are work too; a failed range names the rows it resolved; the spec
// comes once per fingerprint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import {
  claimSpecFingerprint,
  type FunctionClaimInput,
  type FunctionClaimSpec,
  type RunBatchRequest,
} from '../../../packages/worker/src/contracts/function.js';
import { runFunctionClaimWith } from '../../../packages/worker/src/claim-execution/function-batch.js';
import { ClaimSpecCache } from '../../../packages/worker/src/claim-execution/claim-spec.js';
import { declareEngineAttributes } from '../../../src/activities/output-attributes.js';

let server: StoreServer;
let store: StoreClient;
beforeAll(async () => {
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url });
});
afterAll(async () => server?.close());

const spec: FunctionClaimSpec = {
  k8sNamespace: 'test',
  name: 'ranges',
  inputs: ['id', 'title'],
  output: { attribute: 'tags', kind: 'tags', version: 'v1' },
  filter: ['category', 'Eq', 'keep'],
  worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
};

async function seed(namespace: string, ids: number[]) {
  await store.upsertRows(namespace, ids.map((id) => ({ id, title: `t${id}`, category: 'keep' })) as never);
  // What discovery does first: the engine's attributes exist before any filter names them.
  await declareEngineAttributes(store, namespace, spec.output);
}

function claimOf(namespace: string, batches: { afterId: number | null; lastId: number; rows: number }[]) {
  const input: FunctionClaimInput & { spec: FunctionClaimSpec } = {
    claimId: 'c1',
    spec,
    parts: [
      {
        namespace,
        afterId: batches[0]!.afterId,
        batchIds: batches.map((_, i) => `b${i + 1}`),
        lastIds: batches.map((b) => b.lastId),
        rows: batches.map((b) => b.rows),
      },
    ],
  };
  return input;
}

describe('range batches on the worker', () => {
  it('computes the rows of each range that still match, including rows inserted since discovery, bounded', async () => {
    const ns = `ranges-${Date.now()}`;
    // Discovery saw 1..8 as two ranges of 4: (null, 4] and (4, 8].
    await seed(ns, [1, 2, 3, 4, 5, 6, 7, 8]);
    // Since then: 2 was done by someone else, 3 left the filter, and 20..25 were inserted into
    // the second range, which discovery ended at 30 (rows it saw there were deleted since).
    await store.patchRows(ns, [{ id: 2, tags: ['x'], tags_v: 'v1' }] as never);
    await store.patchRows(ns, [{ id: 3, category: 'other' }] as never);
    await seed(ns, [20, 21, 22, 23, 24, 25]);
    const seen: (string | number)[][] = [];
    const report = await runFunctionClaimWith(
      store,
      claimOf(ns, [
        { afterId: null, lastId: 4, rows: 4 },
        // 5..8 discovered, 20..25 inserted since: at most 2 × 4 rows are resolved.
        { afterId: 4, lastId: 30, rows: 4 },
      ]),
      async (req: RunBatchRequest) => {
        seen.push(req.rows.map((r) => r.id));
        return req.rows.map((r) => ({ id: r.id, value: ['tag'] }));
      },
    );
    expect(seen).toEqual([
      [1, 4],
      [5, 6, 7, 8, 20, 21, 22, 23],
    ]);
    expect(report.outcomes).toEqual([
      {
        batchId: 'b1',
        status: 'done',
        ms: expect.any(Number),
        counts: { written: 2, skipped: 2, superseded: 0 },
      },
      {
        batchId: 'b2',
        status: 'done',
        ms: expect.any(Number),
        counts: { written: 8, skipped: 0, superseded: 0 },
      },
    ]);
    // The rest of the inserted rows wait for the next pass.
    const left = await store.countRows(ns, ['tags_v', 'Eq', null] as never);
    expect(left).toBe(3); // 3 (left the filter), 24, 25
  });

  it('a retried claim counts the rows its earlier attempt wrote as written, once, and names the batch it computes first', async () => {
    const ns = `ranges-rerun-${Date.now()}`;
    await seed(ns, [1, 2, 3, 4, 5, 6, 7, 8]);
    // The first attempt wrote 1..4 and died before its heartbeat said so.
    await store.patchRows(ns, [1, 2, 3, 4].map((id) => ({ id, tags: ['tag'], tags_v: 'v1' })) as never);
    const beats: unknown[] = [];
    const report = await runFunctionClaimWith(
      store,
      claimOf(ns, [
        { afterId: null, lastId: 4, rows: 4 },
        { afterId: 4, lastId: 8, rows: 4 },
      ]),
      async (req: RunBatchRequest) => req.rows.map((r) => ({ id: r.id, value: ['tag'] })),
      { attempt: 2, heartbeat: (p) => beats.push(p) },
    );
    expect(report.outcomes.map((o) => (o.status === 'done' ? o.counts : o))).toEqual([
      { written: 4, skipped: 0, superseded: 0 },
      { written: 4, skipped: 0, superseded: 0 },
    ]);
    // Its first heartbeat names the batch it computes first, with the rows resolved (none left).
    expect(beats[0]).toEqual({ claimId: 'c1', outcomes: [], running: { batchId: 'b1', batchRowIds: [] } });
  });

  it('a range that fails as a whole names the rows it resolved', async () => {
    const ns = `ranges-fail-${Date.now()}`;
    await seed(ns, [1, 2, 3, 4, 5]);
    const report = await runFunctionClaimWith(store, claimOf(ns, [{ afterId: 1, lastId: 4, rows: 3 }]), () =>
      Promise.reject(new Error('handler down')),
    );
    expect(report.outcomes[0]).toMatchObject({
      status: 'failed',
      failure: { type: 'HandlerFailed', batchRowIds: [2, 3, 4] },
    });
  });
});

describe('ClaimSpecCache', () => {
  it('asks the workflow once per fingerprint, checks the answer, and runs inline specs as they are', async () => {
    const cache = new ClaimSpecCache();
    const asked: string[] = [];
    const lookup = async (workflowId: string, fp: string) => {
      asked.push(`${workflowId}/${fp}`);
      return fp === claimSpecFingerprint(spec) ? spec : fp === 'liar' ? { ...spec, name: 'other' } : null;
    };
    const fp = claimSpecFingerprint(spec);
    const byRef = { claimId: 'c', specFingerprint: fp, parts: [] };
    expect((await cache.resolve(byRef, 'wf', lookup)).spec).toEqual(spec);
    expect((await cache.resolve({ ...byRef, claimId: 'd' }, 'wf', lookup)).spec).toEqual(spec);
    expect(asked).toEqual([`wf/${fp}`]);
    await expect(cache.resolve({ ...byRef, specFingerprint: 'gone' }, 'wf', lookup)).rejects.toThrow(
      /knows no claim spec gone/,
    );
    await expect(cache.resolve({ ...byRef, specFingerprint: 'liar' }, 'wf', lookup)).rejects.toThrow(
      /fingerprint is not liar/,
    );
    // A failed lookup is not kept: the next claim asks again.
    await expect(cache.resolve({ ...byRef, specFingerprint: 'gone' }, 'wf', lookup)).rejects.toThrow();
    expect(asked.filter((a) => a === 'wf/gone')).toHaveLength(2);
    // Claims of older orchestrators carry the spec.
    expect((await cache.resolve({ claimId: 'e', spec, batches: [] }, undefined, undefined)).spec).toBe(spec);
  });
});
