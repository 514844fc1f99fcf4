// The Function's status, phase and Temporal UI text as pure functions (src/envelope/function-status.ts):
// before the claim-workflow shell only integration tests reached them.
import { describe, expect, it } from 'vitest';
import {
  functionCarriedStateSchema,
  type FunctionBatchPayload,
  type FunctionCarriedState,
  type FunctionRuntimeSpec,
  type FunctionStatus,
  type RolloutState,
} from '../../../src/contracts/function.js';
import { FailureType } from '../../../packages/worker/src/contracts/failures.js';
import { specFingerprint } from '../../../src/contracts/fingerprint.js';
import type { Claim, DegradedState } from '../../../src/envelope/batch-envelope.js';
import {
  functionDetails,
  functionPhase,
  functionStatus,
  rolloutLines,
  type FunctionStatusInput,
} from '../../../src/envelope/function-status.js';
import type { EnvelopeView } from '../../../src/envelope/workload-status.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function spec(over: Partial<FunctionRuntimeSpec> = {}): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'shop',
    name: 'tag',
    generation: 3,
    targetNamespaces: ['products', 'archive'],
    inputs: ['title'],
    output: { attribute: 'tags', kind: 'tags', version: 'v1' },
    worker: { dispatch: 'pull', batchSize: 10, timeoutSeconds: 10 },
    schedule: {
      discoveryIntervalSeconds: 60,
      leaseSeconds: 30,
      maxInFlightBatches: 2,
      maxConcurrentScans: 1,
    },
    retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
    paused: false,
    ...over,
  };
}

function claim(id: string, batches: [string, number][]): Claim<FunctionBatchPayload> {
  return {
    claimId: id,
    sinceMs: T0,
    batches: batches.map(([ns, rows], i) => ({
      batchId: `${id}-${i}`,
      rows,
      payload: { namespace: ns, ids: Array.from({ length: rows }, (_, n) => n) },
      attempts: 0,
      maxAttempts: 3,
      splitDepth: 0,
    })),
  };
}

function envelope(
  claims: Claim<FunctionBatchPayload>[] = [],
  degraded?: DegradedState,
): EnvelopeView<FunctionBatchPayload> {
  return {
    state: { waiting: [], claims, claimSeq: claims.length, ...(degraded ? { degraded } : {}) },
    degraded,
    claimsInFlight: claims.length,
    batchesInFlight: claims.reduce((n, c) => n + c.batches.length, 0),
    rowsInFlight: claims.reduce((n, c) => n + c.batches.reduce((m, b) => m + b.rows, 0), 0),
    waitingRows: 0,
  };
}

/** `state` is carried-state JSON: the schema fills its defaults. */
function input(
  over: Omit<Partial<FunctionStatusInput>, 'state'> & { state?: object } = {},
): FunctionStatusInput {
  const s = spec();
  return {
    desired: s,
    spec: s,
    phase: 'running',
    envelope: envelope(),
    lastClaimWaitShare: 0,
    nowMs: T0,
    ...over,
    state: functionCarriedStateSchema.parse(over.state ?? {}),
  };
}

const rateLimitWait: DegradedState = {
  reason: FailureType.RateLimitWait,
  message: 'next permit in 40 s',
  sinceMs: T0,
  retryAtMs: T0 + 40_000,
  backoffMs: 1_000,
  probing: false,
};

describe('functionPhase', () => {
  const canary = { stage: 'canary' } as RolloutState;
  const awaiting = { stage: 'awaitingPromotion' } as RolloutState;
  const aborted = { stage: 'aborted' } as RolloutState;
  const base = { paused: false, draining: false, rollout: undefined, degraded: false, busy: false };
  it.each<[string, Partial<Parameters<typeof functionPhase>[0]>, string]>([
    // A paused Function that is also handing over shows paused: that is what a person changed.
    ['a pause outranks a hand-over', { paused: true, draining: true }, 'paused'],
    ['a hand-over outranks a canary', { draining: true, rollout: canary }, 'draining'],
    ['a canary outranks a degraded store', { rollout: canary, degraded: true }, 'canary'],
    ['a canary done waits for promotion', { rollout: awaiting, busy: true }, 'awaitingPromotion'],
    // Aborted: the engine runs the old version as usual, so the phase is the engine's.
    ['an aborted rollout is not a phase', { rollout: aborted, busy: true }, 'running'],
    ['degraded outranks running', { degraded: true, busy: true }, 'degraded'],
    ['claims out or a pass under way is running', { busy: true }, 'running'],
    ['nothing to do is idle', {}, 'idle'],
  ])('%s', (_why, over, phase) => {
    expect(functionPhase({ ...base, ...over })).toBe(phase);
  });
});

