// FROZEN: the Function workflow before engine v2 (docs/adr/0011). `functionWorkflow` runs this
// code only for executions whose history has no `engine-v2` patch marker — runs started before
// the upgrade — so they replay and finish their run; their continue-as-new starts a v2 run.
// Do not change behaviour here; delete it once no such run can remain.
//
// One long-running workflow per Function: a coordinator that discovers rows needing work,
// cuts them into batches, keeps at most maxInFlightBatches leased to workers, isolates and
// dead-letters rows that keep failing, and continues-as-new before its history grows large.
// Rows never pass through this workflow — only ids and batch descriptors (docs/adr/0010).
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type * as activities from '../activities/index.js';
import {
  RUN_FUNCTION_BATCH_ACTIVITY,
  discoverNowSignal,
  functionCarriedStateSchema,
  functionRuntimeSpecSchema,
  functionWorkflowInputSchema,
  replayDeadLettersUpdate,
  setPausedUpdate,
  statusQuery,
  updateSpecUpdate,
  type FunctionBatchInput,
  type FunctionBatchResult,
  type FunctionPhase,
  type FunctionStatus,
  type FunctionWorkflowInput,
  type RowId,
} from '../contracts/function.js';
import { functionTaskQueue } from '../contracts/names.js';
import { LayerPhaseKey, LayerTargetNamespaceKey } from '../contracts/search-attributes.js';
import { FAILURE_TYPES_NOT_RETRIED } from './function-failure-types.js';
import { batchRetryPolicy, type BatchRetrySpec } from './batch-retry-policy.js';

/** Batches per run before continue-as-new even if the server has not suggested it yet. */
const DEFAULT_BATCHES_PER_RUN = 500;
/** Retries for a half of a failed batch: the whole batch already used the full policy. */
const SPLIT_MAX_ATTEMPTS = 2;
/** Largest discovery page, whatever the free capacity. */
const MAX_DISCOVERY_PAGE = 10_000;

// Orchestrator-side calls are single store requests: a short timeout means an orchestrator
// that dies mid-call delays the Function by seconds, not minutes (its attempt is re-run).
const orchestrator = proxyActivities<ReturnType<typeof activities.createFunctionActivities>>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...FAILURE_TYPES_NOT_RETRIED],
  },
});

/** Clearing dead letters pages through patch_by_filter requests: allow it minutes. */
const replayProxy = proxyActivities<ReturnType<typeof activities.createFunctionActivities>>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...FAILURE_TYPES_NOT_RETRIED],
  },
});

interface Batch {
  batchId: string;
  namespace: string;
  ids: RowId[];
  /** 0 for a discovered batch; n for a batch split n times from a failing one. */
  splitDepth: number;
  since: number;
}

interface ScanCursor {
  afterId: RowId | null;
  exhausted: boolean;
  scanning: boolean;
}

function retryPolicy(spec: { retry: BatchRetrySpec }, maxAttempts: number): RetryPolicy {
  return batchRetryPolicy(spec.retry, maxAttempts, FAILURE_TYPES_NOT_RETRIED);
}

function failureMessage(err: unknown): { message: string; nonRetryable: boolean } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return {
      message: cause.message,
      nonRetryable: cause.nonRetryable || FAILURE_TYPES_NOT_RETRIED.includes(cause.type ?? ''),
    };
  }
  return { message: cause instanceof Error ? cause.message : String(cause), nonRetryable: false };
}

