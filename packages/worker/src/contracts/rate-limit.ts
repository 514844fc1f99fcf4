// The shared rate limit's wire contract (docs/adr/0051): the runtime spec a workload carries,
// the limiter workflow's ID, input, messages and status. Sandbox-safe (zod and
// @temporalio/workflow only): the limiter workflow parses its own input with these schemas.
import { z } from 'zod';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RateLimits } from './rate-budget.js';

/** spec.worker.rateLimit as the engine carries it (the CRD's own schema is src/api/workload.ts). */
export const rateLimitRuntimeSchema = z.object({
  key: z.string().min(1),
  requestsPerSecond: z.number().positive().optional(),
  rowsPerMinute: z.number().positive().optional(),
  /**
   * Task queue of the orchestrator that runs the limiter workflow. Set by the workload's
   * workflow when it dispatches (workers do not know it otherwise); absent in the CR.
   */
  limiterTaskQueue: z.string().min(1).optional(),
  /**
   * Longest a claim may wait for permits, in ms, on top of its lease (docs/adr/0074). Set by the
   * workload's workflow, which adds it to the claim's startToCloseTimeout: waiting for a permit
   * never eats into the time the handler calls have. A permit due later is not booked at all.
   */
  maxPermitWaitMs: z.number().nonnegative().optional(),
});
export type RateLimitRuntime = z.infer<typeof rateLimitRuntimeSchema>;

/**
 * ID of the limiter workflow of one key. Keys are scoped to the Kubernetes namespace, so two
 * teams' "openai" keys are two budgets.
 *
 * @example rateLimitWorkflowId('layer', 'openai') // 'ratelimit/layer/openai'
 */
export function rateLimitWorkflowId(k8sNamespace: string, key: string): string {
  return `ratelimit/${k8sNamespace}/${key}`;
}

/** Who asks: a workload, by kind and name ("Function layer/tag-products"). */
export const rateLimitHolderSchema = z.string().min(1).max(300);

export const acquirePermitRequestSchema = z.object({
  holder: rateLimitHolderSchema,
  /** The budget this holder declares; the limiter enforces the strictest one of its holders. */
  limits: z.object({
    requestsPerSecond: z.number().positive().optional(),
    rowsPerMinute: z.number().positive().optional(),
  }),
  rows: z.number().int().nonnegative(),
  requests: z.number().int().positive().default(1),
  /**
   * Names this booking within the holder (e.g. claim/batch). Asking again with the same booking —
   * a claim retried after its worker died — gets the same permit back, not a second one.
   */
  booking: z.string().min(1).max(300).optional(),
  /** Book only if the call may start within this many ms; otherwise answer `granted: false`. */
  maxWaitMs: z.number().nonnegative().optional(),
});
export type AcquirePermitRequest = z.input<typeof acquirePermitRequestSchema>;

export interface AcquirePermitAnswer {
  /** Wait this long, then make the call (0: now). The permit is already yours. */
  waitMs: number;
  /** The AIMD factor that priced it: below 1 after a 429. */
  factor: number;
  /**
   * False when the permit would start later than the request's `maxWaitMs`: nothing was booked,
   * and `waitMs` says when one would be due. Absent (older limiters): granted.
   */
  granted?: boolean;
}

export const reportRateLimitedRequestSchema = z.object({
  holder: rateLimitHolderSchema,
  /** The Retry-After the provider or store sent, in ms (absent: the default pause). */
  retryAfterMs: z.number().nonnegative().optional(),
  /** What answered 429, for status: "handler", "push worker", "store". */
  source: z.string().max(100).optional(),
});
export type ReportRateLimitedRequest = z.input<typeof reportRateLimitedRequestSchema>;

export const acquirePermitUpdate = defineUpdate<AcquirePermitAnswer, [AcquirePermitRequest]>('acquirePermit');
export const reportRateLimitedUpdate = defineUpdate<{ factor: number }, [ReportRateLimitedRequest]>(
  'reportRateLimited',
);

/** One holder as the limiter last saw it (plain JSON, pruned when idle). */
export const rateLimitHolderStateSchema = z.object({
  limits: acquirePermitRequestSchema.shape.limits,
  lastSeenMs: z.number(),
  grants: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  /** Sum of the waits it was told to make. */
  waitedMs: z.number().nonnegative(),
  /** Workflow time until which its latest permit holds it back. */
  waitingUntilMs: z.number(),
  /** Requests answered `granted: false` (their permit was due beyond their maxWaitMs). */
  deferred: z.number().int().nonnegative().optional(),
  /** Requests that got an outstanding booking back (a retried claim) instead of a new one. */
  reused: z.number().int().nonnegative().optional(),
});
export type RateLimitHolderState = z.infer<typeof rateLimitHolderStateSchema>;

export const rateLimitWorkflowInputSchema = z.object({
  k8sNamespace: z.string().min(1),
  key: z.string().min(1),
  /** Carried across continue-as-new (absent on the first run). */
  state: z
    .object({
      budget: z.object({
        requestsTat: z.number(),
        rowsTat: z.number(),
        factor: z.number(),
        factorAtMs: z.number(),
        holdDecreaseUntilMs: z.number(),
      }),
      holders: z.record(z.string(), rateLimitHolderStateSchema),
      rateLimited: z.number().int().nonnegative(),
      lastRateLimitedAt: z.string().optional(),
      lastRateLimitedSource: z.string().optional(),
      /** Outstanding bookings: `<holder>|<booking>` → workflow ms the call may start. */
      bookings: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
  /** Tests only: continue-as-new after this many messages instead of the default. */
  messagesPerRun: z.number().int().positive().optional(),
});
export type RateLimitWorkflowInput = z.infer<typeof rateLimitWorkflowInputSchema>;

/** Answer of the limiter's status query. */
export interface RateLimitStatus {
  key: string;
  k8sNamespace: string;
  /** The budget enforced now: the strictest of the active holders' declarations. */
  limits: RateLimits;
  /**
   * AIMD factor (1: the full budget). A query answers as of the limiter's last message
   * (workflow time stands still between messages), so an idle limiter shows the factor it had
   * then; `fullRateAt` says when it is back to 1 regardless.
   */
  factor: number;
  /** When the factor is back to 1 (absent when it is 1 already). */
  fullRateAt?: string;
  /** 429s reported so far. */
  rateLimited: number;
  lastRateLimitedAt?: string;
  holders: Record<
    string,
    { grants: number; rows: number; waitedMs: number; waitingMs: number; deferred: number; reused: number }
  >;
  /** Bookings whose call may not start yet: what the budget owes, never more than callers wait for. */
  bookingsAhead: number;
  /** When the last booked call may start (absent when nothing is booked ahead). */
  bookedUntil?: string;
}

export const rateLimitStatusQuery = defineQuery<RateLimitStatus>('rateLimitStatus');

/** The holder name a workload uses. */
export function rateLimitHolder(kind: 'Function' | 'Pipeline', k8sNamespace: string, name: string): string {
  return `${kind} ${k8sNamespace}/${name}`;
}
