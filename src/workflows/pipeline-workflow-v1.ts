// FROZEN: the Pipeline workflow before engine v2 (docs/adr/0011). `pipelineWorkflow` runs this
// code only for executions whose history has no `engine-v2` patch marker — runs started before
// the upgrade — so they replay and finish their run; their continue-as-new starts a v2 run.
// Do not change behaviour here; delete it once no such run can remain.
//
// One long-running workflow per Pipeline: a durable queue of items (submissions, the built-in
// S3 source, items a worker pulled from its own source), cut into batches of worker.batchSize
// and leased to workers (pull: an activity on the Pipeline's task queue; push: POST /process).
// A batch is done only once its documents are written to the target namespace. Items are
// idempotent by `key@version`; two versions of one key never run at once, so an older
// version can never overwrite a newer one. Continues-as-new before history grows large,
// carrying only the pending queue and a bounded memory of finished items (docs/adr/0030).
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { createPipelineActivities } from '../activities/pipeline-activities.js';
import {
  INVALID_PIPELINE_OUTPUT,
  RUN_PIPELINE_BATCH_ACTIVITY,
  itemIdentity,
  itemStatesQuery,
  itemVersion,
  listSourceNowSignal,
  pipelineCarriedStateSchema,
  pipelineItemSchema,
  pipelineRuntimeSpecSchema,
  pipelineStatusQuery,
  pipelineWorkflowInputSchema,
  s3SourceRefSchema,
  setPipelinePausedUpdate,
  sourceLabel,
  submitItemsUpdate,
  updatePipelineSpecUpdate,
  type ItemState,
  type PipelineBatchInput,
  type PipelineBatchResult,
  type PipelinePhase,
  type PipelineStatus,
  type PipelineWorkflowInput,
  type QueuedItem,
} from '../contracts/pipeline.js';
import { pipelineTaskQueue } from '../contracts/names.js';
import { LayerPhaseKey, LayerTargetNamespaceKey } from '../contracts/search-attributes.js';
import { batchRetryPolicy, type BatchRetrySpec } from './batch-retry-policy.js';

/** Batches per run before continue-as-new even if the server has not suggested it yet. */
const DEFAULT_PIPELINE_BATCHES_PER_RUN = 400;
/** Finished identities remembered (status of recent items, cheap duplicate detection). */
const RECENT_LIMIT = 2_000;
/** Items one S3 listing call may add to the queue. */
const LISTING_PAGE = 1_000;
const DEFAULT_POLL_SECONDS = 30;
const NOT_RETRIED = [
  INVALID_PIPELINE_OUTPUT,
  'WorkerRejectedBatch',
  'StoreRequestRejected',
  'InvalidWorkerOutput',
];

type Activities = ReturnType<typeof createPipelineActivities>;

const orchestrator = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: NOT_RETRIED },
});

interface Batch {
  batchId: string;
  items: QueuedItem[];
  splitDepth: number;
  since: number;
}

