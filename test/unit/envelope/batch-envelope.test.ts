// The batch envelope's rules, by table: events in, commands out, no server. Each row says why.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClaimReport } from '../../../packages/worker/src/contracts/claims.js';
import {
  BatchEnvelope,
  SPLIT_MAX_ATTEMPTS,
  retryBackoffMs,
  type EnvelopeCommand,
  type EnvelopeSettings,
} from '../../../src/envelope/batch-envelope.js';

type P = { ids: number[] };
const ops = {
  split: (p: P): [P, P] => {
    const mid = Math.ceil(p.ids.length / 2);
    return [{ ids: p.ids.slice(0, mid) }, { ids: p.ids.slice(mid) }];
  },
};

function settings(over: Partial<EnvelopeSettings> = {}): EnvelopeSettings {
  return {
    maxInFlightClaims: 2,
    retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 8 },
    claimTargetMs: 1_000,
    maxBatchesPerClaim: 8,
    maxRowsPerClaim: 1_000,
    ...over,
  };
}

/** n batches of `rows` ids each, ids numbered from 1. */
function batches(n: number, rows = 4) {
  return Array.from({ length: n }, (_, i) => ({
    batchId: `b${i + 1}`,
    rows,
    payload: { ids: Array.from({ length: rows }, (_, j) => i * rows + j + 1) },
  }));
}

function envelope(n: number, over: Partial<EnvelopeSettings> = {}, rows = 4) {
  const e = new BatchEnvelope<P>(ops, settings(over), 'run', undefined);
  e.add(batches(n, rows));
  return e;
}

const dispatches = (cmds: EnvelopeCommand<P>[]) =>
  cmds.flatMap((c) => (c.kind === 'dispatch' ? [c.claim.batches.map((b) => b.batchId)] : []));

const done = (claimId: string, ids: string[], ms = 100): ClaimReport => ({
  claimId,
  outcomes: ids.map((batchId) => ({ batchId, status: 'done' as const, ms, counts: { written: 4 } })),
});

describe('plan: claims out', () => {
  it.each([
    // Nothing measured yet: one batch per claim, as many claims as slots.
    { row: 'first claims hold one batch each', n: 5, slots: 2, avg: undefined, want: [['b1'], ['b2']] },
    // 100 ms per batch and a 1 s target: up to 10 batches, but a fair share of 5 ready over 2 slots is 3.
    {
      row: 'fair share caps a measured claim',
      n: 5,
      slots: 2,
      avg: 100,
      want: [
        ['b1', 'b2', 'b3'],
        ['b4', 'b5'],
      ],
    },
    // Plenty ready: the target (1000 ms / 250 ms = 4 batches) decides.
    {
      row: 'target size from the measured batch time',
      n: 20,
      slots: 2,
      avg: 250,
      want: [
        ['b1', 'b2', 'b3', 'b4'],
        ['b5', 'b6', 'b7', 'b8'],
      ],
    },
    // Very fast batches are capped by maxBatchesPerClaim (8).
    {
      row: 'maxBatchesPerClaim caps fast batches',
      n: 40,
      slots: 1,
      avg: 1,
      want: [['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']],
    },
    // Fewer batches than slots: never an empty claim.
    { row: 'no empty claims', n: 1, slots: 4, avg: 100, want: [['b1']] },
  ])('$row', ({ n, slots, avg, want }) => {
    const e = envelope(n, { maxInFlightClaims: slots });
    if (avg !== undefined) e.state.batchMsAverage = avg;
    expect(dispatches(e.plan(0, { paused: false, draining: false }))).toEqual(want);
  });

  it('maxRowsPerClaim caps a claim in rows (at least one batch)', () => {
    const e = envelope(10, { maxInFlightClaims: 1, maxRowsPerClaim: 10 }, 4);
    e.state.batchMsAverage = 1;
    // 4 + 4 = 8 rows fit; a third batch would make 12.
    expect(dispatches(e.plan(0, { paused: false, draining: false }))).toEqual([['b1', 'b2']]);
  });

  // A range names no ids, so under rowCap 'listed' it weighs nothing against maxRowsPerClaim and
  // claims grow to the batch and time caps; a payload listing ids still counts every row.
  it.each([
    {
      row: "rowCap 'rows' caps ranges by rows too (runs before the patch)",
      rowCap: 'rows' as const,
      ranges: true,
      want: 2,
    },
    {
      row: "rowCap 'listed': ranges grow to maxBatchesPerClaim",
      rowCap: 'listed' as const,
      ranges: true,
      want: 8,
    },
    {
      row: "rowCap 'listed': id lists still capped by rows",
      rowCap: 'listed' as const,
      ranges: false,
      want: 2,
    },
  ])('$row', ({ rowCap, ranges, want }) => {
    const listed = { ...ops, listedRows: (p: P) => (ranges ? 0 : p.ids.length) };
    const e = new BatchEnvelope<P>(
      listed,
      settings({ maxInFlightClaims: 1, maxRowsPerClaim: 10, rowCap }),
      'run',
    );
    e.add(batches(10, 4));
    e.state.batchMsAverage = 1;
    const [claim] = dispatches(e.plan(0, { paused: false, draining: false }));
    expect(claim).toHaveLength(want);
  });

  it('never has more claims out than maxInFlightClaims, whatever the events', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.nat(3), { maxLength: 30 }), (slots, steps) => {
        const e = envelope(30, { maxInFlightClaims: slots });
        let t = 0;
        for (const step of steps) {
          t += 1_000;
          e.plan(t, { paused: false, draining: false });
          expect(e.claimsInFlight).toBeLessThanOrEqual(slots);
          const claim = e.state.claims[step % Math.max(1, e.state.claims.length)];
          if (claim)
            e.onClaimReport(
              done(
                claim.claimId,
                claim.batches.map((b) => b.batchId),
              ),
              t,
            );
        }
      }),
    );
  });

  it.each([
    { row: 'paused: nothing goes out', mode: { paused: true, draining: false }, want: [] },
    {
      row: 'draining with nothing out: continue-as-new',
      mode: { paused: false, draining: true },
      want: ['continueAsNew'],
    },
  ])('$row', ({ mode, want }) => {
    const e = envelope(3);
    expect(e.plan(0, mode).map((c) => c.kind)).toEqual(want);
  });

  it('draining waits for the claims that are out', () => {
    const e = envelope(3);
    e.plan(0, { paused: false, draining: false });
    expect(e.plan(1, { paused: false, draining: true })).toEqual([]);
    for (const c of [...e.state.claims])
      e.onClaimReport(
        done(
          c.claimId,
          c.batches.map((b) => b.batchId),
        ),
        2,
      );
    expect(e.plan(3, { paused: false, draining: true }).map((c) => c.kind)).toEqual(['continueAsNew']);
  });
});

