// Engine v2 on the real Temporal dev server and the embedded store: multi-batch claims (a busy
// worker's next batch is in hand before its current one completes, with no workflow task
// between them), the lease bound across worker slots, a claim resumed after its worker is
// SIGKILLed, and a systemic failure (a pull worker with a wrong store key) that dead-letters
// nothing and recovers once the key is fixed. Poison rows inside a multi-batch claim:
// function-engine.test.ts, with their dead letters and replay.
import { describe, expect, it } from 'vitest';
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { functionBatchStages } from '../../../packages/worker/src/claim-execution/function-batch.js';
import { declareEngineAttributes } from '../../../src/activities/output-attributes.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  baseSpec,
  claimHistory,
  eventually,
  range,
  readAll,
  recordHistories,
  seededFunction,
  seedRows,
  startAndWaitProcessed,
  engineHarnessPerFile,
  startFunction,
  startPullWorker,
  statusOf,
  statusWhen,
  statusWhenProcessed,
  taggingHandler,
  testFunction,
  uniqueName,
} from './harness.js';
import { spawnFixture } from './fixtures/spawn.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titleTags = (id: number) => ['product', 'number', String(id), 'deluxe'];

// The store accepts only the harness's key, so a worker with another key is refused (401).
const h = engineHarnessPerFile({ storeApiKeys: ['test'] });

/** The schedule these tests share: one scan, and discovery only when the workflow asks for it. */
const oneScan = (leaseSeconds: number, maxInFlightBatches: number) => ({
  discoveryIntervalSeconds: 60,
  leaseSeconds,
  maxInFlightBatches,
  maxConcurrentScans: 1,
});

