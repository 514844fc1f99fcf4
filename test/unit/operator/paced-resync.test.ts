// The resync's pacing: waves of at most waveSize resources, the next one only when the last has
// ended, a wave's time bounded, and nothing started once the watcher stops (ADR 0135).
import { describe, expect, it } from 'vitest';
import { pacedResync } from '../../../src/operator/paced-resync.js';

function harness(items: number, opts: { waveSize: number; hang?: Set<number>; fail?: Set<number> }) {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const release: (() => void)[] = [];
  let stop = () => undefined as void;
  let stopped = false;
  const stopping = new Promise<void>((r) => {
    stop = () => {
      stopped = true;
      r();
    };
  });
  const timers: (() => void)[] = [];
  const run = pacedResync(
    Array.from({ length: items }, (_, i) => i),
    {
      waveSize: opts.waveSize,
      waveTimeoutMs: 1000,
      stopped: () => stopped,
      stopping,
      sleep: () => new Promise<void>((r) => timers.push(r)),
      resyncOne: async (i) => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        if (opts.fail?.has(i)) {
          running--;
          throw new Error('signal failed');
        }
        if (opts.hang?.has(i)) return new Promise<void>(() => undefined);
        await new Promise<void>((r) => release.push(r));
        running--;
      },
    },
  );
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    run,
    started,
    most: () => most,
    stop,
    settle,
    async endRuns() {
      await settle();
      for (const r of release.splice(0)) r();
      await settle();
    },
    async timeUp() {
      for (const t of timers.splice(0)) t();
      await settle();
    },
  };
}

describe('pacedResync', () => {
  it.each([
    [10, 4, [4, 8, 10], 3],
    [8, 4, [4, 8], 2],
    [3, 32, [3], 1],
    [0, 4, [], 0],
  ])('%i resources in waves of %i: started %j, %i waves', async (items, waveSize, afterEachWave, waves) => {
    const h = harness(items, { waveSize });
    for (const expected of afterEachWave) {
      await h.settle();
      expect(h.started.length).toBe(expected);
      await h.endRuns();
    }
    await expect(h.run).resolves.toBe(waves);
    expect(h.most()).toBeLessThanOrEqual(waveSize);
  });

  it('a run that never ends holds its wave only until the wave times out', async () => {
    const h = harness(6, { waveSize: 3, hang: new Set([1]) });
    await h.endRuns();
    expect(h.started).toEqual([0, 1, 2]);
    await h.timeUp();
    expect(h.started).toEqual([0, 1, 2, 3, 4, 5]);
    await h.endRuns();
    await h.timeUp();
    await expect(h.run).resolves.toBe(2);
  });

  it('a failed signal ends its part of the wave (the next resync tries again)', async () => {
    const h = harness(4, { waveSize: 2, fail: new Set([0]) });
    await h.endRuns();
    await h.endRuns();
    await expect(h.run).resolves.toBe(2);
    expect(h.started).toEqual([0, 1, 2, 3]);
  });

  it('stopping ends the wait and starts no further wave', async () => {
    const h = harness(6, { waveSize: 2 });
    await h.settle();
    expect(h.started).toEqual([0, 1]);
    h.stop();
    await expect(h.run).resolves.toBe(1);
    expect(h.started).toEqual([0, 1]);
  });
});
