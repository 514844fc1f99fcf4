// The shared rate limit's arithmetic (src/envelope/rate-budget.ts): reservations, the window
// bound every sequence of calls keeps, AIMD on 429, strictest-of-holders; and Retry-After parsing
// (packages/worker/src/contracts/rate-limit.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AIMD,
  factorAt,
  fullRateAtMs,
  initialBudgetState,
  onRateLimited,
  reserve,
  strictestLimits,
  type BudgetState,
} from '../../../src/envelope/rate-budget.js';
import { parseRetryAfter, type RateLimits } from '../../../packages/worker/src/contracts/rate-limit.js';

/** Runs calls (at time, rows) in order; returns each call's start time. */
function starts(
  limits: RateLimits,
  calls: { at: number; rows: number }[],
  state: BudgetState = initialBudgetState(),
): number[] {
  const out: number[] = [];
  for (const c of calls) {
    const r = reserve(state, limits, c.at, { requests: 1, rows: c.rows });
    state = r.state;
    out.push(c.at + r.waitMs);
  }
  return out;
}

describe('reserve', () => {
  it.each([
    {
      why: 'requestsPerSecond 2: calls asked at once start 500 ms apart',
      limits: { requestsPerSecond: 2 },
      calls: [0, 0, 0, 0].map((at) => ({ at, rows: 10 })),
      expected: [0, 500, 1000, 1500],
    },
    {
      why: 'rowsPerMinute 600 (10 rows/s): a 10-row call occupies 1 s, a 5-row call 0.5 s',
      limits: { rowsPerMinute: 600 },
      calls: [
        { at: 0, rows: 10 },
        { at: 0, rows: 5 },
        { at: 0, rows: 10 },
      ],
      expected: [0, 1000, 1500],
    },
    {
      why: 'both dimensions: the stricter one sets the pace (rows here)',
      limits: { requestsPerSecond: 10, rowsPerMinute: 600 },
      calls: [
        { at: 0, rows: 10 },
        { at: 0, rows: 10 },
      ],
      expected: [0, 1000],
    },
    {
      why: 'both dimensions: requests set the pace for small calls',
      limits: { requestsPerSecond: 1, rowsPerMinute: 6000 },
      calls: [
        { at: 0, rows: 1 },
        { at: 0, rows: 1 },
      ],
      expected: [0, 1000],
    },
    {
      why: 'an idle budget does not bank a burst: after 10 s idle, calls are spaced again',
      limits: { requestsPerSecond: 1 },
      calls: [
        { at: 0, rows: 1 },
        { at: 10_000, rows: 1 },
        { at: 10_000, rows: 1 },
      ],
      expected: [0, 10_000, 11_000],
    },
    {
      why: 'a call asked after the previous one finished its slot starts at once',
      limits: { requestsPerSecond: 4 },
      calls: [
        { at: 0, rows: 1 },
        { at: 300, rows: 1 },
      ],
      expected: [0, 300],
    },
    {
      why: 'a call of zero rows still costs a request (the handler is called)',
      limits: { requestsPerSecond: 2, rowsPerMinute: 60 },
      calls: [
        { at: 0, rows: 0 },
        { at: 0, rows: 0 },
      ],
      expected: [0, 500],
    },
  ])('$why', ({ limits, calls, expected }) => {
    expect(starts(limits, calls)).toEqual(expected);
  });

  it('in any window of W seconds, started rows ≤ rate·W + the last call; started calls ≤ rps·W + 1 (any arrival pattern)', () => {
    fc.assert(
      fc.property(
        fc.record({
          rps: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
          rpm: fc.option(fc.integer({ min: 60, max: 6000 }), { nil: undefined }),
        }),
        fc.array(
          fc.record({ gap: fc.integer({ min: 0, max: 2000 }), rows: fc.integer({ min: 1, max: 50 }) }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.integer({ min: 100, max: 5000 }),
        (l, arrivals, windowMs) => {
          const limits: RateLimits = {
            requestsPerSecond: l.rps,
            rowsPerMinute: l.rpm ?? (l.rps ? undefined : 600),
          };
          let at = 0;
          const calls = arrivals.map((a) => ({ at: (at += a.gap), rows: a.rows }));
          const s = starts(limits, calls);
          for (let i = 0; i < s.length; i += 1) {
            let rows = 0;
            let n = 0;
            let last = 0;
            for (let j = 0; j < s.length; j += 1)
              if (s[j]! >= s[i]! && s[j]! < s[i]! + windowMs) {
                rows += calls[j]!.rows;
                n += 1;
                last = Math.max(last, calls[j]!.rows);
              }
            const eps = 1e-6;
            if (limits.rowsPerMinute)
              expect(rows).toBeLessThanOrEqual((limits.rowsPerMinute / 60) * (windowMs / 1000) + last + eps);
            if (limits.requestsPerSecond)
              expect(n).toBeLessThanOrEqual(limits.requestsPerSecond * (windowMs / 1000) + 1 + eps);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('AIMD', () => {
  it('a 429 with Retry-After 2 s: nothing starts before it ends, the rate is halved, then it climbs back to the full budget', () => {
    const limits = { requestsPerSecond: 10 };
    let state = initialBudgetState();
    state = onRateLimited(state, 1_000, 2_000);
    // No call starts before 3 000 ms; at factor 0.5 calls are 200 ms apart instead of 100.
    const first = reserve(state, limits, 1_000, { requests: 1, rows: 1 });
    expect(first.waitMs).toBe(2_000);
    expect(first.factor).toBe(0.5);
    const second = reserve(first.state, limits, 1_000, { requests: 1, rows: 1 });
    expect(second.waitMs).toBe(2_200);
    // Additive increase from the end of the pause: +0.05 per second → full budget 10 s later.
    expect(factorAt(second.state, 3_000)).toBe(0.5);
    expect(factorAt(second.state, 8_000)).toBeCloseTo(0.75, 10);
    expect(factorAt(second.state, 13_000)).toBe(1);
    expect(factorAt(second.state, 60_000)).toBe(1);
    expect(fullRateAtMs(second.state, 3_000)).toBe(13_000);
    expect(fullRateAtMs(second.state, 13_000)).toBeUndefined();
  });

  it.each([
    {
      why: 'several workers report the same 429 within its pause: halved once',
      reports: [
        { at: 0, retryAfterMs: 1_000 },
        { at: 50, retryAfterMs: 1_000 },
        { at: 900, retryAfterMs: 1_000 },
      ],
      factorAt: 1_000,
      expected: 0.5,
    },
    {
      why: 'a second 429 after the hold (pause + 1 s): halved again, from the partly recovered factor',
      reports: [
        { at: 0, retryAfterMs: 1_000 },
        { at: 3_000, retryAfterMs: 1_000 },
      ],
      factorAt: 4_000,
      // 0.5 at 1 s, +0.05/s → 0.6 at 3 s, halved → 0.3 (recovery starts at 4 s)
      expected: 0.3,
    },
  ])('$why', ({ reports, factorAt: t, expected }) => {
    let state = initialBudgetState();
    for (const r of reports) state = onRateLimited(state, r.at, r.retryAfterMs);
    expect(factorAt(state, t)).toBeCloseTo(expected, 10);
  });

  it('a 429 storm never drives the factor below its floor: a slowed budget still serves calls', () => {
    const low: BudgetState = { ...initialBudgetState(), factor: 0.06 };
    const state = onRateLimited(low, 0, 0);
    expect(factorAt(state, 0)).toBe(AIMD.minFactor);
    // 10 calls/s × 0.05 → one call every 2 s
    const a = reserve(state, { requestsPerSecond: 10 }, 0, { requests: 1, rows: 1 });
    expect(reserve(a.state, { requestsPerSecond: 10 }, 0, { requests: 1, rows: 1 }).waitMs).toBeCloseTo(
      2_000,
      6,
    );
  });

  it.each([
    {
      retryAfterMs: undefined,
      pausedUntil: AIMD.defaultRetryAfterMs,
      why: 'no Retry-After: the default pause',
    },
    { retryAfterMs: 0, pausedUntil: 0, why: 'Retry-After 0: no pause, only the decrease' },
    { retryAfterMs: 3_600_000, pausedUntil: AIMD.maxRetryAfterMs, why: 'an absurd Retry-After is capped' },
  ])('$why', ({ retryAfterMs, pausedUntil }) => {
    const state = onRateLimited(initialBudgetState(), 0, retryAfterMs);
    expect(reserve(state, { requestsPerSecond: 1 }, 0, { requests: 1, rows: 1 }).waitMs).toBe(pausedUntil);
  });
});

describe('strictestLimits', () => {
  it.each([
    { why: 'one holder: its budget', all: [{ requestsPerSecond: 5 }], expected: { requestsPerSecond: 5 } },
    {
      why: 'two holders: the lower value per dimension',
      all: [
        { requestsPerSecond: 5, rowsPerMinute: 600 },
        { requestsPerSecond: 2, rowsPerMinute: 1200 },
      ],
      expected: { requestsPerSecond: 2, rowsPerMinute: 600 },
    },
    {
      why: 'a dimension only one holder declares applies to all',
      all: [{ requestsPerSecond: 5 }, { rowsPerMinute: 300 }],
      expected: { requestsPerSecond: 5, rowsPerMinute: 300 },
    },
    { why: 'no holder: no budget', all: [], expected: {} },
  ])('$why', ({ all, expected }) => {
    expect(strictestLimits(all)).toEqual(expected);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    { value: '2', expected: 2_000, why: 'delta-seconds' },
    { value: '0.5', expected: 500, why: 'fractional seconds (some providers send them)' },
    { value: 'Thu, 01 Jan 2026 00:00:03 GMT', expected: 3_000, why: 'an HTTP date' },
    { value: 'Wed, 31 Dec 2025 23:59:00 GMT', expected: 0, why: 'a date in the past: no wait' },
    { value: 'soon', expected: undefined, why: 'unreadable' },
    { value: null, expected: undefined, why: 'absent' },
  ])('$why: $value', ({ value, expected }) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