function retryPolicy(spec: { retry: BatchRetrySpec }, maxAttempts: number): RetryPolicy {
  return batchRetryPolicy(spec.retry, maxAttempts, NOT_RETRIED);
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.message;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function pipelineWorkflowV1(rawInput: PipelineWorkflowInput): Promise<void> {
  const input = pipelineWorkflowInputSchema.parse(rawInput);
  let spec = input.spec;
  const state = pipelineCarriedStateSchema.parse(input.state ?? {});
  state.runsSoFar += 1;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_PIPELINE_BATCHES_PER_RUN;

  // Queue: FIFO of pending items; identities index it. Plain JSON on continue-as-new.
  let pending: QueuedItem[] = state.pending;
  const pendingIds = new Set(pending.map(itemIdentity));
  const inFlight = new Map<string, Batch>();
  const inFlightIds = new Set<string>();
  const inFlightKeys = new Set<string>();
  /** Halves of failed batches, dispatched before new batches (their keys stay reserved). */
  const splitQueue: Batch[] = [];
  const recent = new Map<string, 'done' | 'failed'>(state.recent);
  let batchSeq = 0;
  let batchesThisRun = 0;
  let draining = false;
  let phase: PipelinePhase = 'idle';
  let wake = 0;
  const bump = () => {
    wake += 1;
  };
  const runTag = workflowInfo().runId.slice(0, 8);
  let listingRunning = false;
  let listingRequested = true;
  let nextListingAtMs = Date.now();

  const s3Source = () => {
    const parsed = s3SourceRefSchema.safeParse(spec.sourceRef ?? {});
    return parsed.success ? parsed.data : undefined;
  };

  const remember = (id: string, how: 'done' | 'failed') => {
    recent.delete(id);
    recent.set(id, how);
    while (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
  };

  const inFlightItems = () => {
    let n = 0;
    for (const b of inFlight.values()) n += b.items.length;
    return n;
  };

  const status = (): PipelineStatus => ({
    name: spec.name,
    k8sNamespace: spec.k8sNamespace,
    generation: spec.generation,
    targetNamespace: spec.targetNamespace,
    phase,
    batchSize: spec.worker.batchSize,
    queue: {
      pending: pending.length,
      inFlight: inFlightItems(),
      done: state.counters.done,
      failed: state.counters.failed,
    },
    inFlightBatches: inFlight.size,
    counters: { ...state.counters },
    lastListingAt: state.lastListingAt,
    lastError: state.lastError,
    runsSoFar: state.runsSoFar,
  });

  /** Queues an item unless the same identity is queued, in flight or just done. */
  const enqueue = (item: QueuedItem): boolean => {
    const id = itemIdentity(item);
    if (pendingIds.has(id) || inFlightIds.has(id) || recent.get(id) === 'done') return false;
    // A newer version of a queued key replaces the queued one (never both in the queue).
    const older = pending.findIndex((p) => p.key === item.key);
    if (older >= 0) {
      pendingIds.delete(itemIdentity(pending[older]!));
      pending.splice(older, 1);
    }
    recent.delete(id);
    pending.push(item);
    pendingIds.add(id);
    return true;
  };

  // ---- messages -------------------------------------------------------------------------
  setHandler(pipelineStatusQuery, status);
  setHandler(itemStatesQuery, (ids) => {
    const out: Record<string, ItemState> = {};
    for (const id of ids) {
      out[id] = inFlightIds.has(id)
        ? 'inFlight'
        : pendingIds.has(id)
          ? 'pending'
          : (recent.get(id) ?? 'unknown');
    }
    return out;
  });
  setHandler(
    submitItemsUpdate,
    (items) => {
      let accepted = 0;
      for (const raw of items) {
        if (enqueue({ ...raw, version: itemVersion(raw) })) accepted += 1;
      }
      state.counters.submitted += accepted;
      state.counters.duplicates += items.length - accepted;
      bump();
      return { accepted, duplicates: items.length - accepted };
    },
    {
      // Bad items and a full queue are refused before they reach history; the caller retries.
      validator: (items) => {
        pipelineItemSchema.array().max(5_000).parse(items);
        if (pending.length + items.length > spec.schedule.maxPendingItems) {
          throw new Error(
            `queue full: ${pending.length} items pending (maxPendingItems ${spec.schedule.maxPendingItems}); retry later`,
          );
        }
      },
    },
  );
  setHandler(
    updatePipelineSpecUpdate,
    (next) => {
      spec = pipelineRuntimeSpecSchema.parse(next);
      listingRequested = true;
      upsertSearchAttributes([{ key: LayerTargetNamespaceKey, value: [spec.targetNamespace] }]);
      bump();
      return { generation: spec.generation };
    },
    {
      validator: (next) => {
        const parsed = pipelineRuntimeSpecSchema.parse(next);
        if (parsed.name !== spec.name || parsed.k8sNamespace !== spec.k8sNamespace) {
          throw new Error(
            `spec is for ${parsed.k8sNamespace}/${parsed.name}, this workflow runs ${spec.k8sNamespace}/${spec.name}`,
          );
        }
      },
    },
  );
  setHandler(setPipelinePausedUpdate, (paused) => {
    spec = { ...spec, paused };
    if (!paused) listingRequested = true;
    bump();
    return { paused };
  });
  setHandler(listSourceNowSignal, () => {
    listingRequested = true;
    bump();
  });

  // ---- batches --------------------------------------------------------------------------
  const batchInput = (b: Batch): PipelineBatchInput => ({
    batchId: b.batchId,
    pipeline: { k8sNamespace: spec.k8sNamespace, name: spec.name },
    targetNamespace: spec.targetNamespace,
    ...(spec.sourceRef ? { sourceRef: spec.sourceRef } : {}),
    items: b.items,
    timeoutSeconds: spec.worker.timeoutSeconds,
    source: sourceLabel(spec.sourceRef),
  });

  const executeBatch = (b: Batch): Promise<PipelineBatchResult> => {
    const options: ActivityOptions = {
      // The lease: a worker that vanishes loses the batch after leaseSeconds; it is re-dispatched.
      startToCloseTimeout: spec.schedule.leaseSeconds * 1000,
      retry: retryPolicy(
        spec,
        b.splitDepth === 0 ? spec.retry.maxAttempts : Math.min(2, spec.retry.maxAttempts),
      ),
      summary: `batch ${b.batchId}: ${b.items.length} items (${b.items[0]?.key ?? ''}…)`,
    };
    if (spec.worker.dispatch === 'push') {
      return proxyActivities<Activities>(options).runPushPipelineBatch({
        ...batchInput(b),
        pushUrl: spec.worker.pushUrl,
      });
    }
    const pull = proxyActivities<Record<string, (i: PipelineBatchInput) => Promise<PipelineBatchResult>>>({
      ...options,
      taskQueue: spec.worker.taskQueue ?? pipelineTaskQueue(spec.k8sNamespace, spec.name),
    });
    return pull[RUN_PIPELINE_BATCH_ACTIVITY]!(batchInput(b));
  };

  const release = (b: Batch) => {
    inFlight.delete(b.batchId);
    for (const i of b.items) {
      inFlightIds.delete(itemIdentity(i));
      inFlightKeys.delete(i.key);
    }
    bump();
  };

  const dispatch = (b: Batch) => {
    inFlight.set(b.batchId, b);
    for (const i of b.items) {
      inFlightIds.add(itemIdentity(i));
      inFlightKeys.add(i.key);
    }
    batchesThisRun += 1;
    state.counters.batches += 1;
    executeBatch(b)
      .then((res) => {
        const c = state.counters;
        c.done += b.items.length;
        c.alreadyWritten += res.alreadyWritten;
        c.documents += res.documents;
        c.chunksWritten += res.chunksWritten;
        c.chunksKept += res.chunksKept;
        c.chunksDeleted += res.chunksDeleted;
        for (const i of b.items) remember(itemIdentity(i), 'done');
        release(b);
      })
      .catch((err: unknown) => {
        release(b);
        if (isCancellation(err)) {
          // The run is ending (Pipeline deleted): the items stay queued for whoever resumes.
          for (const i of b.items) enqueue(i);
          return;
        }
        state.lastError = `${b.batchId}: ${failureMessage(err)}`;
        if (b.items.length > 1) {
          // Isolate the failing items: each half goes back to the front of the queue on its own.
          const mid = Math.ceil(b.items.length / 2);
          splitQueue.unshift(
            {
              batchId: `${b.batchId}.1`,
              items: b.items.slice(0, mid),
              splitDepth: b.splitDepth + 1,
              since: Date.now(),
            },
            {
              batchId: `${b.batchId}.2`,
              items: b.items.slice(mid),
              splitDepth: b.splitDepth + 1,
              since: Date.now(),
            },
          );
          for (const half of splitQueue) for (const i of half.items) inFlightKeys.add(i.key);
          return;
        }
        state.counters.failed += 1;
        remember(itemIdentity(b.items[0]!), 'failed');
      });
  };

  /** The next batch: up to batchSize pending items whose key is not in flight. */
  const cutBatch = (): Batch | undefined => {
    const items: QueuedItem[] = [];
    const rest: QueuedItem[] = [];
    const keys = new Set<string>();
    for (const item of pending) {
      if (items.length < spec.worker.batchSize && !inFlightKeys.has(item.key) && !keys.has(item.key)) {
        items.push(item);
        keys.add(item.key);
      } else rest.push(item);
    }
    if (items.length === 0) return undefined;
    pending = rest;
    for (const i of items) pendingIds.delete(itemIdentity(i));
    batchSeq += 1;
    return { batchId: `${runTag}-${batchSeq}`, items, splitDepth: 0, since: Date.now() };
  };

  // ---- the built-in S3 source -----------------------------------------------------------
  const startListing = () => {
    const source = s3Source();
    if (!source) return;
    listingRunning = true;
    listingRequested = false;
    const cursor = state.s3Cursor;
    const maxItems = Math.min(LISTING_PAGE, spec.schedule.maxPendingItems - pending.length);
    orchestrator
      .listS3Changes({
        sourceRef: spec.sourceRef!,
        targetNamespace: spec.targetNamespace,
        startAfter: cursor,
        maxItems,
      })
      .then(async (res) => {
        for (const item of res.items) enqueue(item);
        state.s3Cursor = res.nextStartAfter;
        if (res.nextStartAfter === null) {
          // End of a pass: objects gone from the bucket lose their chunks.
          const deleted = await orchestrator.findDeletedS3Objects({
            sourceRef: spec.sourceRef!,
            targetNamespace: spec.targetNamespace,
          });
          for (const key of deleted) enqueue({ key, version: 'deleted', deleted: true });
          state.counters.listings += 1;
          state.lastListingAt = new Date(Date.now()).toISOString();
          nextListingAtMs = Date.now() + (source.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
        } else listingRequested = true; // more of this pass once the queue has room
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) return;
        state.lastError = `listing s3://${source.bucket}/${source.prefix}: ${failureMessage(err)}`;
        nextListingAtMs = Date.now() + (source.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
      })
      .finally(() => {
        listingRunning = false;
        bump();
      });
  };

  const setPhase = (next: PipelinePhase) => {
    if (next === phase) return;
    phase = next;
    upsertSearchAttributes([{ key: LayerPhaseKey, value: next }]);
  };

  // ---- main loop ------------------------------------------------------------------------
  for (;;) {
    if (!draining && (workflowInfo().continueAsNewSuggested || batchesThisRun >= batchesPerRun))
      draining = true;

    if (!spec.paused && !draining) {
      while (splitQueue.length > 0 && inFlight.size < spec.schedule.maxInFlightBatches) {
        const half = splitQueue.shift()!;
        for (const i of half.items) inFlightKeys.delete(i.key);
        dispatch(half);
      }
      while (inFlight.size < spec.schedule.maxInFlightBatches) {
        const b = cutBatch();
        if (!b) break;
        dispatch(b);
      }
      const room = pending.length < spec.schedule.maxPendingItems / 2;
      if (s3Source() && !listingRunning && room && (listingRequested || Date.now() >= nextListingAtMs))
        startListing();
    }

    const busy = inFlight.size > 0 || pending.length > 0 || listingRunning;
    setPhase(spec.paused ? 'paused' : draining ? 'draining' : busy ? 'running' : 'idle');
    setCurrentDetails(currentDetails(status()));

    if (draining && inFlight.size === 0 && !listingRunning) {
      await condition(allHandlersFinished);
      // Split halves go back to the queue's front; nothing in memory is lost.
      const carried = [...splitQueue.flatMap((b) => b.items), ...pending];
      const next: PipelineWorkflowInput = {
        spec,
        state: { ...state, pending: carried, recent: [...recent.entries()] },
        batchesPerRun: input.batchesPerRun,
      };
      await continueAsNew<typeof pipelineWorkflowV1>(next);
    }

    const seen = wake;
    const listingDue = s3Source() && !spec.paused && !draining && !listingRunning;
    if (listingDue) await condition(() => wake !== seen, Math.max(1, nextListingAtMs - Date.now()));
    else await condition(() => wake !== seen);
  }
}

function currentDetails(s: PipelineStatus): string {
  const c = s.counters;
  return [
    `**${s.phase}** — ${s.queue.pending} pending, ${s.queue.inFlight} in flight (${s.inFlightBatches} batches), ${s.queue.done} done, ${s.queue.failed} failed`,
    '',
    `- target \`${s.targetNamespace}\`: ${c.documents} documents, ${c.chunksWritten} chunks written, ${c.chunksKept} kept, ${c.chunksDeleted} deleted`,
    `- submitted ${c.submitted} (duplicates ${c.duplicates}), already written ${c.alreadyWritten}; listings ${c.listings}; run ${s.runsSoFar}`,
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
