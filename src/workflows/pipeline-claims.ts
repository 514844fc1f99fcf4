// The Pipeline's side of the claim-workflow shell: how its claims start (pull or push), how their
// outcomes count, and the built-in S3 source's listing that feeds the queue. The queue's rules
// are pure in src/envelope/pipeline-queue.ts. Workflow code: deterministic, sandbox-safe.
import { isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createPipelineActivities } from '../activities/pipeline-activities.js';
import type { BatchOutcome, ClaimReport } from '../../packages/worker/src/contracts/claims.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../packages/worker/src/contracts/failures.js';
import { pipelineTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { observeBatch, observeFailure } from '../contracts/observations.js';
import {
  RUN_PIPELINE_CLAIM_ACTIVITY,
  itemIdentity,
  type PipelineClaimInput,
} from '../../packages/worker/src/contracts/pipeline.js';
import {
  s3SourceRefSchema,
  sourceLabel,
  type ParsedPipelineSpec,
  type PipelineBatchPayload,
  type PipelineCarriedState,
} from '../contracts/pipeline.js';
import { DEFAULT_CLAIM_SIZING, type Claim, type EnvelopeSettings } from '../envelope/batch-envelope.js';
import { claimActivityOptions, claimPermitWaitMs, failureOf } from '../envelope/claim-shell.js';
import { heldIdentities, type PipelineQueue } from '../envelope/pipeline-queue.js';
import type { ClaimWorkflowShell } from './claim-workflow-shell.js';

type Activities = ReturnType<typeof createPipelineActivities>;

/** Items one S3 listing call may add to the queue. */
const LISTING_PAGE = 1_000;
const DEFAULT_POLL_SECONDS = 30;

const orchestrator = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
});

export function pipelineEnvelopeSettings(spec: ParsedPipelineSpec): EnvelopeSettings {
  return { maxInFlightClaims: spec.schedule.maxInFlightBatches, retry: spec.retry, ...DEFAULT_CLAIM_SIZING };
}

/** A Pipeline claim's activity. Not async: see ClaimWorkflowKind.startClaim. */
export function startPipelineClaim(
  spec: ParsedPipelineSpec,
  claim: Claim<PipelineBatchPayload>,
  maxAttempts: number,
): Promise<ClaimReport> {
  // Permits are waited for outside the lease, up to one lease in all (docs/adr/0074).
  const permitWaitMs = claimPermitWaitMs(spec.schedule.leaseSeconds);
  const claimInput: PipelineClaimInput = {
    claimId: claim.claimId,
    pipeline: { k8sNamespace: spec.k8sNamespace, name: spec.name },
    targetNamespace: spec.targetNamespace,
    ...(spec.sourceRef ? { sourceRef: spec.sourceRef } : {}),
    timeoutSeconds: spec.worker.timeoutSeconds,
    source: sourceLabel(spec.sourceRef),
    batches: claim.batches.map((b) => ({ batchId: b.batchId, items: b.payload.items })),
    // A shared rate limit's limiter runs on this workflow's task queue (workers can't know it).
    ...(spec.worker.rateLimit
      ? {
          rateLimit: {
            ...spec.worker.rateLimit,
            limiterTaskQueue: workflowInfo().taskQueue,
            maxPermitWaitMs: permitWaitMs,
          },
        }
      : {}),
  };
  const items = claim.batches.reduce((n, b) => n + b.rows, 0);
  const options = claimActivityOptions(claim, {
    leaseSeconds: spec.schedule.leaseSeconds,
    ...(spec.worker.rateLimit ? { permitWaitMs } : {}),
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
}

/** Counts a claim's finished batches: items done, documents and chunks, failures by type. */
export function countPipelineOutcomes(
  state: PipelineCarriedState,
  queue: PipelineQueue,
  claim: Claim<PipelineBatchPayload>,
  outcomes: readonly BatchOutcome[],
): void {
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
    for (const i of batch.payload.items) queue.remember(itemIdentity(i), 'done');
  }
}

/** The built-in S3 source: pages of changed objects into the queue, then deleted ones. */
export class S3ListingFeed {
  running = false;
  requested = true;
  private nextAtMs = Date.now();

  constructor(
    private readonly current: () => ParsedPipelineSpec,
    private readonly state: PipelineCarriedState,
    private readonly queue: PipelineQueue,
    private readonly shell: ClaimWorkflowShell<PipelineBatchPayload, string>,
  ) {}

  /** The spec's S3 source, if it has one. */
  source() {
    const parsed = s3SourceRefSchema.safeParse(this.current().sourceRef ?? {});
    return parsed.success ? parsed.data : undefined;
  }

  /** Lists now if due or requested and the queue has room for a page. */
  feed(now: number): void {
    const spec = this.current();
    const room = this.queue.pending.length < spec.schedule.maxPendingItems / 2;
    if (this.source() && !this.running && room && (this.requested || now >= this.nextAtMs)) this.start();
  }

  nextAt(mode: { draining: boolean }): number | undefined {
    return this.source() && !this.current().paused && !mode.draining && !this.running
      ? this.nextAtMs
      : undefined;
  }

  private start(): void {
    const source = this.source();
    if (!source) return;
    const { state, queue, shell } = this;
    const spec = this.current();
    this.running = true;
    this.requested = false;
    const maxItems = Math.min(LISTING_PAGE, spec.schedule.maxPendingItems - queue.pending.length);
    const pollMs = (source.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
    orchestrator
      .listS3Changes({
        sourceRef: spec.sourceRef!,
        targetNamespace: spec.targetNamespace,
        startAfter: state.s3Cursor,
        maxItems,
      })
      .then(async (res) => {
        const held = heldIdentities(shell.envelope.state);
        for (const item of res.items) queue.enqueue(item, held);
        state.s3Cursor = res.nextStartAfter;
        if (res.nextStartAfter === null) {
          // End of a pass: objects gone from the bucket lose their chunks.
          const now = this.current();
          const deleted = await orchestrator.findDeletedS3Objects({
            sourceRef: now.sourceRef!,
            targetNamespace: now.targetNamespace,
          });
          const heldNow = heldIdentities(shell.envelope.state);
          for (const key of deleted) queue.enqueue({ key, version: 'deleted', deleted: true }, heldNow);
          state.counters.listings += 1;
          state.lastListingAt = new Date(Date.now()).toISOString();
          this.nextAtMs = Date.now() + pollMs;
        } else this.requested = true; // more of this pass once the queue has room
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) return;
        state.lastError = `listing s3://${source.bucket}/${source.prefix}: ${failureOf(err).failure.message}`;
        this.nextAtMs = Date.now() + pollMs;
      })
      .finally(() => {
        this.running = false;
        shell.bump();
      });
  }
}
