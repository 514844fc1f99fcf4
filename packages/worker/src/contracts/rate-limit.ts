// The shared rate limit's wire contract (docs/adr/0051): the runtime spec a workload carries, the
// budget it declares, and what a worker sends the limiter workflow (its ID, start input and the
// two updates). The limiter's carried state and status are the orchestrator's
// (src/contracts/rate-limit.ts). Sandbox-safe (zod and @temporalio/workflow only).
import { z } from 'zod';
import { sharedSchema } from './shared-schema.js';
import { defineUpdate } from '@temporalio/workflow';

/** spec.worker.rateLimit as the engine carries it (the CRD's own schema is src/api/workload.ts). */
export const rateLimitRuntimeSchema = sharedSchema('worker/rate-limit.rateLimitRuntime', () =>
  z.object({
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
  }),
);
export type RateLimitRuntime = z.infer<typeof rateLimitRuntimeSchema>;

/** A budget as a workload declares it (spec.worker.rateLimit without the key). */
export interface RateLimits {
  requestsPerSecond?: number | undefined;
  rowsPerMinute?: number | undefined;
}

/**
 * ID of the limiter workflow of one key. Keys are scoped to the Kubernetes namespace, so two
 * teams' "openai" keys are two budgets.
 *
 * @example rateLimitWorkflowId('layer', 'openai') // 'ratelimit/layer/openai'
 */
export function rateLimitWorkflowId(k8sNamespace: string, key: string): string {
  return `ratelimit/${k8sNamespace}/${key}`;
}

/** What a worker starts the limiter workflow with (update-with-start); the limiter's own input adds its carried state. */
export const rateLimitWorkflowStartSchema = sharedSchema('worker/rate-limit.rateLimitWorkflowStart', () =>
  z.object({
    k8sNamespace: z.string().min(1),
    key: z.string().min(1),
  }),
);
export type RateLimitWorkflowStart = z.infer<typeof rateLimitWorkflowStartSchema>;

/** Who asks: a workload, by kind and name ("Function layer/tag-products"). */
const rateLimitHolderSchema = sharedSchema('worker/rate-limit.rateLimitHolder', () =>
  z.string().min(1).max(300),
);

export const acquirePermitRequestSchema = sharedSchema('worker/rate-limit.acquirePermitRequest', () =>
  z.object({
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
  }),
);
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

export const reportRateLimitedRequestSchema = sharedSchema('worker/rate-limit.reportRateLimitedRequest', () =>
  z.object({
    holder: rateLimitHolderSchema,
    /** The Retry-After the provider or store sent, in ms (absent: the default pause). */
    retryAfterMs: z.number().nonnegative().optional(),
    /** What answered 429, for status: "handler", "push worker", "store". */
    source: z.string().max(100).optional(),
  }),
);
export type ReportRateLimitedRequest = z.input<typeof reportRateLimitedRequestSchema>;

export const acquirePermitUpdate = defineUpdate<AcquirePermitAnswer, [AcquirePermitRequest]>('acquirePermit');
export const reportRateLimitedUpdate = defineUpdate<{ factor: number }, [ReportRateLimitedRequest]>(
  'reportRateLimited',
);

/** The holder name a workload uses. */
export function rateLimitHolder(kind: 'Function' | 'Pipeline', k8sNamespace: string, name: string): string {
  return `${kind} ${k8sNamespace}/${name}`;
}

/**
 * Parses an HTTP Retry-After value (delta-seconds or an HTTP date) into milliseconds from
 * `nowMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