describe('onClaimReport: batch outcomes', () => {
  function claimOf(e: BatchEnvelope<P>) {
    const [cmd] = e.plan(0, { paused: false, draining: false });
    if (cmd?.kind !== 'dispatch') throw new Error('expected a dispatch');
    return cmd.claim;
  }

  it('finished batches leave; their time feeds the claim size', () => {
    const e = envelope(1, { maxInFlightClaims: 1 });
    const claim = claimOf(e);
    expect(e.onClaimReport(done(claim.claimId, ['b1'], 200), 1)).toEqual([]);
    expect(e.idle).toBe(true);
    expect(e.state.batchMsAverage).toBe(200);
    expect(e.targetBatchesPerClaim()).toBe(5); // 1000 ms / 200 ms
  });

  it('a row-scoped failure dead-letters exactly its rows, without retry or split', () => {
    const e = envelope(1, { maxInFlightClaims: 1 });
    const claim = claimOf(e);
    const cmds = e.onClaimReport(
      {
        claimId: claim.claimId,
        outcomes: [
          {
            batchId: 'b1',
            status: 'done',
            ms: 10,
            rowFailures: [{ type: 'InvalidWorkerOutput', message: 'row 3: dim', rowIds: [3] }],
          },
        ],
      },
      1,
    );
    expect(cmds).toMatchObject([{ kind: 'deadLetter', rowIds: [3], attempts: 1 }]);
    expect(e.idle).toBe(true);
  });

  it.each([
    // Retryable batch failure with attempts left: back in the queue after the backoff (1 s × 2^0).
    {
      row: 'retryable: retried after backoff',
      type: 'HandlerFailed',
      attempts: 0,
      wantWaiting: ['b1'],
      wantNotBefore: 1_001,
      want: 'retry',
    },
    // The last attempt failed: split into halves that go first, each with SPLIT_MAX_ATTEMPTS.
    {
      row: 'attempts used up: split in halves',
      type: 'HandlerFailed',
      attempts: 2,
      wantWaiting: ['b1.1', 'b1.2'],
      want: 'split',
    },
    // Not retryable (a push worker's 4xx): split at once.
    {
      row: 'non-retryable: split at once',
      type: 'WorkerRejectedBatch',
      attempts: 0,
      wantWaiting: ['b1.1', 'b1.2'],
      want: 'split',
    },
  ])('$row', ({ type, attempts, wantWaiting, wantNotBefore, want }) => {
    const e = envelope(1, { maxInFlightClaims: 1 });
    const claim = claimOf(e);
    claim.batches[0]!.attempts = attempts;
    const cmds = e.onClaimReport(
      {
        claimId: claim.claimId,
        outcomes: [{ batchId: 'b1', status: 'failed', ms: 5, failure: { type, message: 'boom' } }],
      },
      1,
    );
    expect(cmds.map((c) => c.kind)).toEqual([want]);
    expect(e.state.waiting.map((b) => b.batchId)).toEqual(wantWaiting);
    if (wantNotBefore !== undefined) expect(e.state.waiting[0]!.notBeforeMs).toBe(wantNotBefore);
    if (wantWaiting.length === 2) {
      expect(e.state.waiting.map((b) => b.payload.ids)).toEqual([
        [1, 2],
        [3, 4],
      ]);
      expect(e.state.waiting.every((b) => b.maxAttempts === SPLIT_MAX_ATTEMPTS && b.splitDepth === 1)).toBe(
        true,
      );
    }
  });

  it('a one-row batch that fails for good is dead-lettered with its attempts', () => {
    const e = envelope(1, { maxInFlightClaims: 1 }, 1);
    const claim = claimOf(e);
    claim.batches[0]!.attempts = 2;
    const cmds = e.onClaimReport(
      {
        claimId: claim.claimId,
        outcomes: [
          { batchId: 'b1', status: 'failed', ms: 5, failure: { type: 'HandlerFailed', message: 'poison' } },
        ],
      },
      1,
    );
    expect(cmds).toMatchObject([{ kind: 'deadLetter', attempts: 3, failure: { message: 'poison' } }]);
    expect(cmds[0]).not.toHaveProperty('rowIds');
  });

  it('a batch waiting for its backoff is not dispatched early; nextWakeAtMs says when', () => {
    const e = envelope(1, { maxInFlightClaims: 1 });
    const claim = claimOf(e);
    e.onClaimReport(
      {
        claimId: claim.claimId,
        outcomes: [
          { batchId: 'b1', status: 'failed', ms: 5, failure: { type: 'HandlerFailed', message: 'x' } },
        ],
      },
      1_000,
    );
    expect(e.plan(1_500, { paused: false, draining: false })).toEqual([]);
    expect(e.nextWakeAtMs(1_500)).toBe(2_000);
    expect(dispatches(e.plan(2_000, { paused: false, draining: false }))).toEqual([['b1']]);
  });
});

