// Scale-in that drains (docs/adr/0103-scale-in-drains.md). When a worker pod is told to stop
// (SIGTERM from KEDA's or the HPA's scale-in, a rollout, a node drain) a pull worker stops polling,
// lets each claim finish the batch its handler is computing and write it, and ends the claim with a
// report of what it finished: the batches after it go back to the workflow at once, uncharged, and
// another replica takes them. Nothing finished is computed again, and no claim waits for its
// heartbeat timeout. Only a batch that outlives the drain window is cancelled (the old path: its
// claim's retry resumes after the last heartbeated batch).
import { Runtime } from '@temporalio/worker';

/**
 * Seconds a draining worker allows past the batch timeout for the last batch's write and the
 * claim's report. The pod gets the batch timeout plus 15 s (src/operator/plan-pod.ts), so the
 * drain window and then the forced stop below both end before the kubelet's SIGKILL.
 */
const DRAIN_WRITE_SECONDS = 5;
/** Batch timeout assumed when the environment names none (the CRD default, worker.timeoutSeconds). */
const DEFAULT_BATCH_TIMEOUT_SECONDS = 30;

/**
 * The Temporal Worker's shutdown times for a worker whose batches time out after
 * `timeoutSeconds`: in-flight claims keep running for the drain window (shutdownGraceTime; the
 * SDK's default 0 cancels them at once, throwing away a batch being computed), and the worker
 * gives up on claims that ignore cancellation a little later (shutdownForceTime).
 */
export function drainShutdownTimes(timeoutSeconds: number | undefined): {
  shutdownGraceTime: number;
  shutdownForceTime: number;
} {
  const graceMs = ((timeoutSeconds ?? DEFAULT_BATCH_TIMEOUT_SECONDS) + DRAIN_WRITE_SECONDS) * 1000;
  return { shutdownGraceTime: graceMs, shutdownForceTime: graceMs + DRAIN_WRITE_SECONDS * 1000 };
}

/** Tells claims the worker is stopping; `signal` is what the claim runner's `stopTaking` watches. */
export interface WorkerDrain {
  readonly signal: AbortSignal;
  /** Starts draining (idempotent): called when the worker's own shutdown starts. */
  start(): void;
  /** Stops listening for process signals. */
  dispose(): void;
}

/**
 * A drain that starts on `start()` or on any of the signals the Temporal runtime shuts its workers
 * down on (SIGINT, SIGTERM… : the runtime calls Worker.shutdown itself, with no hook for us, so
 * the same signals are heard here too).
 */
export function workerDrain(
  signals: readonly NodeJS.Signals[] = Runtime.instance().options.shutdownSignals,
): WorkerDrain {
  const controller = new AbortController();
  const start = () => {
    if (!controller.signal.aborted) controller.abort(new Error('worker stopping'));
  };
  for (const s of signals) process.on(s, start);
  return {
    signal: controller.signal,
    start,
    dispose: () => {
      for (const s of signals) process.off(s, start);
    },
  };
}
