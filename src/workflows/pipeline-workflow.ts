// One long-running workflow per Pipeline: a durable queue of items (submissions, the built-in S3
// source, items a worker pulled from its own source) cut into batches of worker.batchSize and run
// through the batch envelope (src/envelope/batch-envelope.ts) — the same claims, retries,
// splitting, dead letters and degraded state as a Function (docs/adr/0011). A batch is done only
// once its documents are written to the target namespace. Items are idempotent by
// `key@version`; two versions of one key are never out at once, so an older version can never
// overwrite a newer one (docs/adr/0030).
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  deprecatePatch,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createPipelineActivities } from '../activities/pipeline-activities.js';
import { claimProgressFrom, type BatchOutcome, type ClaimReport } from '../contracts/claims.js';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../contracts/failures.js';
import {
  DEAD_LETTER_LIMIT,
  RUN_PIPELINE_CLAIM_ACTIVITY,
  deadLettersQuery,
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
  type ParsedPipelineSpec,
  type PipelineBatchPayload,
  type PipelineClaimInput,
  type PipelinePhase,
  type PipelineStatus,
  type PipelineWorkflowInput,
  type QueuedItem,
} from '../contracts/pipeline.js';
import { pipelineTaskQueue } from '../contracts/names.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import {
  observeBatch,
  observeClaimAttempt,
  observeFailure,
  observeRetry,
} from '../contracts/observations.js';
import { LayerPhaseKey, LayerTargetNamespaceKey } from '../contracts/search-attributes.js';
import {
  BatchEnvelope,
  DEFAULT_CLAIM_SIZING,
  type Claim,
  type EnvelopeCommand,
  type EnvelopeSettings,
} from '../envelope/batch-envelope.js';
import {
  carriedEnvelope,
  claimActivityOptions,
  claimPermitWaitMs,
  degradedLines,
  degradedStatus,
  failureOf,
  waitForNextEvent,
} from '../envelope/claim-shell.js';

/** Claims per run before continue-as-new even if the server has not suggested it yet. */
export const DEFAULT_PIPELINE_CLAIMS_PER_RUN = 400;
/** Finished identities remembered (status of recent items, cheap duplicate detection). */
export const RECENT_LIMIT = 2_000;
/** Items one S3 listing call may add to the queue. */
const LISTING_PAGE = 1_000;
const DEFAULT_POLL_SECONDS = 30;
/** Items one submission may carry. */
const MAX_SUBMISSION = 5_000;

type Activities = ReturnType<typeof createPipelineActivities>;

const orchestrator = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
});

const payloadOps = {
  split(p: PipelineBatchPayload): [PipelineBatchPayload, PipelineBatchPayload] {
    const mid = Math.ceil(p.items.length / 2);
    return [{ items: p.items.slice(0, mid) }, { items: p.items.slice(mid) }];
  },
};

function envelopeSettings(spec: ParsedPipelineSpec): EnvelopeSettings {
  return { maxInFlightClaims: spec.schedule.maxInFlightBatches, retry: spec.retry, ...DEFAULT_CLAIM_SIZING };
}

