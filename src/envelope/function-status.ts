// A Function workflow's answer to the status query, its phase and its text in the Temporal UI
// (current details), as pure functions of what the workflow holds. The workflow calls them on
// every loop and query; unit tables test them without a server. Sandbox-safe.
import { FailureType } from '../../packages/worker/src/contracts/failures.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import type {
  FunctionBatchPayload,
  FunctionCarriedState,
  FunctionPhase,
  FunctionRuntimeSpec,
  FunctionStatus,
  RolloutState,
} from '../contracts/function.js';
import type { EngineSummary } from '../contracts/engine-summary.js';
import { functionStatusDepth } from '../contracts/queue-depth.js';
import { namespacesOf } from './function-payload.js';
import { writesRecordSize } from './unindexed-writes.js';
import { degradedLines, degradedStatus, type EnvelopeView } from './workload-status.js';

/** Claims listed one by one in status (the counts cover the rest). */
const STATUS_IN_FLIGHT_CLAIMS = 50;

export interface FunctionStatusInput {
  /** The CR's spec: its fingerprint is what the operator compares. */
  desired: FunctionRuntimeSpec;
  /** The spec the engine runs (the old output.version while a canary holds it). */
  spec: FunctionRuntimeSpec;
  phase: FunctionPhase;
  state: FunctionCarriedState;
  envelope: EnvelopeView<FunctionBatchPayload>;
  /** Share of the last reported claim's batch time that went to rate-limit permits (0..1). */
  lastClaimWaitShare: number;
  /** Workflow time. */
  nowMs: number;
}

export function functionStatus(i: FunctionStatusInput): FunctionStatus {
  const { spec, state, envelope } = i;
  const byNs: Record<string, number> = {};
  for (const ns of spec.targetNamespaces) byNs[ns] = state.pendingRows[ns] ?? 0;
  const elapsedMs = state.rateWindow ? i.nowMs - state.rateWindow.startedAtMs : 0;
  const done = state.rateWindow ? state.counters.processed - state.rateWindow.processedAtStart : 0;
  const recorded = writesRecordSize(state.unindexedWrites);
  return {
    name: spec.name,
    k8sNamespace: spec.k8sNamespace,
    generation: spec.generation,
    specFingerprint: specFingerprint(i.desired),
    phase: i.phase,
    outputVersion: spec.output.version,
    outputAttribute: spec.output.attribute,
    targetNamespaces: spec.targetNamespaces,
    pendingRows: Object.values(byNs).reduce((a, b) => a + b, 0),
    pendingRowsByNamespace: byNs,
    inFlightBatches: envelope.batchesInFlight,
    inFlightRows: envelope.rowsInFlight,
    claimsInFlight: envelope.claimsInFlight,
    inFlight: envelope.state.claims.slice(0, STATUS_IN_FLIGHT_CLAIMS).map((c) => ({
      batchId: c.claimId,
      namespace: namespacesOf(c.batches).join(','),
      rows: c.batches.reduce((n, b) => n + b.rows, 0),
      since: new Date(c.sinceMs).toISOString(),
    })),
    ...degradedStatus(envelope),
    counters: { ...state.counters },
    lastDiscoveryAt: state.lastDiscoveryAt,
    lastError: state.lastError,
    rowsPerSecond: elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000 * 10) / 10 : 0,
    runsSoFar: state.runsSoFar,
    ...(spec.worker.rateLimit
      ? {
          rateLimit: {
            key: spec.worker.rateLimit.key,
            lastClaimWaitShare: Math.round(i.lastClaimWaitShare * 100) / 100,
            // Waiting: permits took most of the last claim, or none is due within a claim's
            // wait allowance (dispatch resumes when it is: degraded RateLimitWait).
            waiting: i.lastClaimWaitShare >= 0.5 || envelope.degraded?.reason === FailureType.RateLimitWait,
            waitedSeconds: Math.round((state.counters.rateLimitWaitMs ?? 0) / 100) / 10,
          },
        }
      : {}),
    ...(state.rollout ? { rollout: state.rollout } : {}),
    observations: state.observations,
    ...(recorded.spans > 0 ? { unindexedWrites: recorded } : {}),
  };
}