describe('systemic failures: degrade, probe, recover — never dead-letter', () => {
  function degradedEnvelope() {
    const e = envelope(6, { maxInFlightClaims: 2 });
    e.state.batchMsAverage = 100;
    const [first] = e.plan(0, { paused: false, draining: false });
    if (first?.kind !== 'dispatch') throw new Error('expected a dispatch');
    // b1 finished, then the store refused the key: b2 and b3 did not run.
    const cmds = e.onClaimReport(
      {
        claimId: first.claim.claimId,
        outcomes: [{ batchId: 'b1', status: 'done', ms: 100 }],
        systemic: { type: 'StoreRejected', message: 'store 401' },
      },
      10_000,
    );
    return { e, cmds };
  }

  it('puts the unrun batches back at the front and degrades with the reason', () => {
    const { e, cmds } = degradedEnvelope();
    expect(cmds).toMatchObject([
      { kind: 'degraded', degraded: { reason: 'StoreRejected', retryAtMs: 11_000 } },
    ]);
    expect(e.state.waiting.slice(0, 2).map((b) => b.batchId)).toEqual(['b2', 'b3']);
    expect(e.state.waiting.every((b) => b.attempts === 0)).toBe(true);
  });

  it('dispatches nothing until the backoff ends, then exactly one single-batch probe', () => {
    const { e } = degradedEnvelope();
    // The other claim out before the fault is still out; nothing new goes.
    expect(e.plan(10_500, { paused: false, draining: false })).toEqual([]);
    const probe = e.plan(11_000, { paused: false, draining: false });
    expect(probe).toMatchObject([{ kind: 'dispatch', claim: { probe: true, batches: [{ batchId: 'b2' }] } }]);
    expect(e.plan(11_001, { paused: false, draining: false })).toEqual([]);
  });

  it('a failed probe doubles the backoff up to maxBackoffSeconds', () => {
    const { e } = degradedEnvelope();
    let t = 11_000;
    const backoffs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [probe] = e.plan(t, { paused: false, draining: false });
      if (probe?.kind !== 'dispatch') throw new Error('expected a probe');
      e.onClaimReport(
        {
          claimId: probe.claim.claimId,
          outcomes: [],
          systemic: { type: 'StoreRejected', message: 'still 401' },
        },
        t,
      );
      backoffs.push(e.degraded!.backoffMs);
      t = e.degraded!.retryAtMs;
    }
    expect(backoffs).toEqual([2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(e.degraded!.sinceMs).toBe(10_000);
  });

  it('a failure that says when to try again (a rate limit’s next permit) is probed then, not after a backoff', () => {
    const e = envelope(6, { maxInFlightClaims: 2 });
    const [first] = e.plan(0, { paused: false, draining: false });
    if (first?.kind !== 'dispatch') throw new Error('expected a dispatch');
    e.onClaimReport(
      {
        claimId: first.claim.claimId,
        outcomes: [],
        systemic: { type: 'RateLimitWait', message: 'next permit in 25 s', retryAfterMs: 25_000 },
      },
      10_000,
    );
    expect(e.degraded).toMatchObject({ reason: 'RateLimitWait', retryAtMs: 35_000 });
    expect(e.plan(34_999, { paused: false, draining: false })).toEqual([]);
    expect(e.plan(35_000, { paused: false, draining: false })).toMatchObject([
      { kind: 'dispatch', claim: { probe: true } },
    ]);
  });

  it('a probe that succeeds ends the degraded state and dispatch resumes', () => {
    const { e } = degradedEnvelope();
    const [probe] = e.plan(11_000, { paused: false, draining: false });
    if (probe?.kind !== 'dispatch') throw new Error('expected a probe');
    const cmds = e.onClaimReport(done(probe.claim.claimId, ['b2']), 11_100);
    expect(cmds).toEqual([{ kind: 'recovered', reason: 'StoreRejected' }]);
    expect(e.degraded).toBeUndefined();
    expect(dispatches(e.plan(11_200, { paused: false, draining: false })).length).toBeGreaterThan(0);
  });

  it('a claim whose activity failed with a systemic type degrades too, charging nothing', () => {
    const e = envelope(2, { maxInFlightClaims: 1 });
    const [cmd] = e.plan(0, { paused: false, draining: false });
    if (cmd?.kind !== 'dispatch') throw new Error('expected a dispatch');
    const cmds = e.onClaimFailed(
      cmd.claim.claimId,
      { type: 'StoreUnavailable', message: 'reset' },
      undefined,
      5,
    );
    expect(cmds.map((c) => c.kind)).toEqual(['degraded']);
    expect(e.state.waiting.map((b) => [b.batchId, b.attempts])).toEqual([
      ['b1', 0],
      ['b2', 0],
    ]);
  });
});

describe('a systemic failure scoped to one namespace (a store 429, docs/adr/0111)', () => {
  type N = { ns: string; ids: number[] };
  const scoped = {
    split: (p: N): [N, N] => [p, { ns: p.ns, ids: [] }],
    scopeOf: (p: N) => p.ns,
  };
  /** Batches alternating between namespaces a and b; a claim of a's first batch hit a 429. */
  function throttled(opts: { slots?: number; scopeOf?: boolean } = {}) {
    const e = new BatchEnvelope<N>(
      opts.scopeOf === false ? { split: scoped.split } : scoped,
      settings({ maxInFlightClaims: opts.slots ?? 2, maxBatchesPerClaim: 1 }),
      'run',
      undefined,
    );
    e.add(
      Array.from({ length: 6 }, (_, i) => ({
        batchId: `${i % 2 ? 'b' : 'a'}${i}`,
        rows: 1,
        payload: { ns: i % 2 ? 'b' : 'a', ids: [i] },
      })),
    );
    const [first, second] = e.plan(0, { paused: false, draining: false });
    if (first?.kind !== 'dispatch' || second?.kind !== 'dispatch') throw new Error('expected two dispatches');
    const cmds = e.onClaimReport(
      {
        claimId: first.claim.claimId,
        outcomes: [],
        systemic: { type: 'Quota', message: 'store 429: indexing is behind', namespace: 'a' },
      },
      10_000,
    );
    return { e, cmds, other: second.claim.claimId };
  }
  const nsOf = (cmds: EnvelopeCommand<N>[]) =>
    cmds.flatMap((c) => (c.kind === 'dispatch' ? c.claim.batches.map((b) => b.payload.ns) : []));

  it('holds back only that namespace: the others go on dispatching', () => {
    const { e, cmds } = throttled();
    expect(cmds).toMatchObject([{ kind: 'degraded', degraded: { reason: 'Quota', scope: 'a' } }]);
    expect(nsOf(e.plan(10_500, { paused: false, draining: false }))).toEqual(['b']);
  });

  it('probes the namespace once its backoff ends, in a free slot, and its success ends the degraded state', () => {
    const { e, other } = throttled();
    e.plan(10_500, { paused: false, draining: false }); // b fills the free slot
    // Both slots busy with b: the probe waits for one.
    expect(e.plan(11_000, { paused: false, draining: false })).toEqual([]);
    e.onClaimReport({ claimId: other, outcomes: [{ batchId: 'b1', status: 'done', ms: 10 }] }, 11_100);
    const [probe] = e.plan(11_200, { paused: false, draining: false });
    expect(probe).toMatchObject({
      kind: 'dispatch',
      claim: { probe: true, batches: [{ payload: { ns: 'a' } }] },
    });
    if (probe?.kind !== 'dispatch') throw new Error('expected a probe');
    const [back] = e.onClaimReport(done(probe.claim.claimId, [probe.claim.batches[0]!.batchId]), 11_300);
    expect(back).toEqual({ kind: 'recovered', reason: 'Quota' });
    expect(e.degraded).toBeUndefined();
  });

  it('a second systemic failure elsewhere holds back every namespace', () => {
    const { e, other } = throttled();
    e.onClaimReport(
      { claimId: other, outcomes: [], systemic: { type: 'StoreUnavailable', message: 'store down' } },
      10_100,
    );
    expect(e.degraded?.scope).toBeUndefined();
    expect(e.plan(10_500, { paused: false, draining: false })).toEqual([]);
  });

  it('a kind that knows no scopes holds back everything, as before', () => {
    const { e } = throttled({ scopeOf: false });
    expect(e.degraded?.scope).toBeUndefined();
    expect(e.plan(10_500, { paused: false, draining: false })).toEqual([]);
  });
});

describe('onClaimFailed: a claim that kept dying', () => {
  it('keeps finished batches, charges the first unfinished one, requeues the rest uncharged', () => {
    const e = envelope(3, { maxInFlightClaims: 1 });
    e.state.batchMsAverage = 100;
    const [cmd] = e.plan(0, { paused: false, draining: false });
    if (cmd?.kind !== 'dispatch') throw new Error('expected a dispatch');
    expect(cmd.claim.batches.map((b) => b.batchId)).toEqual(['b1', 'b2', 'b3']);
    // Its last heartbeat said b1 was done; then the worker died on b2 every attempt.
    const progress: ClaimReport = {
      claimId: cmd.claim.claimId,
      outcomes: [{ batchId: 'b1', status: 'done', ms: 100 }],
    };
    e.onClaimFailed(cmd.claim.claimId, { type: 'ClaimLost', message: 'heartbeat timeout' }, progress, 50);
    // b2 used the policy: split in halves at the front; b3 goes back uncharged.
    expect(e.state.waiting.map((b) => [b.batchId, b.attempts])).toEqual([
      ['b2.1', 0],
      ['b2.2', 0],
      ['b3', 0],
    ]);
  });
});

describe('carried state', () => {
  it('continue-as-new keeps waiting batches, the claim counter and the measurement, never claims', () => {
    const e = envelope(5, { maxInFlightClaims: 1 });
    e.state.batchMsAverage = 50;
    e.plan(0, { paused: false, draining: false });
    const carried = JSON.parse(JSON.stringify(e.state)) as typeof e.state;
    const next = new BatchEnvelope<P>(ops, settings({ maxInFlightClaims: 1 }), 'run2', carried);
    expect(next.state.claims).toEqual([]);
    expect(next.state.waiting).toEqual(e.state.waiting);
    expect(next.state.claimSeq).toBe(1);
    expect(next.state.batchMsAverage).toBe(50);
  });
});

describe('retryBackoffMs', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    // Capped at maxBackoffSeconds.
    [5, 8_000],
  ])('attempt %i waits %i ms', (attempt, ms) => {
    expect(retryBackoffMs({ maxAttempts: 9, initialBackoffSeconds: 1, maxBackoffSeconds: 8 }, attempt)).toBe(
      ms,
    );
  });
  it('initialBackoffSeconds 0 retries at once', () => {
    expect(retryBackoffMs({ maxAttempts: 9, initialBackoffSeconds: 0, maxBackoffSeconds: 8 }, 3)).toBe(0);
  });
});