export async function functionWorkflowV1(rawInput: FunctionWorkflowInput): Promise<void> {
  // Parse, don't trust: after continue-as-new the input is JSON from the previous run.
  const input = functionWorkflowInputSchema.parse(rawInput);
  let spec = input.spec;
  const state = functionCarriedStateSchema.parse(input.state ?? {});
  state.runsSoFar += 1;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN;

  const inFlight = new Map<string, Batch>();
  const inFlightIds = new Set<string>();
  const waiting: Batch[] = [];
  let cursors: Record<string, ScanCursor> = {};
  let passActive = false;
  let nextPassAtMs = Date.now();
  let batchSeq = 0;
  let batchesThisRun = 0;
  let draining = false;
  let phase: FunctionPhase = 'idle';
  let wake = 0;
  const bump = () => {
    wake += 1;
  };
  const idKey = (ns: string, id: RowId) => `${ns}\u0000${typeof id}:${id}`;
  const runTag = workflowInfo().runId.slice(0, 8);

  let reservedSlots = 0;
  // Discovery reads ahead one window: up to maxInFlightBatches batches wait, already
  // discovered, behind those in flight, so a finished batch is replaced in the same workflow
  // task instead of after a scan (docs/adr/0010). Workflow state stays bounded by
  // 2 × maxInFlightBatches × batchSize ids.
  // Runs recorded before read-ahead replay without it (the patch marker decides).
  const readAhead = patched('discovery-read-ahead');
  const capacity = () => (readAhead ? 2 : 1) * spec.schedule.maxInFlightBatches;
  /** Batch slots neither in flight, waiting, nor promised to a running scan. */
  const freeSlots = () => capacity() - inFlight.size - waiting.length - reservedSlots;
  /** Scan only when half the read-ahead is gone, so each scan fetches several batches. */
  const scanThreshold = () => (readAhead ? Math.max(1, Math.ceil(spec.schedule.maxInFlightBatches / 2)) : 1);

  const status = (): FunctionStatus => {
    const byNs: Record<string, number> = {};
    for (const ns of spec.targetNamespaces) byNs[ns] = state.pendingRows[ns] ?? 0;
    const elapsedMs = state.rateWindow ? Date.now() - state.rateWindow.startedAtMs : 0;
    const done = state.rateWindow ? state.counters.processed - state.rateWindow.processedAtStart : 0;
    let inFlightRows = 0;
    for (const b of inFlight.values()) inFlightRows += b.ids.length;
    return {
      name: spec.name,
      k8sNamespace: spec.k8sNamespace,
      generation: spec.generation,
      phase,
      outputVersion: spec.output.version,
      targetNamespaces: spec.targetNamespaces,
      pendingRows: Object.values(byNs).reduce((a, b) => a + b, 0),
      pendingRowsByNamespace: byNs,
      inFlightBatches: inFlight.size,
      inFlightRows,
      claimsInFlight: inFlight.size,
      inFlight: [...inFlight.values()].slice(0, 50).map((b) => ({
        batchId: b.batchId,
        namespace: b.namespace,
        rows: b.ids.length,
        since: new Date(b.since).toISOString(),
      })),
      counters: { ...state.counters },
      lastDiscoveryAt: state.lastDiscoveryAt,
      lastError: state.lastError,
      rowsPerSecond: elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000 * 10) / 10 : 0,
      runsSoFar: state.runsSoFar,
    };
  };

  // ---- messages -------------------------------------------------------------------------
  setHandler(statusQuery, status);
  setHandler(
    updateSpecUpdate,
    (next) => {
      const previousNamespaces = spec.targetNamespaces.join('\u0000');
      spec = next;
      // A new spec may change filter, version or namespaces: start a fresh pass now.
      state.discoveryRequested = true;
      cursors = {};
      passActive = false;
      if (previousNamespaces !== spec.targetNamespaces.join('\u0000')) {
        upsertSearchAttributes([{ key: LayerTargetNamespaceKey, value: spec.targetNamespaces }]);
      }
      bump();
      return { generation: spec.generation };
    },
    {
      // Rejects a bad spec before it reaches history.
      validator: (next) => {
        functionRuntimeSpecSchema.parse(next);
        if (next.name !== spec.name || next.k8sNamespace !== spec.k8sNamespace) {
          throw new Error(
            `spec is for ${next.k8sNamespace}/${next.name}, this workflow runs ${spec.k8sNamespace}/${spec.name}`,
          );
        }
      },
    },
  );
  setHandler(setPausedUpdate, (paused) => {
    spec = { ...spec, paused };
    if (!paused) state.discoveryRequested = true;
    bump();
    return { paused };
  });
  setHandler(discoverNowSignal, () => {
    state.discoveryRequested = true;
    bump();
  });
  setHandler(replayDeadLettersUpdate, async ({ filter }) => {
    const cleared = await replayProxy.clearDeadLetters({
      namespaces: spec.targetNamespaces,
      output: spec.output,
      filter,
    });
    state.counters.deadLettered = Math.max(0, state.counters.deadLettered - cleared);
    state.discoveryRequested = true;
    bump();
    return { cleared };
  });

  // ---- batches --------------------------------------------------------------------------
  const batchInput = (b: Batch): FunctionBatchInput => ({
    batchId: b.batchId,
    namespace: b.namespace,
    ids: b.ids,
    spec: {
      k8sNamespace: spec.k8sNamespace,
      name: spec.name,
      inputs: spec.inputs,
      output: spec.output,
      filter: spec.filter,
      worker: spec.worker,
    },
  });

  const executeBatch = (b: Batch): Promise<FunctionBatchResult> => {
    const first = b.ids[0];
    const last = b.ids[b.ids.length - 1];
    const options: ActivityOptions = {
      // The lease: a worker that vanishes loses the batch after leaseSeconds and it is re-dispatched.
      startToCloseTimeout: spec.schedule.leaseSeconds * 1000,
      retry: retryPolicy(
        spec,
        b.splitDepth === 0 ? spec.retry.maxAttempts : Math.min(spec.retry.maxAttempts, SPLIT_MAX_ATTEMPTS),
      ),
      summary: `batch ${b.batchId}: ${b.ids.length} rows of ${b.namespace} (ids ${String(first)}…${String(last)})`,
    };
    if (spec.worker.dispatch === 'push') {
      return proxyActivities<ReturnType<typeof activities.createFunctionActivities>>(options).runPushBatch(
        batchInput(b),
      );
    }
    const pull = proxyActivities<Record<string, (i: FunctionBatchInput) => Promise<FunctionBatchResult>>>({
      ...options,
      taskQueue: spec.worker.taskQueue ?? functionTaskQueue(spec.k8sNamespace, spec.name),
    });
    return pull[RUN_FUNCTION_BATCH_ACTIVITY]!(batchInput(b));
  };

  const release = (b: Batch) => {
    inFlight.delete(b.batchId);
    for (const id of b.ids) inFlightIds.delete(idKey(b.namespace, id));
    bump();
  };

  const onBatchFailed = async (b: Batch, err: unknown) => {
    const { message } = failureMessage(err);
    state.counters.failedBatches += 1;
    state.lastError = `${b.batchId} (${b.namespace}): ${message}`;
    if (b.ids.length > 1) {
      // Isolate the rows that fail: retry each half on its own, down to single rows.
      const mid = Math.ceil(b.ids.length / 2);
      [b.ids.slice(0, mid), b.ids.slice(mid)].forEach((ids, half) => {
        waiting.push({
          batchId: `${b.batchId}.${half + 1}`,
          namespace: b.namespace,
          ids,
          splitDepth: b.splitDepth + 1,
          since: Date.now(),
        });
      });
      return;
    }
    const attempts =
      b.splitDepth === 0 ? spec.retry.maxAttempts : Math.min(spec.retry.maxAttempts, SPLIT_MAX_ATTEMPTS);
    const marked = await orchestrator.deadLetterRows({
      namespace: b.namespace,
      ids: b.ids,
      output: spec.output,
      message,
      attempts,
    });
    state.counters.deadLettered += marked;
  };

  const dispatch = (b: Batch) => {
    inFlight.set(b.batchId, b);
    for (const id of b.ids) inFlightIds.add(idKey(b.namespace, id));
    batchesThisRun += 1;
    state.counters.batches += 1;
    if (!state.rateWindow)
      state.rateWindow = { startedAtMs: Date.now(), processedAtStart: state.counters.processed };
    executeBatch(b)
      .then((res) => {
        state.counters.processed += res.written;
        state.counters.superseded += res.superseded;
        release(b);
      })
      .catch(async (err: unknown) => {
        // Cancelled (the Function was deleted): nothing to record, the run is ending.
        if (isCancellation(err)) return release(b);
        try {
          await onBatchFailed(b, err);
        } catch (deadLetterErr) {
          if (!isCancellation(deadLetterErr))
            state.lastError = `dead-lettering ${b.batchId}: ${failureMessage(deadLetterErr).message}`;
        }
        release(b);
        // Split halves keep their rows leased: re-claim the ids the parent's release dropped.
        for (const w of waiting) for (const id of w.ids) inFlightIds.add(idKey(w.namespace, id));
      });
  };

  // ---- discovery ------------------------------------------------------------------------
  let scansRunning = 0;
  let countsRunning = 0;

  const refreshPendingCounts = () => {
    countsRunning += 1;
    orchestrator
      .countPendingRows({ namespaces: spec.targetNamespaces, output: spec.output, filter: spec.filter })
      .then((counts) => {
        state.pendingRows = counts;
      })
      .catch((err: unknown) => {
        state.lastError = `counting pending rows: ${failureMessage(err).message}`;
      })
      .finally(() => {
        countsRunning -= 1;
        bump();
      });
  };

  const startPass = () => {
    passActive = true;
    state.discoveryRequested = false;
    state.counters.discoveries += 1;
    state.lastDiscoveryAt = new Date(Date.now()).toISOString();
    cursors = Object.fromEntries(
      spec.targetNamespaces.map((ns) => [ns, { afterId: null, exhausted: false, scanning: false }]),
    );
    if (inFlight.size === 0) state.rateWindow = undefined;
    refreshPendingCounts();
  };

  const launchScan = (ns: string, cursor: ScanCursor, slots: number) => {
    const limit = Math.min(MAX_DISCOVERY_PAGE, slots * spec.worker.batchSize);
    cursor.scanning = true;
    scansRunning += 1;
    reservedSlots += slots;
    const passCursors = cursors;
    orchestrator
      .discoverRows({
        namespace: ns,
        output: spec.output,
        filter: spec.filter,
        afterId: cursor.afterId,
        limit,
      })
      .then((page) => {
        if (passCursors !== cursors) return; // the pass was restarted meanwhile (spec change)
        cursor.afterId = page.nextAfterId;
        cursor.exhausted = page.nextAfterId === null;
        // Rows leased to a batch are not rediscovered: skip ids already in flight.
        const fresh = page.ids.filter((id) => !inFlightIds.has(idKey(ns, id)));
        for (let i = 0; i < fresh.length; i += spec.worker.batchSize) {
          batchSeq += 1;
          waiting.push({
            batchId: `${runTag}-${batchSeq}`,
            namespace: ns,
            ids: fresh.slice(i, i + spec.worker.batchSize),
            splitDepth: 0,
            since: Date.now(),
          });
        }
      })
      .catch((err: unknown) => {
        cursor.exhausted = true;
        state.lastError = `discovery in ${ns}: ${failureMessage(err).message}`;
      })
      .finally(() => {
        cursor.scanning = false;
        scansRunning -= 1;
        reservedSlots -= slots;
        bump();
      });
  };

  const setPhase = (next: FunctionPhase) => {
    if (next === phase) return;
    phase = next;
    upsertSearchAttributes([{ key: LayerPhaseKey, value: next }]);
  };

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || batchesThisRun >= batchesPerRun;

  // ---- main loop ------------------------------------------------------------------------
  for (;;) {
    if (!draining && shouldContinueAsNew()) draining = true;

    if (!spec.paused) {
      // Already-discovered batches (and halves of failing ones) go out even while draining.
      while (waiting.length > 0 && inFlight.size < spec.schedule.maxInFlightBatches)
        dispatch(waiting.shift()!);
    }
    if (!spec.paused && !draining) {
      if (!passActive && (state.discoveryRequested || Date.now() >= nextPassAtMs)) startPass();
      if (passActive) {
        const toScan = Object.entries(cursors).filter(([, c]) => !c.exhausted && !c.scanning);
        for (const [i, [ns, cursor]] of toScan.entries()) {
          const free = freeSlots();
          if (scansRunning >= spec.schedule.maxConcurrentScans || free < scanThreshold()) break;
          // Share the free slots among the scans that may still start now.
          const startable = Math.min(toScan.length - i, spec.schedule.maxConcurrentScans - scansRunning);
          launchScan(ns, cursor, Math.max(1, Math.floor(free / startable)));
        }
        const passDone = Object.values(cursors).every((c) => c.exhausted && !c.scanning);
        if (passDone && waiting.length === 0 && inFlight.size === 0) {
          passActive = false;
          nextPassAtMs = Date.now() + spec.schedule.discoveryIntervalSeconds * 1000;
          refreshPendingCounts();
        }
      }
    }

    setPhase(
      spec.paused ? 'paused' : draining ? 'draining' : inFlight.size > 0 || passActive ? 'running' : 'idle',
    );
    setCurrentDetails(currentDetails(status()));

    if (
      draining &&
      inFlight.size === 0 &&
      waiting.length === 0 &&
      scansRunning === 0 &&
      countsRunning === 0
    ) {
      await condition(allHandlersFinished);
      const next: FunctionWorkflowInput = {
        spec,
        // A pass cut short by the hand-over resumes at once in the next run.
        state: { ...state, discoveryRequested: state.discoveryRequested || passActive },
        batchesPerRun: input.batchesPerRun,
      };
      await continueAsNew<typeof functionWorkflowV1>(next);
    }

    const seen = wake;
    const idleTimeout =
      !passActive && !spec.paused && !draining ? Math.max(1, nextPassAtMs - Date.now()) : undefined;
    if (idleTimeout !== undefined) await condition(() => wake !== seen, idleTimeout);
    else await condition(() => wake !== seen);
  }
}

function currentDetails(s: FunctionStatus): string {
  const c = s.counters;
  return [
    `**${s.phase}** — ${c.processed} rows written, ${s.pendingRows} pending, ${s.inFlightBatches} batches in flight (${s.inFlightRows} rows)`,
    '',
    `- rate: ${s.rowsPerSecond} rows/s; batches ${c.batches}, failed batches ${c.failedBatches}, dead-lettered rows ${c.deadLettered}, superseded ${c.superseded}`,
    `- last discovery: ${s.lastDiscoveryAt ?? 'never'} (${c.discoveries} passes); run ${s.runsSoFar}`,
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
