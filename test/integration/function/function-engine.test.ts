// The Function engine end to end on the real Temporal dev server and the embedded store over
// HTTP, with pull workers built from the SDK: discovery, batching, retries, dead letters (poison
// rows split out of a multi-batch claim, then replayed), pause/resume and continue-as-new.
import { describe, expect, it } from 'vitest';
import {
  discoverFunctionNow,
  replayFunctionDeadLetters,
  setFunctionPaused,
} from '../../../src/client/function-client.js';
import {
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
} from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const titleTags = (id: number) => ['product', 'number', String(id), 'deluxe'];

const h = engineHarnessPerFile();

describe('Function engine (pull workers)', () => {
  it('writes every matching row once, skips rows already at the version, and picks up rows added later', async () => {
    const fn = await seededFunction(h, 'tag', 100);
    // Rows 101..110 are already at v1: never sent to the worker.
    await seedRows(h.store, fn.storeNamespace, range(101, 111), () => ({ tags: ['kept'], tags_v: 'v1' }));
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, fn.spec, taggingHandler(seen));
    try {
      await startAndWaitProcessed(h, fn, 100);
      // Rows added later are found by the next discovery pass (interval 1 s).
      await seedRows(h.store, fn.storeNamespace, range(111, 131));
      const status = await statusWhenProcessed(h, fn, 120);
      expect(status.counters.deadLettered).toBe(0);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v']);
      expect(rows).toHaveLength(130);
      expect(rows.every((r) => r.tags_v === 'v1')).toBe(true);
      expect(rows.find((r) => r.id === 105)?.tags).toEqual(['kept']);
      expect(rows.find((r) => r.id === 7)?.tags).toEqual(titleTags(7));
      // Each row reached the worker exactly once; the pre-versioned rows never did.
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(seen.size).toBe(120);
      expect(seen.has('105')).toBe(false);
      await statusWhen(
        h,
        fn,
        (s) => s.pendingRows === 0 && s.phase === 'idle',
        30_000,
        'idle with nothing pending',
      );
    } finally {
      await worker.stop();
    }
  });

  it('pauses without dispatching and resumes where it left off', async () => {
    const fn = await seededFunction(h, 'pause', 40, { paused: true });
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, fn.spec, taggingHandler(seen));
    try {
      await startFunction(h, fn.spec);
      await discoverFunctionNow(h.client, fn.ref);
      // Wait until the workflow has handled the signal (a workflow task completed after it),
      // then nothing may have gone out: no claim in history, no batch counted.
      const handle = h.client.workflow.getHandle(fn.workflowId);
      await eventually(
        async () => (await handle.fetchHistory()).events ?? [],
        (events) => {
          const signaled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
          return signaled >= 0 && events.slice(signaled).some((e) => e.workflowTaskCompletedEventAttributes);
        },
        30_000,
        'discoverNow handled',
      );
      expect((await claimHistory(h, fn.workflowId)).claims).toEqual([]);
      const paused = await statusOf(h, fn.ref);
      expect(paused.phase).toBe('paused');
      expect(paused.counters.batches).toBe(0);
      expect(seen.size).toBe(0);
      await setFunctionPaused(h.client, fn.ref, false);
      await statusWhenProcessed(h, fn, 40);
      await recordHistories(h, fn.workflowId, 'function-v2-pause');
    } finally {
      await worker.stop();
    }
  });

  it('retries transient worker errors per the retry policy', async () => {
    const fn = await seededFunction(h, 'flaky', 16, {
      retry: { maxAttempts: 4, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    let calls = 0;
    const inner = taggingHandler();
    const worker = startPullWorker(
      h,
      fn.spec,
      async (rows, ctx) => {
        calls += 1;
        // The first two calls fail: a third attempt is within maxAttempts 4.
        if (calls <= 2) throw new Error('model server warming up');
        return inner(rows, ctx);
      },
      1,
    );
    try {
      const s = await startAndWaitProcessed(h, fn, 16);
      expect(s.counters.deadLettered).toBe(0);
      expect(s.counters.failedBatches).toBe(0);
      expect(s.counters.retries).toBe(2);
      expect(calls).toBe(4); // 2 failures + 2 successful batches of 8
      // What /metrics exports from the status: the two failures and retries by type, both
      // finished batches in the duration histogram, no lost claim.
      expect(s.observations).toMatchObject({
        failuresByType: { HandlerFailed: 2 },
        retriesByType: { HandlerFailed: 2 },
        claimsLost: 0,
        batchSeconds: { count: 2 },
      });
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters poison rows inside a multi-batch claim while every other row is written, skips them on discovery, then replays them', async () => {
    // One scan and two claims in flight: claims grow to several batches, so a poison batch
    // fails inside a claim that carries others.
    const fn = await seededFunction(h, 'poison', 200, {
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 30,
        maxInFlightBatches: 2,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const poison = new Set([37, 150]);
    let cured = false;
    const inner = taggingHandler();
    const worker = startPullWorker(h, fn.spec, async (rows, ctx) => {
      await sleep(5);
      const bad = rows.find((r) => poison.has(Number(r.id)));
      if (bad && !cured) throw new Error(`cannot tag row ${String(bad.id)}`);
      return inner(rows, ctx);
    });
    try {
      const s = await startAndWaitProcessed(h, fn, 198, {
        also: (x) => x.counters.deadLettered === 2,
        timeoutMs: 90_000,
      });
      expect(s.lastError).toContain('cannot tag row');
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v', 'tags_error']);
      for (const r of rows) {
        const id = Number(r.id);
        if (poison.has(id)) {
          expect(r.tags_v ?? null).toBeNull();
          expect(JSON.parse(String(r.tags_error))).toMatchObject({
            message: `handler failed: cannot tag row ${id}`,
            version: 'v1',
            attempts: 2,
          });
        } else {
          expect(r.tags).toEqual(titleTags(id));
          expect(r.tags_error ?? null).toBeNull();
        }
      }
      const { claims } = await claimHistory(h, fn.workflowId);
      // A poison batch failed inside a claim that carried other batches, which were written.
      const shared = claims.filter(
        (c) =>
          (c.result?.outcomes.length ?? 0) >= 2 &&
          c.result!.outcomes.some((o) => o.status === 'failed') &&
          c.result!.outcomes.some((o) => o.status === 'done'),
      );
      expect(shared.length).toBeGreaterThan(0);
      await recordHistories(h, fn.workflowId, 'function-v2-poison-split');
      // Discovery skips dead letters: more passes do not touch them.
      await discoverFunctionNow(h.client, fn.ref);
      await sleep(1_500);
      expect((await statusOf(h, fn.ref)).counters.processed).toBe(198);
      // Fixed worker + replay: the two rows run again and complete.
      cured = true;
      expect(await replayFunctionDeadLetters(h.client, fn.ref)).toBe(2);
      const after = await statusWhenProcessed(h, fn, 200);
      expect(after.counters.deadLettered).toBe(0);
      const final = await readAll(h.store, fn.storeNamespace, ['tags_v', 'tags_error']);
      expect(final.every((r) => r.tags_v === 'v1' && r.tags_error == null)).toBe(true);
      await recordHistories(h, fn.workflowId, 'function-v2-poison-replay');
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters exactly the row whose embedding has the wrong dimension, without bisecting, and writes the rest', async () => {
    const fn = await seededFunction(h, 'embed', 4, {
      output: { attribute: 'vec', kind: 'embedding', version: 'e1', dim: 4 },
      filter: undefined,
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      retry: { maxAttempts: 5, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    let calls = 0;
    const worker = startPullWorker(h, fn.spec, async (rows) => {
      calls += 1;
      // Row 3 comes back with 3 numbers instead of 4.
      return rows.map((r) => ({
        id: r.id,
        value: Number(r.id) === 3 ? [0.1, 0.2, 0.3] : [0.1, 0.2, 0.3, 0.4],
      }));
    });
    try {
      const s = await startAndWaitProcessed(h, fn, 3, { also: (x) => x.counters.deadLettered === 1 });
      expect(s.lastError).toMatch(/row 3: vec has length 3, but output\.dim is 4/);
      // Row-scoped: the failure names row 3, so the batch is neither retried nor bisected —
      // one handler call (v1 bisected: 5 calls).
      expect(calls).toBe(1);
      expect(s.counters.failedBatches).toBe(0);
      const rows = await readAll(h.store, fn.storeNamespace, ['vec', 'vec_v', 'vec_error']);
      const row3 = rows.find((r) => r.id === 3)!;
      expect(row3.vec).toBeUndefined();
      expect(row3.vec_v).toBeUndefined();
      expect(String(row3.vec_error)).toContain('output.dim is 4');
      // The other rows of that batch carry exactly the values the handler returned.
      for (const id of [1, 2, 4]) {
        const row = rows.find((r) => r.id === id)!;
        expect(row.vec_v).toBe('e1');
        expect(row.vec_error ?? null).toBeNull();
        expect((row.vec as number[]).map((x) => Math.round(x * 10) / 10)).toEqual([0.1, 0.2, 0.3, 0.4]);
      }
    } finally {
      await worker.stop();
    }
  });

  it('continues as new with its counters and finishes the exact work', async () => {
    const fn = await seededFunction(h, 'can', 80);
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, fn.spec, taggingHandler(seen));
    try {
      // A run starts dispatching no new discovery after 3 batches and drains what it holds
      // (in flight plus the read-ahead, at most 2 × maxInFlightBatches = 8): 10 batches need
      // at least 2 runs.
      await h.client.workflow.start('functionWorkflow', {
        workflowId: fn.workflowId,
        taskQueue: h.taskQueue,
        args: [{ spec: fn.spec, batchesPerRun: 3 }],
      });
      const s = await statusWhenProcessed(h, fn, 80, { timeoutMs: 90_000 });
      expect(s.runsSoFar).toBeGreaterThanOrEqual(2);
      expect(s.counters.batches).toBe(10);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      await recordHistories(h, fn.workflowId, 'function-v2-continue-as-new');
    } finally {
      await worker.stop();
    }
  });
});
