import { describe, expect, it } from 'vitest';
import {
  abortRefusal,
  aborted,
  canaryOutput,
  effectiveSpec,
  promoteRefusal,
  promoted,
  rolloutHolds,
  rolloutOnSpecChange,
  type RolloutState,
} from '../../../src/envelope/rollout.js';
import type { FunctionRuntimeSpec } from '../../../src/contracts/function.js';

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
