// The worker's side of a shared rate limit (docs/adr/0051): before each handler call it asks
// the key's limiter workflow for a permit (one Workflow Update, update-with-start so the first
// caller creates the limiter) and sleeps the wait it is told; a 429 seen anywhere in the batch
// (the handler, a push worker, the store) is reported so the whole key slows down. Used by the
// pull worker SDK and by the orchestrator's push activities alike.
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  parseRetryAfter,
  rateLimitHolder,
  acquirePermitUpdate,
  rateLimitWorkflowId,
  reportRateLimitedUpdate,
  type RateLimitRuntime,
  type RateLimitWorkflowStart,
} from '../contracts/rate-limit.js';
import { StoreRateLimitError } from '../store/errors.js';
import { PermitDeferredError, WorkerCallError } from './failures.js';

export { PermitDeferredError };

/** The limiter workflow's type (its function name in src/workflows/rate-limit-workflow.ts). */
export const RATE_LIMIT_WORKFLOW_TYPE = 'rateLimitWorkflow';

/** A 429 from anywhere, with the wait the service asked for. */
export class RateLimitedError extends Error {
  constructor(
    message: string,
    /** The service's Retry-After in ms, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** The Retry-After a 429-ish error carries (ms), or null when the error is not a 429. */
export function rateLimitedBy(err: unknown): { retryAfterMs: number | undefined; source: string } | null {
  if (err instanceof RateLimitedError) return { retryAfterMs: err.retryAfterMs, source: 'handler' };
  if (err instanceof WorkerCallError && err.type === 'Quota')
    return { retryAfterMs: err.retryAfterMs, source: 'worker' };
  if (err instanceof StoreRateLimitError) return { retryAfterMs: err.retryAfterMs, source: 'store' };
  return null;
}

export interface AcquireOptions {
  /** Names the booking (claim and batch): asking again with it reuses the permit it got. */
  booking?: string | undefined;
  /** Do not book a permit due later than this (ms); throw PermitDeferredError instead. */
  maxWaitMs?: number | undefined;
}

export interface RateLimitGate {
  /** Waits for a permit for one call of `rows` rows; returns the ms waited for it. */
  acquire(rows: number, signal?: AbortSignal, options?: AcquireOptions): Promise<number>;
  /** Reports a 429 to the limiter if `err` is one (never throws, never waits for the answer). */
  observe(err: unknown): void;
}

export interface RateLimitGateOptions {
  client: Client;
  k8sNamespace: string;
  /** Who asks, e.g. "Function layer/tag-products" (rateLimitHolder). */
  holder: string;
  rateLimit: RateLimitRuntime;
  /** Task queue of the orchestrator that runs limiter workflows (when the spec does not say). */
  defaultTaskQueue: string;
  /** Give up after this long without an answer from the limiter (default 60 s). */
  unreachableAfterMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One RPC to the limiter may take this long (a missing orchestrator must not hang the call). */
const LIMITER_CALL_TIMEOUT_MS = 10_000;

export function createRateLimitGate(opts: RateLimitGateOptions): RateLimitGate {
  const sleep = opts.sleep ?? abortableSleep;
  const { key, requestsPerSecond, rowsPerMinute } = opts.rateLimit;
  const limits = {
    ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
    ...(rowsPerMinute !== undefined ? { rowsPerMinute } : {}),
  };
  const workflowId = rateLimitWorkflowId(opts.k8sNamespace, key);
  const start = () =>
    new WithStartWorkflowOperation(RATE_LIMIT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: opts.rateLimit.limiterTaskQueue ?? opts.defaultTaskQueue,
      args: [{ k8sNamespace: opts.k8sNamespace, key } satisfies RateLimitWorkflowStart],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  const unreachableAfterMs = opts.unreachableAfterMs ?? 60_000;

  return {
    async acquire(rows, signal, acquireOptions = {}) {
      const { booking, maxWaitMs } = acquireOptions;
      const startedAt = Date.now();
      let attempt = 0;
      for (;;) {
        if (signal?.aborted) throw signal.reason ?? new Error('aborted');
        try {
          const answer = await opts.client.withDeadline(Date.now() + LIMITER_CALL_TIMEOUT_MS, () =>
            opts.client.workflow.executeUpdateWithStart(acquirePermitUpdate, {
              args: [
                {
                  holder: opts.holder,
                  limits,
                  rows,
                  requests: 1,
                  ...(booking !== undefined ? { booking } : {}),
                  // What is left of the allowance when the limiter answers (this ask's own time counts).
                  ...(maxWaitMs !== undefined
                    ? { maxWaitMs: Math.max(0, maxWaitMs - (Date.now() - startedAt)) }
                    : {}),
                },
              ],
              startWorkflowOperation: start(),
            }),
          );
          if (answer.granted === false)
            throw new PermitDeferredError(
              `shared rate limit "${key}": the next permit is due in ${(answer.waitMs / 1000).toFixed(1)} s, ` +
                `beyond this claim's ${((maxWaitMs ?? 0) / 1000).toFixed(1)} s wait allowance; nothing was booked and ` +
                'the batch is dispatched again when a permit is due (raise requestsPerSecond/rowsPerMinute for more throughput)',
              answer.waitMs,
            );
          await sleep(answer.waitMs, signal);
          return Date.now() - startedAt;
        } catch (err) {
          if (signal?.aborted) throw signal.reason ?? err;
          if (err instanceof PermitDeferredError) throw err;
          // The limiter is between runs (continue-as-new) or the orchestrator restarts: ask again.
          if (Date.now() - startedAt > unreachableAfterMs)
            throw new WorkerCallError(
              `shared rate limit "${key}": its limiter ${workflowId} did not answer for ${Math.round(unreachableAfterMs / 1000)} s ` +
                `(is the orchestrator running?): ${err instanceof Error ? err.message : String(err)}`,
              'WorkerUnavailable',
            );
          attempt += 1;
          await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)), signal);
        }
      }
    },
    observe(err) {
      const hit = rateLimitedBy(err);
      if (!hit) return;
      void opts.client
        .withDeadline(Date.now() + LIMITER_CALL_TIMEOUT_MS, () =>
          opts.client.workflow.executeUpdateWithStart(reportRateLimitedUpdate, {
            args: [
              {
                holder: opts.holder,
                source: hit.source,
                ...(hit.retryAfterMs !== undefined ? { retryAfterMs: hit.retryAfterMs } : {}),
              },
            ],
            startWorkflowOperation: start(),
          }),
        )
        .catch(() => {
          // Best effort: the batch already fails as Quota and is retried after backoff anyway.
        });
    },
  };
}

/** Retry-After of an HTTP answer, in ms from now. */
export function retryAfterMsOf(
  headers: { get(name: string): string | null } | undefined,
): number | undefined {
  return parseRetryAfter(headers?.get('retry-after'), Date.now());
}

/**
 * The gate of a workload's shared rate limit, when it declares one; an error naming the fix when
 * it does but no Temporal client was given to reach the limiter.
 */
export function workloadRateLimitGate(
  client: Client | undefined,
  workload: { kind: 'Function' | 'Pipeline'; k8sNamespace: string; name: string },
  rateLimit: RateLimitRuntime | undefined,
  defaultTaskQueue: string,
): RateLimitGate | undefined {
  if (!rateLimit) return undefined;
  if (!client)
    throw new WorkerCallError(
      `spec.worker.rateLimit (key "${rateLimit.key}") needs a Temporal client to reach its limiter; ` +
        `pass one to create${workload.kind}ClaimActivity`,
      false,
    );
  return createRateLimitGate({
    client,
    k8sNamespace: workload.k8sNamespace,
    holder: rateLimitHolder(workload.kind, workload.k8sNamespace, workload.name),
    rateLimit,
    defaultTaskQueue,
  });
}
