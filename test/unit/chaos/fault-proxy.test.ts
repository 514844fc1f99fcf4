// The chaos run's pure parts: a seed gives one fault schedule, and the regression check finds
// exactly the writes the log proves stale.
import { describe, expect, it } from 'vitest';
import { chooseFault, findRegressions, seededRandom, type LoggedWrite } from '../../../chaos/fault-proxy.js';
import { functionValue, poisonIds, versionNumber } from '../../../chaos/work.js';

describe('chooseFault', () => {
  it('is a function of the seed and the rate', () => {
    const schedule = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 200 }, () => chooseFault(r, 0.2).kind);
    };
    expect(schedule(42)).toEqual(schedule(42));
    expect(schedule(42)).not.toEqual(schedule(43));
    const kinds = new Set(schedule(42));
    expect([...kinds].sort()).toEqual(['error-after', 'error-before', 'none', 'quota', 'reset', 'stall']);
  });

  it('rate 0 never faults; stalls last 2–10 s', () => {
    const r = seededRandom(7);
    expect(Array.from({ length: 500 }, () => chooseFault(r, 0).kind).every((k) => k === 'none')).toBe(true);
    const stalls = Array.from({ length: 2000 }, () => chooseFault(r, 1)).filter((f) => f.kind === 'stall');
    expect(stalls.length).toBeGreaterThan(0);
    expect(stalls.every((f) => f.stallMs >= 2_000 && f.stallMs < 10_000)).toBe(true);
  });
});

function write(id: number, version: string, sentAtMs: number, doneAtMs: number, patched = 1): LoggedWrite {
  return {
    namespace: 'ns',
    versions: new Map([[String(id), version]]),
    rows: 1,
    patched,
    sentAtMs,
    doneAtMs,
  };
}

describe('findRegressions', () => {
  it.each([
    ['in order', [write(1, 'v1', 0, 10), write(1, 'v2', 20, 30)], 0],
    ['v1 sent after v2 completed, fully applied', [write(1, 'v2', 0, 10), write(1, 'v1', 20, 30)], 1],
    ['v1 refused by the compare-and-set (0 patched)', [write(1, 'v2', 0, 10), write(1, 'v1', 20, 30, 0)], 0],
    ['overlapping in time: not proven stale', [write(1, 'v2', 0, 25), write(1, 'v1', 20, 30)], 0],
    ['other rows are independent', [write(1, 'v2', 0, 10), write(2, 'v1', 20, 30)], 0],
  ])('%s', (_what, writes, expected) => {
    expect(findRegressions(writes, versionNumber)).toBe(expected);
  });
});

describe('the work', () => {
  it('poison rows are a fixed set; values are exact small integers per version', () => {
    expect(poisonIds(100_000)).toHaveLength(9);
    expect(poisonIds(100_000)).toEqual(poisonIds(100_000));
    expect(functionValue(12_345, 'v2')).toEqual([345, 2, (12_345 * 7) % 13, 12]);
  });
});