describe('functionStatus', () => {
  it('sums pending rows over the target namespaces only (a namespace dropped from the spec is not counted)', () => {
    const s = functionStatus(input({ state: { pendingRows: { products: 7, archive: 3, old: 100 } } }));
    expect(s.pendingRows).toBe(10);
    expect(s.pendingRowsByNamespace).toEqual({ products: 7, archive: 3 });
  });

  it('fingerprints the CR’s spec, not the one a canary runs (the operator compares against the CR)', () => {
    const desired = spec({ output: { attribute: 'tags', kind: 'tags', version: 'v2' } });
    const s = functionStatus(input({ desired }));
    expect(s.specFingerprint).toBe(specFingerprint(desired));
    expect(s.outputVersion).toBe('v1');
  });

  it.each<[string, FunctionCarriedState['rateWindow'], number, number]>([
    ['no window yet: 0', undefined, 0, 0],
    ['40 rows in 4 s: 10 rows/s', { startedAtMs: T0, processedAtStart: 460 }, 4_000, 10],
    ['one decimal: 10 rows in 3 s', { startedAtMs: T0, processedAtStart: 490 }, 3_000, 3.3],
  ])('rowsPerSecond: %s', (_why, rateWindow, elapsedMs, rate) => {
    const state = { rateWindow, counters: { processed: 500 } };
    expect(functionStatus(input({ nowMs: T0 + elapsedMs, state })).rowsPerSecond).toBe(rate);
  });

  it('lists claims out with their namespaces and rows', () => {
    const s = functionStatus(
      input({
        envelope: envelope([
          claim('c1', [
            ['products', 4],
            ['archive', 2],
            ['products', 1],
          ]),
        ]),
      }),
    );
    expect(s.inFlight).toEqual([
      { batchId: 'c1', namespace: 'products,archive', rows: 7, since: new Date(T0).toISOString() },
    ]);
    expect([s.claimsInFlight, s.inFlightBatches, s.inFlightRows]).toEqual([1, 3, 7]);
  });

  it.each<[string, number, DegradedState | undefined, boolean]>([
    ['permits took most of the last claim', 0.5, undefined, true],
    ['permits took little', 0.2, undefined, false],
    // No permit due within a claim's allowance: dispatch waits in degraded RateLimitWait.
    ['held back until the next permit', 0, rateLimitWait, true],
  ])('rate limit waiting: %s', (_why, share, degraded, waiting) => {
    const s = functionStatus(
      input({
        spec: spec({
          worker: {
            dispatch: 'pull',
            batchSize: 10,
            timeoutSeconds: 10,
            rateLimit: { key: 'openai' } as never,
          },
        }),
        lastClaimWaitShare: share,
        envelope: envelope([], degraded),
        state: { counters: { rateLimitWaitMs: 12_345 } },
      }),
    );
    expect(s.rateLimit).toEqual({ key: 'openai', lastClaimWaitShare: share, waiting, waitedSeconds: 12.3 });
  });

  it('has no rate limit block without spec.worker.rateLimit', () => {
    expect(functionStatus(input()).rateLimit).toBeUndefined();
  });
});

function rollout(stage: RolloutState['stage'], over: Partial<RolloutState> = {}): RolloutState {
  return {
    fromVersion: 'v1',
    toVersion: 'v2',
    stage,
    canaryRows: 20,
    startedAt: new Date(T0).toISOString(),
    sampled: 20,
    written: 18,
    failed: 2,
    comparison: [],
    ...over,
  };
}

describe('rolloutLines', () => {
  it.each<[string, RolloutState | undefined, string[]]>([
    ['no rollout, no lines', undefined, []],
    [
      'a running canary names both versions',
      rollout('canary'),
      ['- canary of `v2` on 20 sampled rows (rows keep `v1`)'],
    ],
    [
      // The command a person types next is in the text, with the Function's name.
      'a finished canary tells how to promote or abort',
      rollout('awaitingPromotion'),
      [
        '- canary of `v2` done: 18 of 20 sampled rows written, 2 failed — **`layer function promote tag`** to continue or **`layer function abort tag`** to go back to `v1`',
      ],
    ],
    [
      'an aborted rollout says how to roll out again',
      rollout('aborted'),
      ['- rollout of `v2` **aborted**: running `v1` (change output.version to roll out again)'],
    ],
    [
      'comparison rows and the canary error follow the head line',
      rollout('awaitingPromotion', {
        comparison: [{ namespace: 'products', id: 7, old: ['a'], oldVersion: 'v1', new: ['b'] }],
        error: 'boom',
      }),
      [
        expect.stringContaining('done: 18 of 20') as unknown as string,
        '  - products/7: ["a"] → ["b"]',
        '  - canary error: boom',
      ],
    ],
  ])('%s', (_why, r, lines) => {
    expect(rolloutLines({ name: 'tag', ...(r ? { rollout: r } : {}) })).toEqual(lines);
  });
});

describe('functionDetails', () => {
  const status = (over: Partial<FunctionStatus> = {}): FunctionStatus => ({
    ...functionStatus(input()),
    ...over,
  });

  it('leads with the phase and the rows written, pending and out', () => {
    const text = functionDetails(
      status({ pendingRows: 40, inFlightRows: 12, inFlightBatches: 2, claimsInFlight: 1 }),
    );
    expect(text.split('\n')[0]).toBe(
      '**running** — 0 rows written, 40 pending at the last count; on workers now: 12 rows in 2 batches (1 claims)',
    );
  });

  it.each<[string, Partial<FunctionStatus>, string]>([
    ['one pass is "pass"', { counters: { ...status().counters, discoveries: 1 } }, '(1 pass)'],
    ['never discovered says never', {}, 'last discovery: never (0 passes)'],
    ['the last error is shown', { lastError: 'c1: worker gone' }, '- last error: c1: worker gone'],
    [
      'a shared rate limit that holds the Function back says so',
      { rateLimit: { key: 'openai', lastClaimWaitShare: 0.75, waiting: true, waitedSeconds: 9 } },
      "- shared rate limit `openai`: **waiting on the shared budget** — 75% of the last claim's time went to permits; 9 s in all",
    ],
    ['a rollout adds its lines', { rollout: rollout('canary') }, '- canary of `v2` on 20 sampled rows'],
  ])('%s', (_why, over, line) => {
    expect(functionDetails(status(over))).toContain(line);
  });

  it('shows no error, rate limit or rollout line when there is none', () => {
    expect(functionDetails(status())).not.toMatch(/last error|shared rate limit|canary|rollout/);
  });
});
