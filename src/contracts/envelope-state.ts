// What a workload's envelope (src/envelope/batch-envelope.ts) carries across continue-as-new, and
// the degraded status it reports. The orchestrator's alone: workers never see either.
// Sandbox-safe (zod only): the workflows parse their own input with this schema.
import { z } from 'zod';

/** Why dispatch is held back, while a workload's phase is `degraded` (status field). */
export interface DegradedStatus {
  /** The failure type: StoreRejected, StoreUnavailable, WorkerUnavailable, Quota, … */
  reason: string;
  /** Only this store namespace's batches are held back (a 429 from its write limits); absent: all. */
  namespace?: string;
  message: string;
  /** What to do about it. */
  hint: string;
  since: string;
  /** When the next probe claim goes out. */
  retryAt: string;
}

/**
 * What the envelope carries across continue-as-new (src/envelope/batch-envelope.ts
 * EnvelopeState without the claims, which a run drains first), parsed like the rest of the input.
 */
export function envelopeCarriedSchema<P extends z.ZodType>(payload: P) {
  return z.object({
    waiting: z
      .array(
        z.object({
          batchId: z.string(),
          rows: z.number().int().nonnegative(),
          payload,
          attempts: z.number().int().nonnegative(),
          maxAttempts: z.number().int().positive(),
          splitDepth: z.number().int().nonnegative(),
          notBeforeMs: z.number().optional(),
        }),
      )
      .default([]),
    claimSeq: z.number().int().nonnegative().default(0),
    batchMsAverage: z.number().nonnegative().optional(),
    degraded: z
      .object({
        reason: z.string(),
        scope: z.string().optional(),
        message: z.string(),
        sinceMs: z.number(),
        retryAtMs: z.number(),
        backoffMs: z.number(),
        probing: z.boolean(),
      })
      .optional(),
  });
}
