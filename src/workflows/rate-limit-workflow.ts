// One workflow per shared rate-limit key (docs/adr/0051): it holds the key's token bucket and
// AIMD factor and answers workers' `acquirePermit` updates with "start now" or "start in w ms".
// Every worker of every workload under the key asks it before each handler call, so one budget
// holds across workloads, workers and replicas with nothing but Temporal. The arithmetic is
// pure (src/envelope/rate-budget.ts); this file only keeps the state, answers messages, and
// continues-as-new before its history grows large. Started by the first worker that asks
// (update-with-start); ends itself after a quiet spell and is started again on demand.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  factorAt,
  fullRateAtMs,
  initialBudgetState,
  onRateLimited,
  reserve,
  strictestLimits,
  type BudgetState,
} from '../envelope/rate-budget.js';
import {
  acquirePermitRequestSchema,
  acquirePermitUpdate,
  reportRateLimitedRequestSchema,
  reportRateLimitedUpdate,
} from '../../packages/worker/src/contracts/rate-limit.js';
import {
  rateLimitStatusQuery,
  rateLimitWorkflowInputSchema,
  type RateLimitHolderState,
  type RateLimitStatus,
  type RateLimitWorkflowInput,
} from '../contracts/rate-limit.js';

/** Messages per run before continue-as-new (each is a few history events). */
const DEFAULT_MESSAGES_PER_RUN = 1_000;
/** A holder not heard from this long no longer shapes the budget (its declaration is dropped). */
const HOLDER_IDLE_MS = 10 * 60_000;
/** With no message for this long the workflow ends; the next worker that asks starts it again. */
const LIMITER_IDLE_MS = 15 * 60_000;
/** A booking is kept this long after its start, so a claim retried meanwhile gets it back. */
const BOOKING_KEEP_MS = 10 * 60_000;
/** At most this many bookings are remembered (the oldest go first). */
const MAX_BOOKINGS = 5_000;

