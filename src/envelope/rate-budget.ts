// The arithmetic of a shared rate limit (docs/adr/0051): a reservation token bucket per
// dimension (requests, rows) and an AIMD factor that a 429 halves and time restores. Pure and
// sandbox-safe: the limiter workflow (src/workflows/rate-limit-workflow.ts) holds this state and
// calls these functions; the table tests move time by hand.
//
// The bucket is GCRA in its reservation form: each dimension keeps a "theoretical arrival time"
// (tat). A call costing n units at rate r starts at max(now, tat) and pushes tat to
// max(tat, start) + n / r. Every call gets an answer at once — "start now" or "start in w ms" —
// so a worker needs one round trip per handler call, never a polling loop, and calls are served
// in the order they asked. No burst beyond one call is allowed: started calls are spaced by
// their cost, so in any window of W seconds the units started are at most r·W plus the last
// call's own units (the bound the tests check).
import type { RateLimits } from '../../packages/worker/src/contracts/rate-limit.js';

/** What one handler call costs. */
export interface RateCost {
  requests: number;
  rows: number;
}

/** AIMD tuning: a 429 halves the rate, then it climbs back by 5 % of the budget per second. */
export const AIMD = {
  /** Multiplicative decrease on a 429. */
  decrease: 0.5,
  /** The factor never drops below this: a 429 storm slows calls down, it never stops them. */
  minFactor: 0.05,
  /** Additive increase: factor gained per second without a 429 (0.5 → 1 in 10 s). */
  increasePerSecond: 0.05,
  /** A 429 with no Retry-After pauses the budget this long. */
  defaultRetryAfterMs: 1_000,
  /** Longest pause a Retry-After may impose (a bogus header must not stall everything). */
  maxRetryAfterMs: 5 * 60_000,
} as const;

/** The limiter's state: plain JSON, carried across continue-as-new. */
export interface BudgetState {
  /** Theoretical arrival time per dimension (workflow ms): the next call starts no earlier. */
  requestsTat: number;
  rowsTat: number;
  /** AIMD factor (0, 1] as of `factorAtMs`; it grows lazily from there (see factorAt). */
  factor: number;
  factorAtMs: number;
  /** 429s reported while this is in the future belong to the same event: no second halving. */
  holdDecreaseUntilMs: number;
}

export function initialBudgetState(): BudgetState {
  return { requestsTat: 0, rowsTat: 0, factor: 1, factorAtMs: 0, holdDecreaseUntilMs: 0 };
}

/** The AIMD factor at `nowMs`: the last value plus the additive increase since, capped at 1. */
export function factorAt(state: BudgetState, nowMs: number): number {
  const elapsedS = Math.max(0, nowMs - state.factorAtMs) / 1000;
  return Math.min(1, state.factor + AIMD.increasePerSecond * elapsedS);
}

/** Workflow time at which the factor is back to 1 (undefined when it is 1 at `nowMs`). */
export function fullRateAtMs(state: BudgetState, nowMs: number): number | undefined {
  if (factorAt(state, nowMs) >= 1) return undefined;
  return state.factorAtMs + ((1 - state.factor) / AIMD.increasePerSecond) * 1000;
}

/** Milliseconds one call's units occupy in a dimension at rate `perSecond` × factor. */
function costMs(units: number, perSecond: number | undefined, factor: number): number {
  if (!perSecond || units <= 0) return 0;
  return (units / (perSecond * factor)) * 1000;
}

export interface Reservation {
  state: BudgetState;
  /** How long the caller waits before its call (0: start now). */
  waitMs: number;
  /** The factor that priced this call (1 unless a 429 slowed the budget down). */
  factor: number;
}

/**
 * Reserves one call's cost. The call starts at the later of the two dimensions' arrival times,
 * and both advance from that start, so a call held back by rows also holds the request slot.
 *
 * @example
 * const r = reserve(initialBudgetState(), { requestsPerSecond: 2 }, 0, { requests: 1, rows: 10 });
 * // r.waitMs === 0; the next call at t=0 waits 500 ms
 */
export function reserve(state: BudgetState, limits: RateLimits, nowMs: number, cost: RateCost): Reservation {
  const factor = factorAt(state, nowMs);
  const start = Math.max(nowMs, state.requestsTat, state.rowsTat);
  const requestsMs = costMs(cost.requests, limits.requestsPerSecond, factor);
  const rowsMs = costMs(
    cost.rows,
    limits.rowsPerMinute === undefined ? undefined : limits.rowsPerMinute / 60,
    factor,
  );
  return {
    state: {
      ...state,
      requestsTat: limits.requestsPerSecond ? start + requestsMs : state.requestsTat,
      rowsTat: limits.rowsPerMinute ? start + rowsMs : state.rowsTat,
    },
    waitMs: start - nowMs,
    factor,
  };
}

/**
 * A 429 (from the provider or the store): no call starts before the Retry-After has passed,
 * and, unless this 429 belongs to one already counted, the rate is halved. The additive increase
 * starts again once the pause ends.
 */
export function onRateLimited(
  state: BudgetState,
  nowMs: number,
  retryAfterMs: number | undefined,
): BudgetState {
  const pauseMs = Math.min(AIMD.maxRetryAfterMs, Math.max(0, retryAfterMs ?? AIMD.defaultRetryAfterMs));
  const resumeAt = nowMs + pauseMs;
  const next: BudgetState = {
    ...state,
    requestsTat: Math.max(state.requestsTat, resumeAt),
    rowsTat: Math.max(state.rowsTat, resumeAt),
  };
  if (nowMs < state.holdDecreaseUntilMs) return next;
  return {
    ...next,
    factor: Math.max(AIMD.minFactor, factorAt(state, nowMs) * AIMD.decrease),
    factorAtMs: resumeAt,
    // Workers that were mid-call when the quota ran out report their 429s within about one
    // call of each other: those are one congestion event, not several.
    holdDecreaseUntilMs: resumeAt + AIMD.defaultRetryAfterMs,
  };
}

/**
 * The budget the limiter enforces when workloads under one key declare different ones: per
 * dimension the strictest declared value (a dimension any of them declares applies to all).
 */
export function strictestLimits(all: readonly RateLimits[]): RateLimits {
  const min = (values: (number | undefined)[]) => {
    const set = values.filter((v): v is number => v !== undefined && v > 0);
    return set.length > 0 ? Math.min(...set) : undefined;
  };
  const requestsPerSecond = min(all.map((l) => l.requestsPerSecond));
  const rowsPerMinute = min(all.map((l) => l.rowsPerMinute));
  return {
    ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
    ...(rowsPerMinute !== undefined ? { rowsPerMinute } : {}),
  };
}