/** The memo's summary (docs/adr/0127): what the operator and KEDA read without a query. */
export function functionSummary(s: FunctionStatus, batchSize: number): EngineSummary {
  return {
    specFingerprint: s.specFingerprint ?? '',
    phase: s.phase,
    pendingRows: s.pendingRows,
    queueDepth: functionStatusDepth(s, batchSize),
    ...(s.degraded
      ? { degraded: { reason: s.degraded.reason, message: s.degraded.message, hint: s.degraded.hint } }
      : {}),
  };
}

/** The phase, most telling first: a pause or a hand-over outranks a rollout, which outranks faults. */
export function functionPhase(s: {
  paused: boolean;
  draining: boolean;
  rollout: RolloutState | undefined;
  degraded: boolean;
  /** Claims out or a discovery pass under way. */
  busy: boolean;
}): FunctionPhase {
  if (s.paused) return 'paused';
  if (s.draining) return 'draining';
  if (s.rollout?.stage === 'canary') return 'canary';
  if (s.rollout?.stage === 'awaitingPromotion') return 'awaitingPromotion';
  if (s.degraded) return 'degraded';
  return s.busy ? 'running' : 'idle';
}

/** The rollout's lines in the Temporal UI: what runs, and the command a person types next. */
export function rolloutLines(s: Pick<FunctionStatus, 'name' | 'rollout'>): string[] {
  const r = s.rollout;
  if (!r) return [];
  const head =
    r.stage === 'aborted'
      ? `- rollout of \`${r.toVersion}\` **aborted**: running \`${r.fromVersion}\` (change output.version to roll out again)`
      : r.stage === 'canary'
        ? `- canary of \`${r.toVersion}\` on ${r.canaryRows} sampled rows (rows keep \`${r.fromVersion}\`)`
        : `- canary of \`${r.toVersion}\` done: ${r.written} of ${r.sampled} sampled rows written, ${r.failed} failed — **\`layer function promote ${s.name}\`** to continue or **\`layer function abort ${s.name}\`** to go back to \`${r.fromVersion}\``;
  const rows = r.comparison.map(
    (c) => `  - ${c.namespace}/${String(c.id)}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`,
  );
  return [head, ...rows, ...(r.error ? [`  - canary error: ${r.error}`] : [])];
}

/** The workflow's current details in the Temporal UI (markdown). */
export function functionDetails(s: FunctionStatus): string {
  const c = s.counters;
  return [
    // Pending is the store's count at the last discovery pass, so it can trail the rows written.
    `**${s.phase}** — ${c.processed} rows written, ${s.pendingRows} pending at the last count; on workers now: ${s.inFlightRows} rows in ${s.inFlightBatches} batches (${s.claimsInFlight} claims)`,
    '',
    ...degradedLines(s.degraded),
    ...rolloutLines(s),
    `- rate: ${s.rowsPerSecond} rows/s; batches ${c.batches}, failed batches ${c.failedBatches}, dead-lettered rows ${c.deadLettered}, superseded ${c.superseded}`,
    `- last discovery: ${s.lastDiscoveryAt ?? 'never'} (${c.discoveries} ${c.discoveries === 1 ? 'pass' : 'passes'}); run ${s.runsSoFar} of this workflow`,
    ...(s.rateLimit
      ? [
          `- shared rate limit \`${s.rateLimit.key}\`: ${s.rateLimit.waiting ? '**waiting on the shared budget** — ' : ''}${Math.round(s.rateLimit.lastClaimWaitShare * 100)}% of the last claim's time went to permits; ${s.rateLimit.waitedSeconds} s in all`,
        ]
      : []),
    ...(s.unindexedWrites
      ? [
          `- written, not yet shown by the store: ${s.unindexedWrites.spans} id ${s.unindexedWrites.spans === 1 ? 'span' : 'spans'} recorded (${s.unindexedWrites.bytes} bytes); discovery and the pending count leave them out`,
        ]
      : []),
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
