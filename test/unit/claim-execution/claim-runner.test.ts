// The claim runner with stages made of promises the test resolves: what overlaps, what is
// recorded, where a claim stops and where a retried claim resumes. No server.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { ClaimReport } from '../../../packages/worker/src/contracts/claims.js';
import { runClaim, type BatchStages } from '../../../packages/worker/src/claim-execution/claim-runner.js';
import { WorkerCallError } from '../../../packages/worker/src/claim-execution/failures.js';
import { StoreAuthError } from '../../../packages/worker/src/store/errors.js';

type B = { batchId: string };
const batches = (n: number): B[] => Array.from({ length: n }, (_, i) => ({ batchId: `b${i + 1}` }));

/** Stages that log what runs and fail where told. */
function stages(opts: { failCompute?: Record<string, unknown>; failFinish?: Record<string, unknown> } = {}) {
  const log: string[] = [];
  let computing = 0;
  let maxComputing = 0;
  const s: BatchStages<B, string, string> = {
    async prepare(b) {
      log.push(`prepare ${b.batchId}`);
      await Promise.resolve();
      return b.batchId;
    },
    async compute(b) {
      computing += 1;
      maxComputing = Math.max(maxComputing, computing);
      log.push(`compute ${b.batchId}`);
      await new Promise((r) => setTimeout(r, 2));
      computing -= 1;
      log.push(`computed ${b.batchId}`);
      const err = opts.failCompute?.[b.batchId];
      if (err) throw err;
      return `out ${b.batchId}`;
    },
    async finish(b) {
      log.push(`finish ${b.batchId}`);
      const err = opts.failFinish?.[b.batchId];
      if (err) throw err;
      return { counts: { written: 1 } };
    },
  };
  return { s, log, max: () => maxComputing };
}

describe('runClaim', () => {
  it('reads the next batch before the current one computes, one compute at a time, outcomes in order', async () => {
    const { s, log, max } = stages();
    const report = await runClaim('c1', batches(3), s);
    expect(report.outcomes.map((o) => [o.batchId, o.status])).toEqual([
      ['b1', 'done'],
      ['b2', 'done'],
      ['b3', 'done'],
    ]);
    expect(max()).toBe(1);
    // b2 is read while b1 computes (prefetch); b1 is written while b2 computes.
    expect(log.indexOf('prepare b2')).toBeLessThan(log.indexOf('computed b1'));
    expect(log.indexOf('finish b1')).toBeLessThan(log.indexOf('computed b2'));
    expect(log.indexOf('computed b1')).toBeLessThan(log.indexOf('compute b2'));
  });

  it.each([
    // A handler error fails its batch only: the claim goes on.
    { row: 'handler error', err: new WorkerCallError('boom', 'HandlerFailed'), type: 'HandlerFailed' },
    // A typed failure keeps its type.
    {
      row: 'typed failure',
      err: ApplicationFailure.create({ type: 'WorkerRejectedBatch', message: 'no' }),
      type: 'WorkerRejectedBatch',
    },
  ])('a batch that fails ($row) is recorded and the claim goes on', async ({ err, type }) => {
    const { s } = stages({ failCompute: { b2: err } });
    const report = await runClaim('c1', batches(3), s);
    expect(report.outcomes.map((o) => o.status)).toEqual(['done', 'failed', 'done']);
    expect(report.outcomes[1]).toMatchObject({ failure: { type } });
    expect(report.systemic).toBeUndefined();
  });

  it('a systemic failure stops the claim: the batches after it are left unrun, nothing charged', async () => {
    const auth = new StoreAuthError('store 401 error: unauthorized', 401, 'ns', false);
    const { s } = stages({ failFinish: { b2: auth } });
    const report = await runClaim('c1', batches(4), s);
    expect(report.outcomes.map((o) => o.batchId)).toEqual(['b1']);
    expect(report.systemic).toMatchObject({ type: 'StoreRejected' });
  });

  it('resumes after the batches an earlier attempt reported, heartbeating progress after each batch', async () => {
    const { s, log } = stages();
    const resumeFrom: ClaimReport = {
      claimId: 'c1',
      outcomes: [{ batchId: 'b1', status: 'done', ms: 5, counts: { written: 1 } }],
    };
    const beats: number[] = [];
    const report = await runClaim('c1', batches(3), s, {
      resumeFrom,
      heartbeat: (p) => beats.push(p.outcomes.length),
      quietMs: 0,
    });
    expect(log.some((l) => l.endsWith(' b1'))).toBe(false);
    expect(report.outcomes.map((o) => o.batchId)).toEqual(['b1', 'b2', 'b3']);
    expect(beats).toEqual([2, 3]);
  });

  it('sends no heartbeat in a claim that ends within its quiet time (one billed action, not two)', async () => {
    const { s } = stages();
    let clock = 0;
    const beats: number[] = [];
    const heartbeat = (p: ClaimReport) => beats.push(p.outcomes.length);
    // Each batch takes 400 ms of the claim's clock.
    const timed: typeof s = {
      ...s,
      finish: async (b, p, c) => {
        clock += 400;
        return s.finish(b, p, c);
      },
    };
    await runClaim('c1', batches(3), timed, { heartbeat, now: () => clock });
    expect(beats).toEqual([]);
    // Past the quiet time (2 s by default), progress is reported after each batch again.
    await runClaim('c2', batches(8), timed, { heartbeat, now: () => clock });
    expect(beats).toEqual([5, 6, 7, 8]);
  });

  it('a worker told to stop finishes and writes the batch it computes, starts no other, and reports the rest unrun', async () => {
    const { s, log } = stages();
    const stop = new AbortController();
    const compute = s.compute.bind(s);
    // SIGTERM arrives while b2 computes.
    s.compute = async (b, p) => {
      if (b.batchId === 'b2') stop.abort();
      return compute(b, p);
    };
    const beats: ClaimReport[] = [];
    const report = await runClaim('c1', batches(4), s, {
      stopTaking: stop.signal,
      heartbeat: (p) => beats.push(p),
      // Heartbeats from the first batch on (a claim's first 2 s are otherwise quiet).
      quietMs: 0,
    });
    // A normal return (not a throw): b1 and b2 done, b3 and b4 handed back uncomputed.
    expect(report.outcomes.map((o) => [o.batchId, o.status])).toEqual([
      ['b1', 'done'],
      ['b2', 'done'],
    ]);
    expect(report.systemic).toBeUndefined();
    expect(log).toContain('finish b2');
    expect(log.filter((l) => l.startsWith('compute '))).toEqual(['compute b1', 'compute b2']);
    expect(beats.at(-1)?.outcomes.map((o) => o.batchId)).toEqual(['b1', 'b2']);
  });

  it('a worker already stopping when a claim arrives hands the whole claim back', async () => {
    const { s, log } = stages();
    const stop = new AbortController();
    stop.abort();
    const report = await runClaim('c1', batches(3), s, { stopTaking: stop.signal });
    expect(report.outcomes).toEqual([]);
    expect(log.filter((l) => l.startsWith('compute '))).toEqual([]);
  });

  it('stops between batches when cancelled', async () => {
    const { s } = stages();
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(runClaim('c1', batches(2), s, { signal: controller.signal })).rejects.toThrow('cancelled');
  });
});