describe('Function claims (engine v2)', () => {
  it('runs several batches per claim back to back: fewer dispatches and workflow tasks than batches, never more leased than maxInFlightBatches', async () => {
    const fn = await seededFunction(h, 'claims', 480, {
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
      schedule: oneScan(30, 2),
    });
    const seen = new Map<string, number>();
    const inner = taggingHandler(seen);
    let running = 0;
    let maxRunning = 0;
    // Six worker slots, but the workflow lets out two claims: at most two handler calls at once.
    const worker = startPullWorker(
      h,
      fn.spec,
      async (rows, ctx) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        running -= 1;
        return inner(rows, ctx);
      },
      6,
    );
    try {
      const s = await startAndWaitProcessed(h, fn, 480, { timeoutMs: 90_000 });
      expect(s.counters.batches).toBe(60);
      expect(maxRunning).toBe(2);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v']);
      expect(rows.map((r) => r.tags)).toEqual(range(1, 481).map(titleTags));

      const { claims, workflowTasks } = await claimHistory(h, fn.workflowId);
      const batchesRun = claims.reduce((n, c) => n + (c.result?.outcomes.length ?? 0), 0);
      expect(batchesRun).toBe(60);
      // Claims grew past one batch once batch time was measured: in those, each next batch was
      // already in the worker's hand when the current one completed.
      const multi = claims.filter((c) => (c.result?.outcomes.length ?? 0) >= 2);
      expect(multi.length).toBeGreaterThan(0);
      expect(claims.length).toBeLessThan(30);
      // No workflow-task round trip per batch: far fewer workflow tasks than batches.
      expect(workflowTasks).toBeLessThan(60);
      // Every claim was scheduled before its last batch completed (completion = the claim's end).
      for (const c of claims) expect(c.scheduledAtMs).toBeLessThanOrEqual(c.completedAtMs!);
      await recordHistories(h, fn.workflowId, 'function-v2-claims');
    } finally {
      await worker.stop();
    }
  });

  it('resumes a claim whose worker was SIGKILLed after its last finished batch, within the heartbeat timeout, losing and recomputing nothing', async () => {
    // A long lease: a claim found again quickly was found by its heartbeat, not the lease.
    const fn = await seededFunction(h, 'kill', 40, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      schedule: oneScan(120, 1),
    });
    const doomed = spawnFixture('pull-worker-process.ts', {
      HANDLER: 'slow',
      SLOW_MS: '150',
      LAYER_TASK_QUEUE: functionTaskQueue(fn.spec.k8sNamespace, fn.spec.name),
      LAYER_TEMPORAL_ADDRESS: temporalAddress(),
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: h.storeServer.url,
    });
    let survivor: { stop(): Promise<void> } | undefined;
    try {
      await startFunction(h, fn.spec);
      // The first two claims hold one batch each (nothing measured, then only one discovered);
      // the third holds rows 9..40. Kill the worker while it computes its fourth batch (21..24).
      await doomed.waitForLine(/^BATCH 21,/);
      await doomed.kill();
      const killedAtMs = Date.now();
      const childBatches = doomed.lines.filter((l) => l.startsWith('BATCH ')).length;
      const seen = new Map<string, number>();
      survivor = startPullWorker(h, fn.spec, taggingHandler(seen));
      const s = await statusWhenProcessed(h, fn, 40);
      expect(s.counters.deadLettered).toBe(0);
      // Rows the child finished keep its value; the rest got the survivor's, each computed once.
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v', 'tags_error']);
      const byChild = rows.filter((r) => JSON.stringify(r.tags) === '["from-child"]').map((r) => r.id);
      // Rows 1..16 were written before the kill; 17..20 were being written while 21..24 computed.
      expect(byChild.length).toBeGreaterThanOrEqual(16);
      expect(byChild.length).toBeLessThanOrEqual(4 * childBatches);
      for (const r of rows) {
        expect(r.tags_v).toBe('v1');
        expect(r.tags_error ?? null).toBeNull();
        if (!byChild.includes(r.id)) expect(r.tags).toEqual(titleTags(Number(r.id)));
      }
      expect([...seen.keys()].map(Number).sort((a, b) => a - b)).toEqual(
        range(1, 41).filter((id) => !byChild.includes(id)),
      );
      expect([...seen.values()].every((n) => n === 1)).toBe(true);

      const { claims } = await claimHistory(h, fn.workflowId);
      const retried = claims.find((c) => (c.attempt ?? 1) >= 2);
      expect(retried).toBeDefined();
      // The retried claim resumed from its first attempt's heartbeat: that attempt's first batch
      // (rows 9..12, computed by the child) is reported as written by it, and the survivor never
      // saw those rows; over all claims every row was counted written exactly once.
      expect(retried!.result!.outcomes[0]).toMatchObject({ status: 'done', counts: { written: 4 } });
      const written = claims
        .flatMap((c) => c.result?.outcomes ?? [])
        .reduce((n, o) => n + (o.status === 'done' ? (o.counts?.written ?? 0) : 0), 0);
      expect(written).toBe(40);
      const reclaimedAfterMs = retried!.startedAtMs! - killedAtMs;
      // Claimed again by heartbeat timeout (10 s), far inside the 120 s lease.
      expect(reclaimedAfterMs).toBeLessThan(fn.spec.schedule.leaseSeconds * 1000);
      process.stderr.write(`[claims] SIGKILL → claim started again after ${reclaimedAfterMs} ms (history)\n`);
    } finally {
      await doomed.kill();
      await survivor?.stop();
    }
  });

  it('a pull worker with a wrong store key dead-letters nothing, shows Degraded: StoreRejected, and resumes when the key is fixed', async () => {
    const fn = await seededFunction(h, 'badkey', 32, { schedule: oneScan(30, 2) });
    let calls = 0;
    const wrongKey = createStoreClient({ baseUrl: h.storeServer.url, apiKey: 'not-the-key' });
    const bad = startPullWorker(
      h,
      fn.spec,
      () => {
        calls += 1;
        return [];
      },
      4,
      undefined,
      wrongKey,
    );
    let good: { stop(): Promise<void> } | undefined;
    try {
      await startFunction(h, fn.spec);
      const degraded = await statusWhen(
        h,
        fn,
        (x) => x.phase === 'degraded' && x.counters.failedBatches === 0,
        60_000,
        'degraded',
      );
      expect(degraded.degraded).toMatchObject({ reason: 'StoreRejected' });
      expect(degraded.degraded!.message).toMatch(/401|unauthorized/i);
      expect(degraded.degraded!.hint).toContain('LAYER_STORE_API_KEY');
      // Let it probe a few times: still nothing dead-lettered, nothing computed.
      await eventually(
        () => claimHistory(h, fn.workflowId),
        (x) => x.claims.filter((c) => c.result?.systemic).length >= 3,
        60_000,
        'three claims refused',
      );
      const held = await statusOf(h, fn.ref);
      expect(held.phase).toBe('degraded');
      expect(held.counters.deadLettered).toBe(0);
      expect(calls).toBe(0);
      expect(
        (await readAll(h.store, fn.storeNamespace, ['tags_error'])).every((r) => r.tags_error == null),
      ).toBe(true);

      // The key is fixed (the worker restarts with the right Secret).
      await bad.stop();
      good = startPullWorker(h, fn.spec, taggingHandler());
      const s = await statusWhenProcessed(h, fn, 32, { also: (x) => x.phase !== 'degraded' });
      expect(s.counters.deadLettered).toBe(0);
      expect(s.degraded).toBeUndefined();
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v', 'tags_error']);
      expect(rows.map((r) => r.tags)).toEqual(range(1, 33).map(titleTags));
      expect(rows.every((r) => r.tags_error == null)).toBe(true);
      await recordHistories(h, fn.workflowId, 'function-v2-degraded');
    } finally {
      await bad.stop();
      await good?.stop();
    }
  });
});

