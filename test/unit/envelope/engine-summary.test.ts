// The summary a workload workflow keeps in its memo (src/contracts/engine-summary.ts, docs/adr/0127):
// when a pass writes it, what the readers accept, and how each kind's status becomes one.
import { describe, expect, it } from 'vitest';
import {
  ENGINE_SUMMARY_MEMO_KEY,
  SUMMARY_COUNTS_MIN_INTERVAL_MS,
  engineSummaryFromMemo,
  summaryToPublish,
  type EngineSummary,
} from '../../../src/contracts/engine-summary.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import type { PipelineStatus } from '../../../src/contracts/pipeline.js';
import { functionSummary } from '../../../src/envelope/function-status.js';
import { pipelineSummary } from '../../../src/envelope/pipeline-status.js';

const base: EngineSummary = { specFingerprint: 'f1', phase: 'running', pendingRows: 500, queueDepth: 8 };
const T = 1_000_000;
const last = { summary: base, atMs: T };
const soon = T + 1;
const later = T + SUMMARY_COUNTS_MIN_INTERVAL_MS;
const degraded = { reason: 'StoreUnavailable', message: 'store down', hint: 'check the store' };

describe('summaryToPublish', () => {
  it.each<[string, EngineSummary, number, boolean]>([
    ['nothing changed', base, later, false],
    ['counts changed, soon after the last write', { ...base, pendingRows: 400, queueDepth: 7 }, soon, false],
    ['counts changed, the interval after the last write', { ...base, queueDepth: 7 }, later, true],
    ['queue drained: written at once', { ...base, queueDepth: 0 }, soon, true],
    ['pending rows reached zero: written at once', { ...base, pendingRows: 0 }, soon, true],
    ['a new spec fingerprint: written at once', { ...base, specFingerprint: 'f2' }, soon, true],
    ['a new phase: written at once', { ...base, phase: 'idle' }, soon, true],
    ['degraded: written at once', { ...base, degraded }, soon, true],
    [
      'degraded with another message only: counts rule',
      { ...base, degraded: { ...degraded, message: 'x' } },
      soon,
      false,
    ],
  ])('%s', (_what, next, nowMs, written) => {
    const prev = _what.startsWith('degraded with') ? { summary: { ...base, degraded }, atMs: T } : last;
    expect(summaryToPublish(prev, next, nowMs)).toEqual(written ? next : undefined);
  });

  it('rows appearing at an idle workflow are written at once (KEDA activates on them)', () => {
    const idle = { summary: { ...base, phase: 'idle', pendingRows: 0, queueDepth: 0 }, atMs: T };
    expect(summaryToPublish(idle, { ...idle.summary, pendingRows: 64, queueDepth: 2 }, soon)).toBeDefined();
  });

  it('the first pass of a run always writes', () => {
    expect(summaryToPublish(undefined, base, 0)).toEqual(base);
  });
});

describe('engineSummaryFromMemo', () => {
  it('reads the summary under its key', () => {
    expect(engineSummaryFromMemo({ [ENGINE_SUMMARY_MEMO_KEY]: base, other: 1 })).toEqual(base);
  });
  it.each([
    ['no memo', undefined],
    ['a memo without the key (a run from before the summary)', { other: 1 }],
    ['a malformed summary', { [ENGINE_SUMMARY_MEMO_KEY]: { ...base, queueDepth: -1 } }],
  ])('%s: undefined, so the caller asks with a query', (_what, memo) => {
    expect(engineSummaryFromMemo(memo)).toBeUndefined();
  });
});

describe('each kind’s summary', () => {
  it('Function: queue depth counts leased rows once, as batches in flight; degraded keeps reason, message, hint', () => {
    const s = {
      specFingerprint: 'abc',
      phase: 'degraded',
      pendingRows: 100,
      inFlightRows: 36,
      inFlightBatches: 2,
      degraded: { ...degraded, since: 'x', retryAt: 'y' },
    } as unknown as FunctionStatus;
    // ceil((100 - 36) / 32) + 2
    expect(functionSummary(s, 32)).toEqual({
      specFingerprint: 'abc',
      phase: 'degraded',
      pendingRows: 100,
      queueDepth: 4,
      degraded,
    });
  });
  it('Pipeline: items pending and batches in flight', () => {
    const s = {
      specFingerprint: 'p1',
      phase: 'running',
      batchSize: 64,
      inFlightBatches: 1,
      queue: { pending: 130, inFlight: 64, done: 0, failed: 0 },
    } as unknown as PipelineStatus;
    expect(pipelineSummary(s)).toEqual({
      specFingerprint: 'p1',
      phase: 'running',
      pendingRows: 130,
      queueDepth: 4,
    });
  });
});
