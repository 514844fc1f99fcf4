// The shared rate limiter's own contracts (docs/adr/0051): its input with the state it carries
// across continue-as-new, and its status query. What a worker sends it is
// packages/worker/src/contracts/rate-limit.ts. Sandbox-safe (zod and @temporalio/workflow only):
// the limiter workflow parses its own input with these schemas.
import { z } from 'zod';
import { sharedSchema } from '../../packages/worker/src/contracts/shared-schema.js';
import { defineQuery } from '@temporalio/workflow';
import {
  acquirePermitRequestSchema,
  rateLimitWorkflowStartSchema,
  type RateLimits,
} from '../../packages/worker/src/contracts/rate-limit.js';

/** One holder as the limiter last saw it (plain JSON, pruned when idle). */
export const rateLimitHolderStateSchema = sharedSchema('rate-limit.rateLimitHolderState', () =>
  z.object({
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
  }),
);
export type RateLimitHolderState = z.infer<typeof rateLimitHolderStateSchema>;

export const rateLimitWorkflowInputSchema = sharedSchema('rate-limit.rateLimitWorkflowInput', () =>
  rateLimitWorkflowStartSchema.extend({
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
  }),
);
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
