// The Function engine end to end on the real Temporal dev server and the embedded store over
// HTTP, with pull workers built from the SDK: discovery, batching, retries, dead letters,
// pause/resume and continue-as-new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discoverFunctionNow,
  replayFunctionDeadLetters,
  setFunctionPaused,
} from '../../../src/client/function-client.js';
import {
  baseSpec,
  claimHistory,
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  recordHistories,
  statusOf,
  taggingHandler,
  uniqueName,
  type EngineHarness,
} from './harness.js';
import { functionWorkflowId } from '../../../src/contracts/names.js';

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('Function engine (pull workers)', () => {
  it('writes every matching row once, skips rows already at the version, and picks up rows added later', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('tag');
    await seedRows(h.store, ns, range(1, 101));
    // Rows 101..110 are already at v1: never sent to the worker.
    await seedRows(h.store, ns, range(101, 111), () => ({ tags: ['kept'], tags_v: 'v1' }));
    const seen = new Map<string, number>();
    const spec = baseSpec(name, ns);
    const worker = startPullWorker(h, spec, taggingHandler(seen));
    try {
      await startFunction(h, spec);
      const ref = { k8sNamespace: spec.k8sNamespace, name };
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 100,
        60_000,
        '100 rows processed',
      );
      // Rows added later are found by the next discovery pass (interval 1 s).
      await seedRows(h.store, ns, range(111, 131));
      const status = await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 120,
        60_000,
        '120 rows processed',
      );
      expect(status.counters.deadLettered).toBe(0);
      const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
      expect(rows).toHaveLength(130);
      expect(rows.every((r) => r.tags_v === 'v1')).toBe(true);
      expect(rows.find((r) => r.id === 105)?.tags).toEqual(['kept']);
      expect(rows.find((r) => r.id === 7)?.tags).toEqual(['product', 'number', '7', 'deluxe']);
      // Each row reached the worker exactly once; the pre-versioned rows never did.
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(seen.size).toBe(120);
      expect(seen.has('105')).toBe(false);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.pendingRows === 0 && s.phase === 'idle',
        30_000,
        'idle with nothing pending',
      );
    } finally {
      await worker.stop();
    }
  });

  it('pauses without dispatching and resumes where it left off', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('pause');
    await seedRows(h.store, ns, range(1, 41));
    const spec = baseSpec(name, ns, { paused: true });
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, spec, taggingHandler(seen));
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      await discoverFunctionNow(h.client, ref);
      // Wait until the workflow has handled the signal (a workflow task completed after it),
      // then nothing may have gone out: no claim in history, no batch counted.
      const handle = h.client.workflow.getHandle(functionWorkflowId(spec.k8sNamespace, name));
      await eventually(
        async () => (await handle.fetchHistory()).events ?? [],
        (events) => {
          const signaled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
          return signaled >= 0 && events.slice(signaled).some((e) => e.workflowTaskCompletedEventAttributes);
        },
        30_000,
        'discoverNow handled',
      );
      expect((await claimHistory(h, functionWorkflowId(spec.k8sNamespace, name))).claims).toEqual([]);
      const paused = await statusOf(h, ref);
      expect(paused.phase).toBe('paused');
      expect(paused.counters.batches).toBe(0);
      expect(seen.size).toBe(0);
      await setFunctionPaused(h.client, ref, false);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 40,
        60_000,
        '40 rows after resume',
      );
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-pause');
    } finally {
      await worker.stop();
    }
  });

  it('retries transient worker errors per the retry policy', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('flaky');
    await seedRows(h.store, ns, range(1, 17));
    const spec = baseSpec(name, ns, {
      retry: { maxAttempts: 4, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    let calls = 0;
    const inner = taggingHandler();
    const worker = startPullWorker(
      h,
      spec,
      async (rows, ctx) => {
        calls += 1;
        // The first two calls fail: a third attempt is within maxAttempts 4.
        if (calls <= 2) throw new Error('model server warming up');
        return inner(rows, ctx);
      },
      1,
    );
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 16,
        60_000,
        '16 rows',
      );
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

  it('dead-letters poison rows while every other row completes, then replays them', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('poison');
    await seedRows(h.store, ns, range(1, 33));
    const spec = baseSpec(name, ns, {
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const poison = new Set([5, 22]);
    let cured = false;
    const inner = taggingHandler();
    const worker = startPullWorker(h, spec, async (rows, ctx) => {
      if (!cured && rows.some((r) => poison.has(Number(r.id)))) throw new Error('cannot tag this title');
      return inner(rows, ctx);
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 30 && x.counters.deadLettered === 2,
        90_000,
        '30 written + 2 dead letters',
      );
      expect(s.lastError).toContain('cannot tag this title');
      const rows = await readAll(h.store, ns, ['tags_v', 'tags_error']);
      const dead = rows.filter((r) => r.tags_error != null);
      expect(dead.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([5, 22]);
      const err = JSON.parse(String(dead[0]!.tags_error)) as {
        message: string;
        attempts: number;
        version: string;
        at: string;
      };
      expect(err).toMatchObject({ version: 'v1', attempts: 2 });
      expect(err.message).toContain('cannot tag this title');
      expect(rows.filter((r) => r.tags_v === 'v1')).toHaveLength(30);
      // Discovery skips dead letters: more passes do not touch them.
      await discoverFunctionNow(h.client, ref);
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await statusOf(h, ref)).counters.processed).toBe(30);
      // Fixed worker + replay: the two rows run again and complete.
      cured = true;
      expect(await replayFunctionDeadLetters(h.client, ref)).toBe(2);
      const after = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 32,
        60_000,
        'replayed rows written',
      );
      expect(after.counters.deadLettered).toBe(0);
      const final = await readAll(h.store, ns, ['tags_v', 'tags_error']);
      expect(final.every((r) => r.tags_v === 'v1' && r.tags_error == null)).toBe(true);
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-poison-replay');
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters exactly the row whose embedding has the wrong dimension, without bisecting, and writes the rest', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('embed');
    await seedRows(h.store, ns, range(1, 5));
    const spec = baseSpec(name, ns, {
      output: { attribute: 'vec', kind: 'embedding', version: 'e1', dim: 4 },
      filter: undefined,
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      retry: { maxAttempts: 5, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    let calls = 0;
    const worker = startPullWorker(h, spec, async (rows) => {
      calls += 1;
      // Row 3 comes back with 3 numbers instead of 4.
      return rows.map((r) => ({
        id: r.id,
        value: Number(r.id) === 3 ? [0.1, 0.2, 0.3] : [0.1, 0.2, 0.3, 0.4],
      }));
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.deadLettered === 1 && x.counters.processed === 3,
        60_000,
        'bad row isolated',
      );
      expect(s.lastError).toMatch(/row 3: vec has length 3, but output\.dim is 4/);
      // Row-scoped: the failure names row 3, so the batch is neither retried nor bisected —
      // one handler call (v1 bisected: 5 calls).
      expect(calls).toBe(1);
      expect(s.counters.failedBatches).toBe(0);
      const rows = await readAll(h.store, ns, ['vec', 'vec_v', 'vec_error']);
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
    const ns = uniqueName('products');
    const name = uniqueName('can');
    await seedRows(h.store, ns, range(1, 81));
    const spec = baseSpec(name, ns);
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, spec, taggingHandler(seen));
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      // A run starts dispatching no new discovery after 3 batches and drains what it holds
      // (in flight plus the read-ahead, at most 2 × maxInFlightBatches = 8): 10 batches need
      // at least 2 runs.
      await h.client.workflow.start('functionWorkflow', {
        workflowId: functionWorkflowId(spec.k8sNamespace, name),
        taskQueue: h.taskQueue,
        args: [{ spec, batchesPerRun: 3 }],
      });
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.counters.processed === 80,
        90_000,
        '80 rows across runs',
      );
      expect(s.runsSoFar).toBeGreaterThanOrEqual(2);
      expect(s.counters.batches).toBe(10);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-continue-as-new');
    } finally {
      await worker.stop();
    }
  });
});