export async function pipelineWorkflow(rawInput: PipelineWorkflowInput): Promise<void> {
  // Deprecated: runs recorded while v1 existed carry the marker (ADR 0067).
  deprecatePatch('engine-v2');
  const input = pipelineWorkflowInputSchema.parse(rawInput);
  let spec = input.spec;
  const state = pipelineCarriedStateSchema.parse(input.state ?? {});
  state.runsSoFar += 1;
  const claimsPerRun = input.batchesPerRun ?? DEFAULT_PIPELINE_CLAIMS_PER_RUN;
  const runTag = workflowInfo().runId.slice(0, 8);
  const envelope = new BatchEnvelope<PipelineBatchPayload>(
    payloadOps,
    envelopeSettings(spec),
    runTag,
    state.envelope,
  );

  // Queue: FIFO of items not yet cut into a batch; identities index it. Plain JSON on continue-as-new.
  let pending: QueuedItem[] = state.pending;
  const pendingIds = new Set(pending.map(itemIdentity));
  const recent = new Map<string, 'done' | 'failed'>(state.recent);
  let batchSeq = 0;
  let claimsThisRun = 0;
  let draining = false;
  let phase: PipelinePhase = 'idle';
  let wake = 0;
  const bump = () => {
    wake += 1;
  };
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
  /** Items cut into batches: waiting in the envelope, or out in a claim. */
  const heldItems = (where: 'waiting' | 'out') =>
    (where === 'waiting' ? envelope.state.waiting : envelope.state.claims.flatMap((c) => c.batches)).flatMap(
      (b) => b.payload.items,
    );

  const status = (): PipelineStatus => {
    return {
      name: spec.name,
      k8sNamespace: spec.k8sNamespace,
      generation: spec.generation,
      targetNamespace: spec.targetNamespace,
      phase,
      batchSize: spec.worker.batchSize,
      queue: {
        // A Pipeline batch's `rows` are its items: the envelope keeps these sums.
        pending: pending.length + envelope.waitingRows,
        inFlight: envelope.rowsInFlight,
        done: state.counters.done,
        failed: state.counters.failed,
      },
      inFlightBatches: envelope.batchesInFlight,
      claimsInFlight: envelope.claimsInFlight,
      counters: { ...state.counters },
      ...degradedStatus(envelope),
      deadLetters: state.deadLetters.slice(-20),
      lastListingAt: state.lastListingAt,
      lastError: state.lastError,
      runsSoFar: state.runsSoFar,
      observations: state.observations,
    };
  };

  /** Identities cut into batches (waiting or out): built once per message, not per item. */
  const heldIdentities = () => new Set([...heldItems('waiting'), ...heldItems('out')].map(itemIdentity));
  /** Queues an item unless the same identity is queued, cut, out or just done. */
  const enqueue = (item: QueuedItem, held: ReadonlySet<string>): boolean => {
    const id = itemIdentity(item);
    if (pendingIds.has(id) || held.has(id) || recent.get(id) === 'done') return false;
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
  setHandler(deadLettersQuery, () => [...state.deadLetters]);
  setHandler(itemStatesQuery, (ids) => {
    const out = new Set(heldItems('out').map(itemIdentity));
    const waiting = new Set(heldItems('waiting').map(itemIdentity));
    const result: Record<string, ItemState> = {};
    for (const id of ids)
      result[id] = out.has(id)
        ? 'inFlight'
        : pendingIds.has(id) || waiting.has(id)
          ? 'pending'
          : (recent.get(id) ?? 'unknown');
    return result;
  });
  setHandler(
    submitItemsUpdate,
    (items) => {
      let accepted = 0;
      const held = heldIdentities();
      for (const raw of items) if (enqueue({ ...raw, version: itemVersion(raw) }, held)) accepted += 1;
      state.counters.submitted += accepted;
      state.counters.duplicates += items.length - accepted;
      bump();
      return { accepted, duplicates: items.length - accepted };
    },
    {
      // Bad items and a full queue are refused before they reach history; the caller retries
      // on the typed QueueFull failure.
      validator: (items) => {
        pipelineItemSchema.array().max(MAX_SUBMISSION).parse(items);
        if (pending.length + items.length > spec.schedule.maxPendingItems) {
          throw ApplicationFailure.create({
            type: FailureType.QueueFull,
            message: `queue full: ${pending.length} items pending (maxPendingItems ${spec.schedule.maxPendingItems}); retry later`,
          });
        }
      },
    },
  );
  setHandler(
    updatePipelineSpecUpdate,
    (next) => {
      const parsed = pipelineRuntimeSpecSchema.parse(next);
      if (specFingerprint(parsed) === specFingerprint(spec)) return { generation: spec.generation };
      spec = parsed;
      envelope.settings = envelopeSettings(spec);
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

  // ---- batches and claims -----------------------------------------------------------------
  /** Cuts pending items into batches while the envelope has room: no key twice among what is held. */
  const cutBatches = () => {
    const room = 2 * spec.schedule.maxInFlightBatches * envelope.targetBatchesPerClaim();
    // Nothing to cut: skip building the held keys (this runs on every loop iteration).
    if (pending.length === 0 || envelope.state.waiting.length >= room) return;
    const heldKeys = new Set([...heldItems('waiting'), ...heldItems('out')].map((i) => i.key));
    while (envelope.state.waiting.length < room && pending.length > 0) {
      const items: QueuedItem[] = [];
      const rest: QueuedItem[] = [];
      for (const item of pending) {
        if (items.length < spec.worker.batchSize && !heldKeys.has(item.key)) {
          items.push(item);
          heldKeys.add(item.key);
        } else rest.push(item);
      }
      if (items.length === 0) break;
      pending = rest;
      for (const i of items) pendingIds.delete(itemIdentity(i));
      batchSeq += 1;
      envelope.add([{ batchId: `${runTag}-${batchSeq}`, rows: items.length, payload: { items } }]);
    }
  };

  const startClaim = (claim: Claim<PipelineBatchPayload>, maxAttempts: number): Promise<ClaimReport> => {
    const claimInput: PipelineClaimInput = {
      claimId: claim.claimId,
      pipeline: { k8sNamespace: spec.k8sNamespace, name: spec.name },
      targetNamespace: spec.targetNamespace,
      ...(spec.sourceRef ? { sourceRef: spec.sourceRef } : {}),
      timeoutSeconds: spec.worker.timeoutSeconds,
      source: sourceLabel(spec.sourceRef),
      batches: claim.batches.map((b) => ({ batchId: b.batchId, items: b.payload.items })),
      // A shared rate limit's limiter runs on this workflow's task queue (workers can't know it).
      // Permit waits get their own allowance, added to the claim's timeout (docs/adr/0074).
      ...(spec.worker.rateLimit
        ? {
            rateLimit: {
              ...spec.worker.rateLimit,
              limiterTaskQueue: workflowInfo().taskQueue,
              maxPermitWaitMs: claimPermitWaitMs(spec.schedule.leaseSeconds),
            },
          }
        : {}),
    };
    const items = claim.batches.reduce((n, b) => n + b.rows, 0);
    const options = claimActivityOptions(claim, {
      leaseSeconds: spec.schedule.leaseSeconds,
      ...(spec.worker.rateLimit ? { permitWaitMs: claimPermitWaitMs(spec.schedule.leaseSeconds) } : {}),
      retry: spec.retry,
      maxAttempts,
      what: `${items} items for ns ${spec.targetNamespace} (from ${claim.batches[0]?.payload.items[0]?.key ?? ''})`,
    });
    if (spec.worker.dispatch === 'push')
      return proxyActivities<Activities>(options).runPushPipelineClaim({
        ...claimInput,
        pushUrl: spec.worker.pushUrl,
      });
    const pull = proxyActivities<Record<string, (i: PipelineClaimInput) => Promise<ClaimReport>>>({
      ...options,
      taskQueue: spec.worker.taskQueue ?? pipelineTaskQueue(spec.k8sNamespace, spec.name),
    });
    return pull[RUN_PIPELINE_CLAIM_ACTIVITY]!(claimInput);
  };

  const count = (claim: Claim<PipelineBatchPayload>, outcomes: readonly BatchOutcome[]) => {
    const byId = new Map(claim.batches.map((b) => [b.batchId, b]));
    const c = state.counters;
    for (const o of outcomes) {
      const batch = byId.get(o.batchId);
      if (!batch) continue;
      if (o.status !== 'done') {
        state.lastError = `${o.batchId}: ${o.failure.message}`;
        observeFailure(state.observations, o.failure.type);
        continue;
      }
      c.batches += 1;
      c.done += batch.rows;
      observeBatch(state.observations, o.ms, batch.rows);
      c.alreadyWritten += o.counts?.alreadyWritten ?? 0;
      c.documents += o.counts?.documents ?? 0;
      c.chunksWritten += o.counts?.chunksWritten ?? 0;
      c.chunksKept += o.counts?.chunksKept ?? 0;
      c.chunksDeleted += o.counts?.chunksDeleted ?? 0;
      for (const i of batch.payload.items) remember(itemIdentity(i), 'done');
    }
  };

  const execute = (commands: EnvelopeCommand<PipelineBatchPayload>[]) => {
    for (const command of commands) {
      if (command.kind === 'dispatch') dispatch(command.claim, command.maxAttempts);
      else if (command.kind === 'deadLetter') {
        // A one-item batch that failed for good: the item is given up on, durably recorded.
        for (const item of command.batch.payload.items) {
          state.counters.failed += 1;
          remember(itemIdentity(item), 'failed');
          state.deadLetters.push({
            key: item.key,
            version: item.version,
            type: command.failure.type,
            message: command.failure.message.slice(0, 2000),
            attempts: command.attempts,
            at: new Date(Date.now()).toISOString(),
          });
        }
        state.deadLetters = state.deadLetters.slice(-DEAD_LETTER_LIMIT);
        state.lastError = `${command.batch.batchId}: ${command.failure.message}`;
      } else if (command.kind === 'retry') observeRetry(state.observations, command.failure.type);
      else if (command.kind === 'degraded')
        state.lastError = `${command.degraded.reason}: ${command.degraded.message}`;
    }
  };

  const dispatch = (claim: Claim<PipelineBatchPayload>, maxAttempts: number) => {
    claimsThisRun += 1;
    startClaim(claim, maxAttempts)
      .then((report) => {
        count(claim, report.outcomes);
        if (report.systemic) observeFailure(state.observations, report.systemic.type);
        observeClaimAttempt(state.observations, report.attempt);
        execute(envelope.onClaimReport(report, Date.now()));
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) return;
        const { failure, progress } = failureOf(err);
        const finished = claimProgressFrom(progress, claim.claimId);
        if (finished) count(claim, finished.outcomes);
        observeFailure(state.observations, failure.type);
        state.lastError = `${claim.claimId}: ${failure.message}`;
        execute(envelope.onClaimFailed(claim.claimId, failure, finished, Date.now()));
      })
      .finally(bump);
  };

  // ---- the built-in S3 source -----------------------------------------------------------
  const startListing = () => {
    const source = s3Source();
    if (!source) return;
    listingRunning = true;
    listingRequested = false;
    const maxItems = Math.min(LISTING_PAGE, spec.schedule.maxPendingItems - pending.length);
    orchestrator
      .listS3Changes({
        sourceRef: spec.sourceRef!,
        targetNamespace: spec.targetNamespace,
        startAfter: state.s3Cursor,
        maxItems,
      })
      .then(async (res) => {
        const held = heldIdentities();
        for (const item of res.items) enqueue(item, held);
        state.s3Cursor = res.nextStartAfter;
        if (res.nextStartAfter === null) {
          // End of a pass: objects gone from the bucket lose their chunks.
          const deleted = await orchestrator.findDeletedS3Objects({
            sourceRef: spec.sourceRef!,
            targetNamespace: spec.targetNamespace,
          });
          const heldNow = heldIdentities();
          for (const key of deleted) enqueue({ key, version: 'deleted', deleted: true }, heldNow);
          state.counters.listings += 1;
          state.lastListingAt = new Date(Date.now()).toISOString();
          nextListingAtMs = Date.now() + (source.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
        } else listingRequested = true; // more of this pass once the queue has room
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) return;
        state.lastError = `listing s3://${source.bucket}/${source.prefix}: ${failureOf(err).failure.message}`;
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
    if (!draining && (workflowInfo().continueAsNewSuggested || claimsThisRun >= claimsPerRun))
      draining = true;
    const now = Date.now();
    if (!spec.paused && !draining) {
      cutBatches();
      const room = pending.length < spec.schedule.maxPendingItems / 2;
      if (s3Source() && !listingRunning && room && (listingRequested || now >= nextListingAtMs))
        startListing();
    }
    const commands = envelope.plan(now, { paused: spec.paused, draining });
    const handOver = commands.some((c) => c.kind === 'continueAsNew');
    execute(commands);

    const busy = !envelope.idle || pending.length > 0 || listingRunning;
    setPhase(
      spec.paused
        ? 'paused'
        : draining
          ? 'draining'
          : envelope.degraded
            ? 'degraded'
            : busy
              ? 'running'
              : 'idle',
    );
    setCurrentDetails(currentDetails(status()));

    if (handOver && !listingRunning) {
      await condition(allHandlersFinished);
      const next: PipelineWorkflowInput = {
        spec,
        state: {
          ...state,
          envelope: carriedEnvelope(envelope),
          pending,
          recent: [...recent.entries()],
        },
        batchesPerRun: input.batchesPerRun,
      };
      await continueAsNew<typeof pipelineWorkflow>(next);
    }

    const seen = wake;
    await waitForNextEvent(
      () => wake !== seen,
      [
        s3Source() && !spec.paused && !draining && !listingRunning ? nextListingAtMs : undefined,
        envelope.nextWakeAtMs(now),
      ],
    );
  }
}

function currentDetails(s: PipelineStatus): string {
  const c = s.counters;
  return [
    `**${s.phase}** — ${s.queue.pending} pending, ${s.queue.inFlight} in flight (${s.claimsInFlight ?? 0} claims, ${s.inFlightBatches} batches), ${s.queue.done} done, ${s.queue.failed} failed`,
    '',
    ...degradedLines(s.degraded),
    `- target \`${s.targetNamespace}\`: ${c.documents} documents, ${c.chunksWritten} chunks written, ${c.chunksKept} kept, ${c.chunksDeleted} deleted`,
    `- submitted ${c.submitted} (duplicates ${c.duplicates}), already written ${c.alreadyWritten}; listings ${c.listings}; run ${s.runsSoFar}`,
    ...(s.deadLetters && s.deadLetters.length > 0
      ? [
          `- dead letters: ${s.deadLetters
            .slice(-3)
            .map((d) => `${d.key}@${d.version} (${d.type})`)
            .join(', ')}`,
        ]
      : []),
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
