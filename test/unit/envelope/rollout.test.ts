import { describe, expect, it } from 'vitest';
import type { ClaimReport } from '../../../packages/worker/src/contracts/claims.js';
import {
  COMPARISON_ROWS,
  NOTHING_SAMPLED,
  abortRefusal,
  aborted,
  canaryClaim,
  canarySampled,
  canaryShownRows,
  canaryTally,
  canaryOutput,
  effectiveSpec,
  promoteRefusal,
  promoted,
  rolloutHolds,
  rolloutOnSpecChange,
} from '../../../src/envelope/rollout.js';
import type { FunctionRuntimeSpec, RolloutState } from '../../../src/contracts/function.js';

const NOW = '2026-11-30T12:00:00.000Z';

function spec(version: string, canaryRows?: number): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'shop',
    name: 'tag',
    generation: 1,
    targetNamespaces: ['products'],
    inputs: ['title'],
    output: { attribute: 'tags', kind: 'tags', version, inputFingerprint: true },
    worker: { dispatch: 'pull', batchSize: 10, timeoutSeconds: 10 },
    schedule: {
      discoveryIntervalSeconds: 60,
      leaseSeconds: 30,
      maxInFlightBatches: 2,
      maxConcurrentScans: 1,
    },
    retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
    paused: false,
    ...(canaryRows ? { rollout: { canaryRows } } : {}),
  };
}

function rollout(stage: RolloutState['stage'], from = 'v1', to = 'v2'): RolloutState {
  return {
    fromVersion: from,
    toVersion: to,
    stage,
    canaryRows: 20,
    startedAt: NOW,
    sampled: 0,
    written: 0,
    failed: 0,
    comparison: [],
  };
}

describe('rolloutOnSpecChange', () => {
  it.each<[string, RolloutState | undefined, string, FunctionRuntimeSpec, RolloutState | undefined, boolean]>(
    [
      [
        'a version change without spec.rollout rolls out at once',
        undefined,
        'v1',
        spec('v2'),
        undefined,
        false,
      ],
      [
        'a version change with canaryRows starts a canary from the running version',
        undefined,
        'v1',
        spec('v2', 20),
        rollout('canary'),
        false,
      ],
      ['the same version again is no rollout', undefined, 'v1', spec('v1', 20), undefined, false],
      [
        'the CR resending the canaried version keeps the rollout',
        rollout('awaitingPromotion'),
        'v1',
        spec('v2', 20),
        rollout('awaitingPromotion'),
        false,
      ],
      [
        'an aborted rollout stays aborted while the CR names its version',
        rollout('aborted'),
        'v1',
        spec('v2', 20),
        rollout('aborted'),
        false,
      ],
      [
        'going back to the rows’ version ends the canary and clears it',
        rollout('awaitingPromotion'),
        'v1',
        spec('v1', 20),
        undefined,
        true,
      ],
      [
        'a third version starts a new canary from the rows’ version',
        rollout('awaitingPromotion'),
        'v1',
        spec('v3', 20),
        rollout('canary', 'v1', 'v3'),
        true,
      ],
      [
        'a third version without canaryRows rolls out at once',
        rollout('canary'),
        'v1',
        spec('v3'),
        undefined,
        true,
      ],
      [
        'a new version after an abort needs no cleanup',
        rollout('aborted'),
        'v1',
        spec('v3', 20),
        rollout('canary', 'v1', 'v3'),
        false,
      ],
    ],
  )('%s', (_, prev, running, next, expected, clearCanary) => {
    expect(rolloutOnSpecChange(prev, running, next, NOW)).toEqual({ rollout: expected, clearCanary });
  });
});

describe('which version runs', () => {
  it('runs the rows’ version while a rollout exists, and holds dispatch until an abort', () => {
    expect(effectiveSpec(spec('v2', 20), undefined).output.version).toBe('v2');
    expect(effectiveSpec(spec('v2', 20), rollout('canary')).output.version).toBe('v1');
    expect(effectiveSpec(spec('v2', 20), rollout('aborted')).output.version).toBe('v1');
    expect(
      [undefined, 'canary', 'awaitingPromotion', 'aborted'].map((s) =>
        rolloutHolds(s ? rollout(s as never) : undefined),
      ),
    ).toEqual([false, true, true, false]);
  });

  it('writes the canary beside the real attribute, without fingerprints', () => {
    expect(canaryOutput(spec('v1').output, 'v2')).toEqual({
      attribute: 'tags__canary',
      kind: 'tags',
      version: 'v2',
    });
  });
});

