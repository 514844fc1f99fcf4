// Crashes and the push path: a worker killed mid-batch loses its lease and the batch goes to
// another worker; the orchestrator process killed mid-run resumes to the exact final state; a
// push worker serves /run end to end.
import { describe, expect, it } from 'vitest';
import { createPushServer } from '../../../packages/worker/src/function-worker.js';
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { recordHistories } from '../../helpers/history-json.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  claimHistory,
  engineHarnessPerFile,
  eventually,
  range,
  readAll,
  seededFunction,
  startFunction,
  startPullWorker,
  statusOf,
  statusWhen,
  taggingHandler,
} from './harness.js';
import { spawnFixture } from './fixtures/spawn.js';

const h = engineHarnessPerFile();

describe('Function engine under failure', () => {
  it('re-dispatches a batch whose worker was killed once its lease lapses', async () => {
    // One batch of 8 rows; a 3 s lease.
    const fn = await seededFunction(h, 'lease', 8, {
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 3,
        maxInFlightBatches: 1,
        maxConcurrentScans: 1,
      },
    });
    const doomed = spawnFixture('pull-worker-process.ts', {
      HANDLER: 'hang',
      LAYER_TASK_QUEUE: functionTaskQueue(fn.spec.k8sNamespace, fn.spec.name),
      LAYER_TEMPORAL_ADDRESS: temporalAddress(),
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: h.storeServer.url,
    });
    let survivor: { stop(): Promise<void> } | undefined;
    try {
      await startFunction(h, fn.spec);
      await doomed.waitForLine(/^BATCH /);
      await doomed.kill();
      // While leased, the rows stay with the dead worker: nothing is written or re-dispatched.
      const leased = await statusOf(h, fn.ref);
      expect(leased.inFlightBatches).toBe(1);
      expect(leased.counters.processed).toBe(0);
      const seen = new Map<string, number>();
      survivor = startPullWorker(h, fn.spec, taggingHandler(seen));
      const s = await statusWhen(h, fn, (x) => x.counters.processed === 8, 30_000, 'batch re-dispatched');
      expect(s.counters.batches).toBe(1); // the same batch, a second attempt — not a new one
      expect(s.counters.deadLettered).toBe(0);
      expect(seen.size).toBe(8);
      // History says so too: one claim, whose recorded start is its second attempt.
      const { claims } = await claimHistory(h, fn.workflowId);
      expect(claims).toHaveLength(1);
      expect(claims[0]!.attempt).toBeGreaterThanOrEqual(2);
      // …which the claim's report carries, so /metrics counts the lapsed attempts.
      expect(s.observations).toMatchObject({ claimRetries: (claims[0]!.attempt ?? 0) - 1, claimsLost: 0 });
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v']);
      expect(rows.map((r) => [r.tags_v, r.tags])).toEqual(
        range(1, 9).map((id) => ['v1', ['product', 'number', String(id), 'deluxe']]),
      );
    } finally {
      await doomed.kill();
      await survivor?.stop();
    }
  });

  it('resumes to the exact final state after the orchestrator process is killed mid-run', async () => {
    const fn = await seededFunction(h, 'crash', 400, {
      worker: { dispatch: 'pull', batchSize: 10, timeoutSeconds: 10 },
    });
    const seen = new Map<string, number>();
    const inner = taggingHandler(seen);
    // The handler holds every batch after the tenth until the orchestrator has been killed and
    // restarted: the crash lands mid-run by construction, not by timing.
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const worker = startPullWorker(h, fn.spec, async (rows, ctx) => {
      calls += 1;
      if (calls > 10) await gate;
      return inner(rows, ctx);
    });
    // Only the child orchestrator polls the queue until it is killed.
    await h.stopOrchestrator();
    const orchestrator = spawnFixture('orchestrator-process.ts', {
      LAYER_TEMPORAL_ADDRESS: temporalAddress(),
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: h.storeServer.url,
      LAYER_ORCHESTRATOR_TASK_QUEUE: h.taskQueue,
    });
    try {
      await orchestrator.waitForLine(/^READY$/);
      await startFunction(h, fn.spec);
      await eventually(
        () => readAll(h.store, fn.storeNamespace, ['tags_v']),
        (rows) => rows.filter((r) => r.tags_v === 'v1').length >= 60,
        60_000,
        'some rows written before the crash',
      );
      await orchestrator.kill();
      const atCrash = (await readAll(h.store, fn.storeNamespace, ['tags_v'])).filter(
        (r) => r.tags_v === 'v1',
      ).length;
      expect(atCrash).toBeLessThanOrEqual(100); // ten batches of ten, then the gate
      await h.startOrchestrator();
      release();
      const s = await statusWhen(
        h,
        fn,
        (x) => x.counters.processed === 400 && x.phase === 'idle',
        90_000,
        'all 400 after restart',
      );
      expect(s.counters.deadLettered).toBe(0);
      // The exact final state: every row carries the value the handler computes for it.
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v', 'tags_error']);
      expect(rows.map((r) => [r.id, r.tags_v, r.tags, r.tags_error ?? null])).toEqual(
        range(1, 401).map((id) => [id, 'v1', ['product', 'number', String(id), 'deluxe'], null]),
      );
      // Batches in flight at the crash may run twice (at-least-once); their writes are idempotent
      // and the counter counts rows written once per version.
      expect(seen.size).toBe(400);
    } finally {
      release();
      await orchestrator.kill();
      if (h.orchestrator.getState() !== 'RUNNING') await h.startOrchestrator();
      await worker.stop();
    }
  });

  it('runs push dispatch end to end through a worker serving /run', async () => {
    const requests: number[] = [];
    const server = createPushServer(async (rows) => {
      requests.push(rows.length);
      return rows.map((r) => ({ id: r.id, value: ['pushed', String(r.inputs.title).split(' ')[2] ?? ''] }));
    });
    const port = await server.listen(0);
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const fn = await seededFunction(h, 'push', 50, {
        worker: { dispatch: 'push', batchSize: 16, timeoutSeconds: 5, pushUrl: `http://127.0.0.1:${port}` },
      });
      await startFunction(h, fn.spec);
      const s = await statusWhen(h, fn, (x) => x.counters.processed === 50, 60_000, '50 rows via push');
      expect(s.counters.batches).toBe(4);
      expect(requests.sort((a, b) => a - b)).toEqual([2, 16, 16, 16]);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v']);
      expect(rows.find((r) => r.id === 42)?.tags).toEqual(['pushed', '42']);
      await recordHistories(h.client, fn.workflowId, 'function-v2-push');
      // A malformed /run request is refused with the field named.
      const bad = await fetch(`http://127.0.0.1:${port}/run`, {
        method: 'POST',
        body: JSON.stringify({ rows: 'nope' }),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/invalid batch: /);
    } finally {
      await server.close();
    }
  });
});