export async function rateLimitWorkflow(rawInput: RateLimitWorkflowInput): Promise<void> {
  const input = rateLimitWorkflowInputSchema.parse(rawInput);
  const carried = input.state;
  let budget: BudgetState = carried?.budget ?? initialBudgetState();
  const holders: Record<string, RateLimitHolderState> = { ...carried?.holders };
  let rateLimited = carried?.rateLimited ?? 0;
  let lastRateLimitedAt = carried?.lastRateLimitedAt;
  let lastRateLimitedSource = carried?.lastRateLimitedSource;
  /** `<holder>|<booking>` → workflow ms its call may start (docs/adr/0074). */
  const bookings: Record<string, number> = { ...carried?.bookings };
  const pruneBookings = (nowMs: number) => {
    const keys = Object.keys(bookings);
    for (const k of keys) if (bookings[k]! < nowMs - BOOKING_KEEP_MS) delete bookings[k];
    const left = Object.keys(bookings);
    if (left.length > MAX_BOOKINGS)
      for (const k of left.sort((a, b) => bookings[a]! - bookings[b]!).slice(0, left.length - MAX_BOOKINGS))
        delete bookings[k];
  };
  const messagesPerRun = input.messagesPerRun ?? DEFAULT_MESSAGES_PER_RUN;
  let messages = 0;

  const activeLimits = (nowMs: number) =>
    strictestLimits(
      Object.values(holders)
        .filter((h) => nowMs - h.lastSeenMs <= HOLDER_IDLE_MS)
        .map((h) => h.limits),
    );

  const status = (): RateLimitStatus => {
    const nowMs = Date.now();
    const fullAt = fullRateAtMs(budget, nowMs);
    const ahead = Object.values(bookings).filter((at) => at > nowMs);
    return {
      key: input.key,
      k8sNamespace: input.k8sNamespace,
      limits: activeLimits(nowMs),
      factor: Math.round(factorAt(budget, nowMs) * 1000) / 1000,
      ...(fullAt !== undefined ? { fullRateAt: new Date(Math.round(fullAt)).toISOString() } : {}),
      rateLimited,
      ...(lastRateLimitedAt ? { lastRateLimitedAt } : {}),
      holders: Object.fromEntries(
        Object.entries(holders).map(([name, h]) => [
          name,
          {
            grants: h.grants,
            rows: h.rows,
            waitedMs: Math.round(h.waitedMs),
            waitingMs: Math.max(0, Math.round(h.waitingUntilMs - nowMs)),
            deferred: h.deferred ?? 0,
            reused: h.reused ?? 0,
          },
        ]),
      ),
      bookingsAhead: ahead.length,
      ...(ahead.length > 0 ? { bookedUntil: new Date(Math.round(Math.max(...ahead))).toISOString() } : {}),
    };
  };

  const showDetails = () => {
    const s = status();
    const limits = [
      s.limits.requestsPerSecond !== undefined ? `${s.limits.requestsPerSecond} requests/s` : undefined,
      s.limits.rowsPerMinute !== undefined ? `${s.limits.rowsPerMinute} rows/min` : undefined,
    ].filter(Boolean);
    setCurrentDetails(
      [
        `**shared rate limit \`${s.key}\`** — ${limits.join(', ') || 'no budget declared'} × ${s.factor}${s.fullRateAt ? ` (slowed by a 429; full rate at ${s.fullRateAt})` : ''}`,
        '',
        `- 429s reported: ${s.rateLimited}${lastRateLimitedAt ? ` (last ${lastRateLimitedAt}, ${lastRateLimitedSource ?? 'unknown source'})` : ''}`,
        ...Object.entries(s.holders).map(
          ([name, h]) =>
            `- ${name}: ${h.grants} calls, ${h.rows} rows, waited ${(h.waitedMs / 1000).toFixed(1)} s${h.waitingMs > 0 ? `, waiting ${(h.waitingMs / 1000).toFixed(1)} s more` : ''}${h.deferred > 0 ? `, ${h.deferred} asks deferred (no permit within their claim's wait allowance)` : ''}`,
        ),
      ].join('\n'),
    );
  };

  setHandler(rateLimitStatusQuery, status);
  setHandler(
    acquirePermitUpdate,
    (raw) => {
      const request = acquirePermitRequestSchema.parse(raw);
      const nowMs = Date.now();
      const before = holders[request.holder];
      holders[request.holder] = {
        limits: request.limits,
        lastSeenMs: nowMs,
        grants: before?.grants ?? 0,
        rows: before?.rows ?? 0,
        waitedMs: before?.waitedMs ?? 0,
        waitingUntilMs: before?.waitingUntilMs ?? 0,
        ...(before?.deferred ? { deferred: before.deferred } : {}),
        ...(before?.reused ? { reused: before.reused } : {}),
      };
      const h = holders[request.holder]!;
      messages += 1;
      const bookingKey = request.booking !== undefined ? `${request.holder}|${request.booking}` : undefined;
      const booked = bookingKey !== undefined ? bookings[bookingKey] : undefined;
      if (booked !== undefined) {
        // A retried claim asks again: its permit is the one it already has, not a second one.
        h.reused = (h.reused ?? 0) + 1;
        return {
          waitMs: Math.max(0, Math.ceil(booked - nowMs)),
          factor: factorAt(budget, nowMs),
          granted: true,
        };
      }
      const r = reserve(budget, activeLimits(nowMs), nowMs, {
        requests: request.requests,
        rows: request.rows,
      });
      if (request.maxWaitMs !== undefined && r.waitMs > request.maxWaitMs) {
        // Due later than the caller can wait: book nothing, so a caller that gives up and asks
        // again later never leaves a permit behind that nobody uses.
        h.deferred = (h.deferred ?? 0) + 1;
        return { waitMs: Math.ceil(r.waitMs), factor: r.factor, granted: false };
      }
      budget = r.state;
      if (bookingKey !== undefined) {
        bookings[bookingKey] = nowMs + r.waitMs;
        pruneBookings(nowMs);
      }
      h.grants += 1;
      h.rows += request.rows;
      h.waitedMs += r.waitMs;
      h.waitingUntilMs = Math.max(h.waitingUntilMs, nowMs + r.waitMs);
      return { waitMs: Math.ceil(r.waitMs), factor: r.factor, granted: true };
    },
    // Rejected before it reaches history: a malformed request never costs an event.
    { validator: (raw) => void acquirePermitRequestSchema.parse(raw) },
  );
  setHandler(
    reportRateLimitedUpdate,
    (raw) => {
      const report = reportRateLimitedRequestSchema.parse(raw);
      const nowMs = Date.now();
      budget = onRateLimited(budget, nowMs, report.retryAfterMs);
      rateLimited += 1;
      lastRateLimitedAt = new Date(nowMs).toISOString();
      lastRateLimitedSource = `${report.holder}${report.source ? ` (${report.source})` : ''}`;
      messages += 1;
      return { factor: Math.round(factorAt(budget, nowMs) * 1000) / 1000 };
    },
    { validator: (raw) => void reportRateLimitedRequestSchema.parse(raw) },
  );

  for (;;) {
    const seen = messages;
    showDetails();
    const heard = await condition(
      () => messages !== seen || messages >= messagesPerRun || workflowInfo().continueAsNewSuggested,
      LIMITER_IDLE_MS,
    );
    if (!heard) {
      // Quiet for a long spell: every bucket has refilled and the factor recovered, so nothing
      // worth carrying is lost by ending; the next acquire starts a fresh run.
      await condition(allHandlersFinished);
      return;
    }
    if (messages >= messagesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      const nowMs = Date.now();
      for (const [name, h] of Object.entries(holders))
        if (nowMs - h.lastSeenMs > HOLDER_IDLE_MS) delete holders[name];
      const next: RateLimitWorkflowInput = {
        k8sNamespace: input.k8sNamespace,
        key: input.key,
        state: {
          budget,
          holders,
          rateLimited,
          ...(lastRateLimitedAt ? { lastRateLimitedAt } : {}),
          ...(lastRateLimitedSource ? { lastRateLimitedSource } : {}),
          ...(Object.keys(bookings).length > 0 ? { bookings: (pruneBookings(nowMs), bookings) } : {}),
        },
        ...(input.messagesPerRun ? { messagesPerRun: input.messagesPerRun } : {}),
      };
      await continueAsNew<typeof rateLimitWorkflow>(next);
    }
  }
}
