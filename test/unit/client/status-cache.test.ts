// The statuses /metrics reads (src/client/status-cache.ts): an idle workload's last status while its
// memo summary is unchanged, a fresh query for anything else.
import { describe, expect, it } from 'vitest';
import type { EngineSummary } from '../../../src/contracts/engine-summary.js';
import { cachedStatusHolds, createStatusCache } from '../../../src/client/status-cache.js';

const idle: EngineSummary = { specFingerprint: 'f', phase: 'idle', pendingRows: 0, queueDepth: 0 };
const MAX = 300_000;

describe('cachedStatusHolds', () => {
  it.each<[string, EngineSummary | undefined, number, boolean]>([
    ['idle, summary unchanged, young', idle, 1_000, true],
    ['idle, summary unchanged, older than the bound', idle, MAX, false],
    ['running: counters move under an unchanged summary', { ...idle, phase: 'running' }, 1_000, false],
    ['paused: claims out when the pause came still count', { ...idle, phase: 'paused' }, 1_000, false],
    ['idle with another fingerprint', { ...idle, specFingerprint: 'g' }, 1_000, false],
    ['no summary (a run from before it)', undefined, 1_000, false],
  ])('%s', (_what, now, ageMs, holds) => {
    expect(cachedStatusHolds({ summary: idle, atMs: 0 }, now, ageMs, MAX)).toBe(holds);
  });
});

describe('createStatusCache', () => {
  it('queries an idle workload once while its summary stays, again once it changes or stops', async () => {
    let summary: EngineSummary | undefined = idle;
    let running = true;
    let queries = 0;
    const status = createStatusCache({
      summary: async () => (running ? { running: true as const, summary } : { running: false as const }),
      query: async () => ({ n: ++queries }),
      now: () => 0,
    });
    expect(await status('ns', 'a')).toEqual({ n: 1 });
    expect(await status('ns', 'a')).toEqual({ n: 1 });
    summary = { ...idle, pendingRows: 5, queueDepth: 1, phase: 'running' };
    expect(await status('ns', 'a')).toEqual({ n: 2 });
    expect(await status('ns', 'a')).toEqual({ n: 3 });
    running = false;
    expect(await status('ns', 'a')).toBeUndefined();
    expect(queries).toBe(3);
  });
});
