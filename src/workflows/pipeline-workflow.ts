// One long-running workflow per Pipeline: a durable queue of items (submissions, the built-in S3
// source, items a worker pulled from its own source) cut into batches of worker.batchSize and run
// by the claim-workflow shell (claim-workflow-shell.ts) through the batch envelope — the same
// claims, retries, splitting, dead letters and degraded state as a Function (docs/adr/0011). A
// batch is done only once its documents are written to the target namespace. Items are
// idempotent by `key@version`; two versions of one key are never out at once, so an older version
// can never overwrite a newer one (docs/adr/0030). The queue's rules are pure in
// src/envelope/pipeline-queue.ts; this file parses the input, answers messages and wires.
import {
  ApplicationFailure,
  deprecatePatch,
  patched,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { FailureType } from '../../packages/worker/src/contracts/failures.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import {
  itemIdentity,
  itemStatesQuery,
  itemVersion,
  pipelineItemSchema,
  submitItemsUpdate,
} from '../../packages/worker/src/contracts/pipeline.js';
import {
  deadLettersQuery,
  listSourceNowSignal,
  pipelineCarriedStateSchema,
  pipelineRuntimeSpecSchema,
  pipelineStatusQuery,
  pipelineWorkflowInputSchema,
  setPipelinePausedUpdate,
  updatePipelineSpecUpdate,
  type PipelineBatchPayload,
  type PipelinePhase,
  type PipelineWorkflowInput,
} from '../contracts/pipeline.js';
import { LayerTargetNamespaceKey } from '../contracts/search-attributes.js';
import {
  PipelineQueue,
  heldIdentities,
  heldItems,
  pipelinePayloadOps,
  withDeadLetters,
} from '../envelope/pipeline-queue.js';
import {
  pipelineDetails,
  pipelinePhase,
  pipelineStatus,
  pipelineSummary,
} from '../envelope/pipeline-status.js';
import { ClaimWorkflowShell, ENGINE_SUMMARY_PATCH, ENGINE_V2_PATCH } from './claim-workflow-shell.js';
import {
  S3ListingFeed,
  countPipelineOutcomes,
  pipelineEnvelopeSettings,
  startPipelineClaim,
} from './pipeline-claims.js';

/** Claims per run before continue-as-new even if the server has not suggested it yet. */
export const DEFAULT_PIPELINE_CLAIMS_PER_RUN = 400;
/** Items one submission may carry. */
const MAX_SUBMISSION = 5_000;

export async function pipelineWorkflow(rawInput: PipelineWorkflowInput): Promise<void> {
  // Deprecated: runs recorded while v1 existed carry the marker (ADR 0067).
  deprecatePatch(ENGINE_V2_PATCH);
  const publishSummary = patched(ENGINE_SUMMARY_PATCH);
  const input = pipelineWorkflowInputSchema.parse(rawInput);
  let spec = input.spec;
  const state = pipelineCarriedStateSchema.parse(input.state ?? {});
  state.runsSoFar += 1;
  const shell = new ClaimWorkflowShell<PipelineBatchPayload, PipelinePhase>({
    payloadOps: pipelinePayloadOps,
    settings: pipelineEnvelopeSettings(spec),
    carried: state.envelope,
    state,
    claimsPerRun: input.batchesPerRun ?? DEFAULT_PIPELINE_CLAIMS_PER_RUN,
    initialPhase: 'idle',
    publishSummary,
  });
  const { envelope, bump } = shell;
  // Queue: FIFO of items not yet cut into a batch; identities index it. Plain JSON on continue-as-new.
  const queue = new PipelineQueue(state, shell.runTag);
  const listing = new S3ListingFeed(() => spec, state, queue, shell);
  const status = () =>
    pipelineStatus({ spec, phase: shell.phase, state, queued: queue.pending.length, envelope });

  // ---- messages -------------------------------------------------------------------------
  setHandler(pipelineStatusQuery, status);
  setHandler(deadLettersQuery, () => [...state.deadLetters]);
  setHandler(itemStatesQuery, (ids) =>
    queue.states(
      ids,
      new Set(heldItems(envelope.state, 'out').map(itemIdentity)),
      new Set(heldItems(envelope.state, 'waiting').map(itemIdentity)),
    ),
  );
  setHandler(
    submitItemsUpdate,
    (items) => {
      let accepted = 0;
      const held = heldIdentities(envelope.state);
      for (const raw of items) if (queue.enqueue({ ...raw, version: itemVersion(raw) }, held)) accepted += 1;
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
        const pending = queue.pending.length;
        if (pending + items.length > spec.schedule.maxPendingItems) {
          throw ApplicationFailure.create({
            type: FailureType.QueueFull,
            message: `queue full: ${pending} items pending (maxPendingItems ${spec.schedule.maxPendingItems}); retry later`,
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
      envelope.settings = pipelineEnvelopeSettings(spec);
      listing.requested = true;
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
    if (!paused) listing.requested = true;
    bump();
    return { paused };
  });
  setHandler(listSourceNowSignal, () => {
    listing.requested = true;
    bump();
  });

  // ---- the loop -------------------------------------------------------------------------
  await shell.run<PipelineWorkflowInput>({
    logFields: () => ({ pipeline: `${spec.k8sNamespace}/${spec.name}` }),
    startClaim: (claim, maxAttempts) => startPipelineClaim(spec, claim, maxAttempts),
    count: (claim, outcomes) => countPipelineOutcomes(state, queue, claim, outcomes),
    deadLetter: ({ batch, failure, attempts }) => {
      // A one-item batch that failed for good: the item is given up on, durably recorded.
      for (const item of batch.payload.items) {
        state.counters.failed += 1;
        queue.remember(itemIdentity(item), 'failed');
      }
      const at = new Date(Date.now()).toISOString();
      state.deadLetters = withDeadLetters(state.deadLetters, batch.payload.items, failure, attempts, at);
      state.lastError = `${batch.batchId}: ${failure.message}`;
      return undefined;
    },
    holding: () => spec.paused,
    feed: (now, { holding, draining }) => {
      if (holding || draining) return;
      const room = 2 * spec.schedule.maxInFlightBatches * envelope.targetBatchesPerClaim();
      envelope.add(
        queue.cut({
          waiting: envelope.state.waiting.length,
          room,
          batchSize: spec.worker.batchSize,
          held: () => [...heldItems(envelope.state, 'waiting'), ...heldItems(envelope.state, 'out')],
        }),
      );
      listing.feed(now);
    },
    nextFeedAtMs: (mode) => listing.nextAt(mode),
    quiet: () => !listing.running,
    phase: (draining) =>
      pipelinePhase({
        paused: spec.paused,
        draining,
        degraded: envelope.degraded !== undefined,
        busy: !envelope.idle || queue.pending.length > 0 || listing.running,
      }),
    view: () => {
      const s = status();
      return { details: pipelineDetails(s), summary: pipelineSummary(s) };
    },
    nextInput: (carried) => ({
      spec,
      state: { ...state, envelope: carried, ...queue.carried() },
      batchesPerRun: input.batchesPerRun,
    }),
  });
}