describe('promote and abort', () => {
  it.each<[string, RolloutState | undefined, string | undefined, string | undefined]>([
    ['nothing to do', undefined, 'no rollout is waiting', 'no rollout to abort'],
    ['canary running', rollout('canary'), 'still running', undefined],
    ['awaiting promotion', rollout('awaitingPromotion'), undefined, undefined],
    // ADR 0055: an aborted version is never rolled out to every row without a new canary.
    ['aborted', rollout('aborted'), 'was aborted: the engine runs v1', 'already aborted'],
  ])('%s', (_, r, promoteWhy, abortWhy) => {
    const p = promoteRefusal(r);
    const a = abortRefusal(r);
    if (promoteWhy) expect(p).toContain(promoteWhy);
    else expect(p).toBeUndefined();
    if (abortWhy) expect(a).toContain(abortWhy);
    else expect(a).toBeUndefined();
  });

  it('promote ends the rollout; abort keeps it as aborted; both clear the side attribute', () => {
    expect(promoted(rollout('awaitingPromotion'))).toEqual({ rollout: undefined, clearCanary: true });
    expect(aborted(rollout('awaitingPromotion'))).toEqual({ rollout: rollout('aborted'), clearCanary: true });
    expect(aborted(rollout('canary'))).toEqual({ rollout: rollout('aborted'), clearCanary: true });
  });
});

describe('the canary claim', () => {
  const sample = [
    { namespace: 'products', ids: [1, 2, 3] },
    { namespace: 'archive', ids: ['x'] },
  ];

  it.each<[string, { namespace: string; ids: (string | number)[] }[], { sampled: number; error?: string }]>([
    ['rows sampled: no error', sample, { sampled: 4 }],
    // An empty sample is usually a filter that names the old version.
    [
      'nothing sampled says why',
      [{ namespace: 'products', ids: [] }],
      { sampled: 0, error: NOTHING_SAMPLED },
    ],
  ])('canarySampled: %s', (_why, s, out) => {
    expect(canarySampled(s)).toEqual(out);
  });

  it('cuts the sample into batches per namespace, named after the run', () => {
    const claim = canaryClaim(sample, { runTag: 'r1', batchSize: 2, maxAttempts: 3, nowMs: 5 });
    expect(claim.claimId).toBe('r1-canary');
    expect(claim.sinceMs).toBe(5);
    expect(claim.batches.map((b) => [b.batchId, b.payload, b.attempts, b.maxAttempts, b.splitDepth])).toEqual(
      [
        ['r1-canary-1', { namespace: 'products', ids: [1, 2] }, 0, 3, 0],
        ['r1-canary-2', { namespace: 'products', ids: [3] }, 0, 3, 0],
        ['r1-canary-3', { namespace: 'archive', ids: ['x'] }, 0, 3, 0],
      ],
    );
  });

  it.each<[string, ClaimReport, { written: number; failed: number; error?: string }]>([
    [
      'written rows and row failures of done batches count',
      {
        claimId: 'r1-canary',
        outcomes: [
          {
            batchId: 'r1-canary-1',
            status: 'done',
            ms: 1,
            counts: { written: 1 },
            rowFailures: [{ type: 'InvalidOutput', message: 'bad' }],
          },
        ],
      },
      { written: 1, failed: 1 },
    ],
    [
      // A failed batch counts all its rows: none of them has a canary value to compare.
      'a failed batch counts all its rows as failed',
      {
        claimId: 'r1-canary',
        outcomes: [
          {
            batchId: 'r1-canary-1',
            status: 'failed',
            ms: 1,
            failure: { type: 'HandlerFailed', message: 'x' },
          },
        ],
      },
      { written: 0, failed: 2 },
    ],
    [
      'a systemic failure becomes the error',
      { claimId: 'r1-canary', outcomes: [], systemic: { type: 'WorkerUnavailable', message: 'worker gone' } },
      { written: 0, failed: 0, error: 'worker gone' },
    ],
  ])('canaryTally: %s', (_why, report, tally) => {
    const claim = canaryClaim(sample, { runTag: 'r1', batchSize: 2, maxAttempts: 3, nowMs: 5 });
    expect(canaryTally(claim, report)).toEqual(tally);
  });

  it(`reads back at most ${COMPARISON_ROWS} rows, in sample order`, () => {
    const many = [{ namespace: 'p', ids: [1, 2, 3, 4, 5, 6, 7] }];
    expect(canaryShownRows(many)).toEqual([1, 2, 3, 4, 5].map((id) => ({ namespace: 'p', id })));
    expect(canaryShownRows(sample)).toHaveLength(4);
  });
});
