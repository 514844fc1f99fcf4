// Engine v2 on the real Temporal dev server and the embedded store: multi-batch claims (a busy
// worker's next batch is in hand before its current one completes, with no workflow task
// between them), the lease bound across worker slots, a claim resumed after its worker is
// SIGKILLed, poison rows isolated inside a multi-batch claim, and a systemic failure (a pull
// worker with a wrong store key) that dead-letters nothing and recovers once the key is fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTaskQueue, functionWorkflowId } from '../../../src/contracts/names.js';
import { createStoreClient } from '../../../src/store/client.js';
import { functionBatchStages } from '../../../src/engine/function-batch.js';
import { declareEngineAttributes } from '../../../src/engine/engine-attributes.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  baseSpec,
  claimHistory,
  eventually,
  range,
  readAll,
  recordHistories,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
  type EngineHarness,
} from './harness.js';
import { spawnFixture } from './fixtures/spawn.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titleTags = (id: number) => ['product', 'number', String(id), 'deluxe'];

let h: EngineHarness;

beforeAll(async () => {
  // The store accepts only the harness's key, so a worker with another key is refused (401).
  h = await startEngineHarness({ storeApiKeys: ['test'] });
});
afterAll(async () => {
  await h?.close();
});

describe('Function claims (engine v2)', () => {
  it('runs several batches per claim back to back: fewer dispatches and workflow tasks than batches, never more leased than maxInFlightBatches', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('claims');
    await seedRows(h.store, ns, range(1, 481));
    const spec = baseSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 30,
        maxInFlightBatches: 2,
        maxConcurrentScans: 1,
      },
    });
    const seen = new Map<string, number>();
    const inner = taggingHandler(seen);
    let running = 0;
    let maxRunning = 0;
    // Six worker slots, but the workflow lets out two claims: at most two handler calls at once.
    const worker = startPullWorker(
      h,
      spec,
      async (rows, ctx) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        running -= 1;
        return inner(rows, ctx);
      },
      6,
    );
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 480,
        90_000,
        '480 rows',
      );
      expect(s.counters.batches).toBe(60);
      expect(maxRunning).toBe(2);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
      expect(rows.map((r) => r.tags)).toEqual(range(1, 481).map(titleTags));

      const { claims, workflowTasks } = await claimHistory(h, functionWorkflowId(spec.k8sNamespace, name));
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
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-claims');
    } finally {
      await worker.stop();
    }
  });

  it('resumes a claim whose worker was SIGKILLed after its last finished batch, within the heartbeat timeout, losing and recomputing nothing', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('kill');
    await seedRows(h.store, ns, range(1, 41));
    // A long lease: a claim found again quickly was found by its heartbeat, not the lease.
    const spec = baseSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 120,
        maxInFlightBatches: 1,
        maxConcurrentScans: 1,
      },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const doomed = spawnFixture('pull-worker-process.ts', {
      HANDLER: 'slow',
      SLOW_MS: '150',
      LAYER_TASK_QUEUE: functionTaskQueue(spec.k8sNamespace, name),
      LAYER_TEMPORAL_ADDRESS: temporalAddress(),
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: h.storeServer.url,
    });
    let survivor: { stop(): Promise<void> } | undefined;
    try {
      await startFunction(h, spec);
      // The first two claims hold one batch each (nothing measured, then only one discovered);
      // the third holds rows 9..40. Kill the worker while it computes its fourth batch (21..24).
      await doomed.waitForLine(/^BATCH 21,/);
      await doomed.kill();
      const killedAtMs = Date.now();
      const childBatches = doomed.lines.filter((l) => l.startsWith('BATCH ')).length;
      const seen = new Map<string, number>();
      survivor = startPullWorker(h, spec, taggingHandler(seen));
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 40,
        60_000,
        '40 rows',
      );
      expect(s.counters.deadLettered).toBe(0);
      // Rows the child finished keep its value; the rest got the survivor's, each computed once.
      const rows = await readAll(h.store, ns, ['tags', 'tags_v', 'tags_error']);
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

      const { claims } = await claimHistory(h, functionWorkflowId(spec.k8sNamespace, name));
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
      expect(reclaimedAfterMs).toBeLessThan(spec.schedule.leaseSeconds * 1000);
      process.stderr.write(`[claims] SIGKILL → claim started again after ${reclaimedAfterMs} ms (history)\n`);
    } finally {
      await doomed.kill();
      await survivor?.stop();
    }
  });

  it('isolates poison rows inside a multi-batch claim and writes every other row', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('poison');
    await seedRows(h.store, ns, range(1, 201));
    const poison = new Set([37, 150]);
    const spec = baseSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 30,
        maxInFlightBatches: 2,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const inner = taggingHandler();
    const worker = startPullWorker(h, spec, async (rows, ctx) => {
      await sleep(5);
      const bad = rows.find((r) => poison.has(Number(r.id)));
      if (bad) throw new Error(`cannot tag row ${String(bad.id)}`);
      return inner(rows, ctx);
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 198 && x.counters.deadLettered === 2,
        90_000,
        '198 rows written, 2 dead-lettered',
      );
      expect(s.counters.processed).toBe(198);
      const rows = await readAll(h.store, ns, ['tags', 'tags_v', 'tags_error']);
      for (const r of rows) {
        const id = Number(r.id);
        if (poison.has(id)) {
          expect(r.tags_v ?? null).toBeNull();
          expect(JSON.parse(String(r.tags_error))).toMatchObject({
            message: `handler failed: cannot tag row ${id}`,
          });
        } else {
          expect(r.tags).toEqual(titleTags(id));
          expect(r.tags_error ?? null).toBeNull();
        }
      }
      const { claims } = await claimHistory(h, functionWorkflowId(spec.k8sNamespace, name));
      // A poison batch failed inside a claim that carried other batches, which were written.
      const shared = claims.filter(
        (c) =>
          (c.result?.outcomes.length ?? 0) >= 2 &&
          c.result!.outcomes.some((o) => o.status === 'failed') &&
          c.result!.outcomes.some((o) => o.status === 'done'),
      );
      expect(shared.length).toBeGreaterThan(0);
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-poison-split');
    } finally {
      await worker.stop();
    }
  });

  it('a pull worker with a wrong store key dead-letters nothing, shows Degraded: StoreRejected, and resumes when the key is fixed', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('badkey');
    await seedRows(h.store, ns, range(1, 33));
    const spec = baseSpec(name, ns, {
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 30,
        maxInFlightBatches: 2,
        maxConcurrentScans: 1,
      },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    let calls = 0;
    const wrongKey = createStoreClient({ baseUrl: h.storeServer.url, apiKey: 'not-the-key' });
    const bad = startPullWorker(
      h,
      spec,
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
      await startFunction(h, spec);
      const degraded = await eventually(
        () => statusOf(h, ref),
        (x) => x.phase === 'degraded' && x.counters.failedBatches === 0,
        60_000,
        'degraded',
      );
      expect(degraded.degraded).toMatchObject({ reason: 'StoreRejected' });
      expect(degraded.degraded!.message).toMatch(/401|unauthorized/i);
      expect(degraded.degraded!.hint).toContain('LAYER_STORE_API_KEY');
      // Let it probe a few times: still nothing dead-lettered, nothing computed.
      await eventually(
        () => claimHistory(h, functionWorkflowId(spec.k8sNamespace, name)),
        (x) => x.claims.filter((c) => c.result?.systemic).length >= 3,
        60_000,
        'three claims refused',
      );
      const held = await statusOf(h, ref);
      expect(held.phase).toBe('degraded');
      expect(held.counters.deadLettered).toBe(0);
      expect(calls).toBe(0);
      expect((await readAll(h.store, ns, ['tags_error'])).every((r) => r.tags_error == null)).toBe(true);

      // The key is fixed (the worker restarts with the right Secret).
      await bad.stop();
      good = startPullWorker(h, spec, taggingHandler());
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 32 && x.phase !== 'degraded',
        60_000,
        'recovered',
      );
      expect(s.counters.deadLettered).toBe(0);
      expect(s.degraded).toBeUndefined();
      const rows = await readAll(h.store, ns, ['tags', 'tags_v', 'tags_error']);
      expect(rows.map((r) => r.tags)).toEqual(range(1, 33).map(titleTags));
      expect(rows.every((r) => r.tags_error == null)).toBe(true);
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-degraded');
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
    const name = uniqueName('multi');
    const spec = baseSpec(name, namespaces[0]!, {
      targetNamespaces: namespaces,
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 30,
        maxInFlightBatches: 4,
        maxConcurrentScans: 2,
      },
    });
    const worker = startPullWorker(h, spec, taggingHandler());
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 40 + 60 + 80,
        60_000,
        '180 rows',
      );
      expect(s.counters.deadLettered).toBe(0);
      for (const [i, ns] of namespaces.entries()) {
        const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
        expect(rows.map((r) => [r.tags_v, r.tags])).toEqual(
          range(1, 41 + i * 20).map((id) => ['v1', titleTags(id)]),
        );
      }
      await eventually(
        () => statusOf(h, ref),
        (x) => x.phase === 'idle' && x.pendingRows === 0,
        30_000,
        'idle',
      );
    } finally {
      await worker.stop();
    }
  });
});
