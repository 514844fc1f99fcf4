// A Pipeline workflow's answer to the status query, its phase and its text in the Temporal UI
// (current details), as pure functions of what the workflow holds. Sandbox-safe.
import type {
  ParsedPipelineSpec,
  PipelineBatchPayload,
  PipelineCarriedState,
  PipelinePhase,
  PipelineStatus,
} from '../contracts/pipeline.js';
import type { EngineSummary } from '../contracts/engine-summary.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import { pipelineQueueDepth } from '../contracts/queue-depth.js';
import { degradedLines, degradedStatus, type EnvelopeView } from './workload-status.js';

/** Dead letters shown in status (the `deadLetters` query has them all). */
export const STATUS_DEAD_LETTERS = 20;
/** Dead letters named in the Temporal UI. */
const DETAILS_DEAD_LETTERS = 3;

export interface PipelineStatusInput {
  spec: ParsedPipelineSpec;
  phase: PipelinePhase;
  state: PipelineCarriedState;
  /** Items queued and not yet cut into a batch. */
  queued: number;
  envelope: EnvelopeView<PipelineBatchPayload>;
}

export function pipelineStatus(i: PipelineStatusInput): PipelineStatus {
  const { spec, state, envelope } = i;
  return {
    name: spec.name,
    k8sNamespace: spec.k8sNamespace,
    generation: spec.generation,
    specFingerprint: specFingerprint(spec),
    targetNamespace: spec.targetNamespace,
    phase: i.phase,
    batchSize: spec.worker.batchSize,
    queue: {
      // A Pipeline batch's `rows` are its items: the envelope keeps these sums.
      pending: i.queued + envelope.waitingRows,
      inFlight: envelope.rowsInFlight,
      done: state.counters.done,
      failed: state.counters.failed,
    },
    inFlightBatches: envelope.batchesInFlight,
    claimsInFlight: envelope.claimsInFlight,
    counters: { ...state.counters },
    ...degradedStatus(envelope),
    deadLetters: state.deadLetters.slice(-STATUS_DEAD_LETTERS),
    lastListingAt: state.lastListingAt,
    lastError: state.lastError,
    runsSoFar: state.runsSoFar,
    observations: state.observations,
  };
}

/** The memo's summary (docs/adr/0127): what the operator and KEDA read without a query. */
export function pipelineSummary(s: PipelineStatus): EngineSummary {
  return {
    specFingerprint: s.specFingerprint ?? '',
    phase: s.phase,
    pendingRows: s.queue.pending,
    queueDepth: pipelineQueueDepth(s),
    ...(s.degraded
      ? { degraded: { reason: s.degraded.reason, message: s.degraded.message, hint: s.degraded.hint } }
      : {}),
  };
}

/** The phase, most telling first: a pause or a hand-over outranks faults. */
export function pipelinePhase(s: {
  paused: boolean;
  draining: boolean;
  degraded: boolean;
  /** Batches waiting or out, items queued, or a listing under way. */
  busy: boolean;
}): PipelinePhase {
  if (s.paused) return 'paused';
  if (s.draining) return 'draining';
  if (s.degraded) return 'degraded';
  return s.busy ? 'running' : 'idle';
}

/** The workflow's current details in the Temporal UI (markdown). */
export function pipelineDetails(s: PipelineStatus): string {
  const c = s.counters;
  return [
    `**${s.phase}** — ${s.queue.pending} pending, ${s.queue.inFlight} in flight (${s.claimsInFlight ?? 0} claims, ${s.inFlightBatches} batches), ${s.queue.done} done, ${s.queue.failed} failed`,
    '',
    ...degradedLines(s.degraded),
    `- target \`${s.targetNamespace}\`: ${c.documents} documents, ${c.chunksWritten} chunks written, ${c.chunksKept} kept, ${c.chunksDeleted} deleted`,
    `- submitted ${c.submitted} (duplicates ${c.duplicates}), already written ${c.alreadyWritten}; failed batches ${c.failedBatches}, retries ${c.retries}; listings ${c.listings}; run ${s.runsSoFar}`,
    ...(s.deadLetters && s.deadLetters.length > 0
      ? [
          `- dead letters: ${s.deadLetters
            .slice(-DETAILS_DEAD_LETTERS)
            .map((d) => `${d.key}@${d.version} (${d.type})`)
            .join(', ')}`,
        ]
      : []),
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