describe('version guard and several namespaces', () => {
  it('a stale batch never overwrites a newer version: the write is refused and counted superseded', async () => {
    const ns = uniqueName('products');
    await seedRows(h.store, ns, range(1, 5));
    const spec = baseSpec(uniqueName('stale'), ns);
    const stages = functionBatchStages(h.store, async (req) =>
      req.rows.map((r) => ({ id: r.id, value: ['stale'] })),
    );
    // Discovery declares the engine's attributes before any filtered read; so does this test.
    await declareEngineAttributes(h.store, ns, spec.output);
    // The batch reads its rows at no version…
    const prepared = await stages.prepare({ batchId: 'b1', namespace: ns, ids: [1, 2, 3, 4], spec });
    // …then a newer version lands on rows 2 and 3 before it writes.
    await h.store.patchRows(ns, [
      { id: 2, tags: ['newer'], tags_v: 'v2' },
      { id: 3, tags: ['newer'], tags_v: 'v2' },
    ] as never);
    const result = await stages.finish(prepared, await stages.compute(prepared));
    expect(result).toMatchObject({ written: 2, superseded: 2 });
    const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
    expect(rows.map((r) => [r.id, r.tags_v, r.tags])).toEqual([
      [1, 'v1', ['stale']],
      [2, 'v2', ['newer']],
      [3, 'v2', ['newer']],
      [4, 'v1', ['stale']],
    ]);
  });

  it('runs a Function over three namespaces with two scans at once, every row its value', async () => {
    const namespaces = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
    for (const [i, ns] of namespaces.entries()) await seedRows(h.store, ns, range(1, 41 + i * 20));
    const fn = testFunction(
      baseSpec(uniqueName('multi'), namespaces[0]!, {
        targetNamespaces: namespaces,
        schedule: {
          discoveryIntervalSeconds: 60,
          leaseSeconds: 30,
          maxInFlightBatches: 4,
          maxConcurrentScans: 2,
        },
      }),
    );
    const worker = startPullWorker(h, fn.spec, taggingHandler());
    try {
      const s = await startAndWaitProcessed(h, fn, 40 + 60 + 80);
      expect(s.counters.deadLettered).toBe(0);
      for (const [i, ns] of namespaces.entries()) {
        const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
        expect(rows.map((r) => [r.tags_v, r.tags])).toEqual(
          range(1, 41 + i * 20).map((id) => ['v1', titleTags(id)]),
        );
      }
      // Idle only once every namespace's scan is done, not the first one's.
      await statusWhen(h, fn, (x) => x.phase === 'idle' && x.pendingRows === 0, 30_000, 'idle');
    } finally {
      await worker.stop();
    }
  });
});
