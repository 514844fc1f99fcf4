// The Function's side of the claim-workflow shell: how its claims start (pull or push), how their
// outcomes count, how rows are dead-lettered, and discovery — passes over the target namespaces,
// scans, pending counts. Payload shapes go through src/envelope/function-payload.ts. Workflow
// code: deterministic, sandbox-safe. Rows never pass through here — only id ranges and ids, and the
// spec by fingerprint (docs/adr/0010, 0100).
// Over 400 lines on purpose: claims, their outcomes, dead letters and discovery read and change
// the same workflow state; split, each file would import the other three.
import {
  isCancellation,
  log,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type {
  BatchOutcome,
  ClaimReport,
  PackedClaimReport,
} from '../../packages/worker/src/contracts/claims.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../packages/worker/src/contracts/failures.js';
import {
  RUN_FUNCTION_CLAIM_ACTIVITY,
  type FunctionClaimInput,
  type FunctionClaimSpec,
  type FunctionOutputSpec,
  type WrittenSpan,
} from '../../packages/worker/src/contracts/function.js';
import {
  type FunctionBatchPayload,
  type FunctionCarriedState,
  type FunctionRuntimeSpec,
  type UnindexedWrites,
} from '../contracts/function.js';
import { functionTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { observeBatch, observeFailure } from '../contracts/observations.js';
import { DEFAULT_CLAIM_SIZING, type Claim, type EnvelopeSettings } from '../envelope/batch-envelope.js';
import { claimActivityOptions, claimPermitWaitMs, failureOf } from '../envelope/claim-shell.js';
import type { ClaimSpecs } from '../envelope/claim-specs.js';
import {
  dropIndexed,
  outputKey,
  recordWritten,
  spanOfBatch,
  spansToSkip,
  startIndexCheck,
  writesRecordFor,
} from '../envelope/unindexed-writes.js';
import {
  FunctionDiscovery,
  MAX_RANGE_DISCOVERY_PAGE,
  RANGE_READ_AHEAD_ROWS,
} from '../envelope/function-discovery.js';
import {
  claimBatches,
  claimInputParts,
  deadLetterIds,
  heldRowKeys,
  namespacesOf,
  rangeBorn,
} from '../envelope/function-payload.js';
import type { ClaimWorkflowShell, DeadLetterCommand, LoopMode } from './claim-workflow-shell.js';

type FunctionActivities = ReturnType<typeof activities.createFunctionActivities>;

// Orchestrator-side calls are single store requests: a short timeout means an orchestrator that
// dies mid-call delays the Function by seconds, not minutes (its attempt is re-run).
const ORCHESTRATOR_CALL: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
};

/** Clearing dead letters pages through patch_by_filter requests: allow it minutes. */
export const REPLAY_CALL: ActivityOptions = { ...ORCHESTRATOR_CALL, startToCloseTimeout: '5 minutes' };

/**
 * An orchestrator-side call with its line in the Temporal UI (the activity summary), e.g.
 * "scan products for work after id 40": a person reads what the Function is doing, not only
 * the activity's type.
 */
export const orchestrator = (summary: string, options: ActivityOptions = ORCHESTRATOR_CALL) =>
  proxyActivities<FunctionActivities>({ ...options, summary });

/** `claimsSizedByTime`: a range claim is bounded by time and batches, not rows (CLAIMS_SIZED_BY_TIME_PATCH). */
export function functionEnvelopeSettings(
  spec: FunctionRuntimeSpec,
  claimsSizedByTime = false,
): EnvelopeSettings {
  return {
    maxInFlightClaims: spec.schedule.maxInFlightBatches,
    retry: spec.retry,
    ...DEFAULT_CLAIM_SIZING,
    rowCap: claimsSizedByTime ? 'listed' : 'rows',
  };
}

/** What the Function workflow holds and its handlers replace; the adapters read it live. */
export interface FunctionRun {
  /** The CR's spec. */
  desired: FunctionRuntimeSpec;
  /** The spec the engine runs: `desired` but for output.version while a canary holds it. */
  spec: FunctionRuntimeSpec;
  readonly state: FunctionCarriedState;
  /** Share of the last reported claim's batch time that went to rate-limit permits. */
  lastClaimWaitShare: number;
  /**
   * Claims carry id ranges and the spec by fingerprint, and come back packed (the range-claims
   * patch, docs/adr/0100); false in runs recorded before it.
   */
  readonly rangeClaims: boolean;
  /** The specs of the claims in flight, for the claimSpec query (range claims only). */
  readonly claimSpecs: ClaimSpecs;
  /**
   * A pass that finds no work leaves no trace beyond its scan, one count and one timer: no phase
   * flip to running and back, no second count (the quiet-idle-pass patch; false in runs recorded
   * before it). 10,000 idle Functions otherwise cost ~8 actions per pass (docs/scale.md).
   */
  readonly quietIdlePasses: boolean;
  /**
   * Rows written are recorded until the store shows them, and discovery and the pending count
   * leave them out (the unindexed-writes patch, docs/adr/0110; false in runs recorded before it).
   */
  readonly recordsWrites: boolean;
  /**
   * Bumped when what is work changes (filter, version, namespaces: FunctionDiscoveryFeed.forget):
   * a range written under another definition covers rows it did not write, so the record starts
   * afresh and claims dispatched before record nothing.
   */
  workEpoch: number;
  /** The workEpoch each claim in flight was dispatched at. */
  readonly claimWorkEpochs: Map<string, number>;
}

/** The record of rows written that the store may not show yet, for the output the engine runs. */
function writesRecord(run: FunctionRun): UnindexedWrites {
  const record = writesRecordFor(run.state.unindexedWrites, run.spec.output, run.spec.targetNamespaces);
  run.state.unindexedWrites = record;
  return record;
}

/** A claim's finished batches join the record of writes the store may not show yet (docs/adr/0110). */
export function recordFinishedBatches(
  run: FunctionRun,
  claim: Claim<FunctionBatchPayload>,
  outcomes: readonly BatchOutcome[],
): void {
  if (!run.recordsWrites || run.claimWorkEpochs.get(claim.claimId) !== run.workEpoch) return;
  const record = writesRecord(run);
  const batches = new Map(claim.batches.map((b) => [b.batchId, b]));
  for (const o of outcomes) {
    const batch = o.status === 'done' ? batches.get(o.batchId) : undefined;
    const span = batch && spanOfBatch(batch.payload);
    if (span) recordWritten(record, batch.payload.namespace, span);
  }
}

/** Range cuts from discovery: current runs, but for input fingerprints (work decided per row). */
function discoversRanges(run: FunctionRun): boolean {
  return run.rangeClaims && !run.spec.output.inputFingerprint;
}

/**
 * A Function claim's activity (`output` differs for the canary's side attribute). Not async: see
 * ClaimWorkflowKind. A range claim's spec is held in `run.claimSpecs` until `claimEnded`.
 */
export function startFunctionClaim(
  run: FunctionRun,
  claim: Claim<FunctionBatchPayload>,
  maxAttempts: number,
  output: FunctionOutputSpec = run.spec.output,
): Promise<ClaimReport | PackedClaimReport> {
  const { spec } = run;
  const permitWaitMs = claimPermitWaitMs(spec.schedule.leaseSeconds);
  const claimSpec: FunctionClaimSpec = {
    k8sNamespace: spec.k8sNamespace,
    name: spec.name,
    inputs: spec.inputs,
    output,
    filter: spec.filter,
    // A shared rate limit's limiter runs on this workflow's task queue (workers can't know it).
    worker: spec.worker.rateLimit
      ? {
          ...spec.worker,
          rateLimit: {
            ...spec.worker.rateLimit,
            limiterTaskQueue: workflowInfo().taskQueue,
            maxPermitWaitMs: permitWaitMs,
          },
        }
      : spec.worker,
  };
  const claimInput: FunctionClaimInput = run.rangeClaims
    ? {
        claimId: claim.claimId,
        // The worker asks this workflow for the spec once per fingerprint (docs/adr/0100).
        specFingerprint: run.claimSpecs.hold(claim.claimId, claimSpec),
        parts: claimInputParts(claim.batches),
        packedReport: true,
      }
    : { claimId: claim.claimId, spec: claimSpec, batches: claimBatches(claim.batches) };
  const options = claimActivityOptions(claim, {
    leaseSeconds: spec.schedule.leaseSeconds,
    ...(spec.worker.rateLimit ? { permitWaitMs } : {}),
    retry: spec.retry,
    maxAttempts,
    what: `${claim.batches.reduce((n, b) => n + b.rows, 0)} rows from ns ${namespacesOf(claim.batches).join(', ')}`,
  });
  if (spec.worker.dispatch === 'push')
    return proxyActivities<FunctionActivities>(options).runPushClaim(claimInput);
  const pull = proxyActivities<
    Record<string, (i: FunctionClaimInput) => Promise<ClaimReport | PackedClaimReport>>
  >({
    ...options,
    taskQueue: spec.worker.taskQueue ?? functionTaskQueue(spec.k8sNamespace, spec.name),
  });
  return pull[RUN_FUNCTION_CLAIM_ACTIVITY]!(claimInput);
}

/** Counts finished batches: rows written, superseded, rate-limit waits, failures by type. */
export function countFunctionOutcomes(run: FunctionRun, outcomes: readonly BatchOutcome[]): void {
  const { state } = run;
  let waitedMs = 0;
  let batchMs = 0;
  for (const o of outcomes) {
    waitedMs += (o.status === 'done' ? o.counts?.rateLimitWaitMs : 0) ?? 0;
    batchMs += o.ms;
  }
  if (run.spec.worker.rateLimit) {
    state.counters.rateLimitWaitMs = (state.counters.rateLimitWaitMs ?? 0) + waitedMs;
    if (batchMs > 0) run.lastClaimWaitShare = Math.min(1, waitedMs / batchMs);
  }
  for (const o of outcomes) {
    if (o.status === 'done') {
      const c = o.counts ?? {};
      state.counters.batches += 1;
      state.counters.processed += c.written ?? 0;
      state.counters.superseded += c.superseded ?? 0;
      observeBatch(state.observations, o.ms, (c.written ?? 0) + (c.skipped ?? 0) + (c.superseded ?? 0));
    } else {
      state.lastError = `${o.batchId}: ${o.failure.message}`;
      observeFailure(state.observations, o.failure.type);
    }
  }
}

/** Marks rows dead-lettered in the store: the side task the shell waits for. */
export function deadLetterFunctionRows(
  run: FunctionRun,
  command: DeadLetterCommand<FunctionBatchPayload>,
): Promise<unknown> {
  const { spec, state } = run;
  const { batch, failure, attempts } = command;
  const ids = deadLetterIds(batch.payload, command.rowIds);
  const ns = batch.payload.namespace;
  const output = outputKey(spec.output);
  return orchestrator(
    `dead-letter ${ids.length} ${ids.length === 1 ? 'row' : 'rows'} in ns ${ns} (${failure.type} after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})`,
  )
    .deadLetterRows({
      namespace: ns,
      ids,
      output: spec.output,
      message: failure.message,
      attempts,
      type: failure.type,
    })
    .then((marked) => {
      log.warn('rows dead-lettered', {
        function: `${spec.k8sNamespace}/${spec.name}`,
        batchId: batch.batchId,
        namespace: ns,
        rows: marked,
        failureType: failure.type,
        message: failure.message,
      });
      state.counters.deadLettered += marked;
      state.lastError = `${batch.batchId} (${ns}): ${failure.message}`;
      // Marked rows leave discovery once the store shows the mark; until then the record does.
      if (run.recordsWrites && output === outputKey(run.spec.output)) {
        const record = writesRecord(run);
        for (const id of ids) recordWritten(record, ns, { from: id, last: id });
      }
    })
    .catch((err: unknown) => {
      if (!isCancellation(err))
        state.lastError = `dead-lettering ${batch.batchId}: ${failureOf(err).failure.message}`;
    });
}

/** Discovery passes over the target namespaces: scans, read-ahead, pending counts. */
export class FunctionDiscoveryFeed {
  readonly discovery: FunctionDiscovery;
  private nextPassAtMs = Date.now();
  /** The pass under way has found rows to do (a pass that found none ends without a second count). */
  private passFoundWork = false;
  /** Counts run as side tasks and may end out of order: only a later one replaces pendingRows. */
  private countsStarted = 0;
  private countShown = 0;

  constructor(
    private readonly run: FunctionRun,
    private readonly shell: ClaimWorkflowShell<FunctionBatchPayload, string>,
  ) {
    this.discovery = new FunctionDiscovery(shell.runTag);
  }

  /** Starts a pass when one is due or requested, tops up the read-ahead, ends an exhausted pass. */
  feed(now: number): void {
    const { spec, state } = this.run;
    const { discovery } = this;
    if (
      !discovery.passActive &&
      (state.discoveryRequested || now >= this.nextPassAtMs) &&
      // Ranges cannot exclude held rows: a pass starts when no range-born work is held (after a
      // reset or a hand-over, the claims and batches of before end first; docs/adr/0100).
      !(this.run.rangeClaims && this.shell.envelope.heldPayloads().some(rangeBorn))
    ) {
      discovery.startPass(spec.targetNamespaces);
      state.discoveryRequested = false;
      state.counters.discoveries += 1;
      state.lastDiscoveryAt = new Date(now).toISOString();
      if (this.shell.envelope.claimsInFlight === 0) state.rateWindow = undefined;
      this.passFoundWork = false;
      this.refreshPendingCounts();
    }
    this.startScans();
    if (discovery.passActive && discovery.exhausted && this.shell.envelope.idle) {
      discovery.reset();
      this.nextPassAtMs = now + spec.schedule.discoveryIntervalSeconds * 1000;
      // The count at the pass's start stands when the pass found nothing to do.
      if (!this.run.quietIdlePasses || this.passFoundWork) this.refreshPendingCounts();
    }
  }

  /** Filter, version or namespaces changed: what was discovered may no longer be work. */
  forget(): void {
    this.shell.envelope.clearWaiting();
    this.discovery.reset();
    this.run.state.discoveryRequested = true;
    if (this.run.recordsWrites) {
      // A span holds the rows the old definition chose; the rest of it may be work now.
      this.run.workEpoch += 1;
      delete this.run.state.unindexedWrites;
    }
  }

  /** Work found or under way: the phase reads running (a pass that finds nothing stays idle). */
  busy(): boolean {
    const { envelope } = this.shell;
    if (!this.run.quietIdlePasses) return envelope.claimsInFlight > 0 || this.discovery.passActive;
    return envelope.claimsInFlight > 0 || (this.discovery.passActive && this.passFoundWork);
  }

  nextPassAt(mode: LoopMode): number | undefined {
    return !this.discovery.passActive && !mode.holding && !mode.draining ? this.nextPassAtMs : undefined;
  }

  private refreshPendingCounts(): void {
    const { spec, state } = this.run;
    const seq = (this.countsStarted += 1);
    // Rows written that the store may not show yet are not pending; the count also checks
    // whether the store has indexed them meanwhile (docs/adr/0110).
    const record = this.run.recordsWrites ? writesRecord(this.run) : undefined;
    const skip: Record<string, WrittenSpan[]> = {};
    for (const ns of spec.targetNamespaces) {
      const spans = spansToSkip(record, ns);
      if (spans.length > 0) skip[ns] = spans;
    }
    const checking = record && Object.keys(skip).length > 0 ? startIndexCheck(record) : undefined;
    this.shell.sideTask(
      orchestrator(`count pending rows in ns ${spec.targetNamespaces.join(', ')}`)
        .countPendingRows({
          namespaces: spec.targetNamespaces,
          output: spec.output,
          filter: spec.filter,
          ...(checking !== undefined ? { skip } : {}),
        })
        .then((answer) => {
          const { counts, indexed } = 'counts' in answer ? answer : { counts: answer, indexed: {} };
          if (record && checking !== undefined)
            for (const [ns, done] of Object.entries(indexed)) if (done) dropIndexed(record, ns, checking);
          if (seq < this.countShown) return;
          this.countShown = seq;
          state.pendingRows = counts as Record<string, number>;
        })
        .catch((err: unknown) => {
          state.lastError = `counting pending rows: ${failureOf(err).failure.message}`;
        }),
    );
  }

  private startScans(): void {
    const { spec, state } = this.run;
    const { envelope } = this.shell;
    const rowsPerClaim = envelope.targetBatchesPerClaim() * spec.worker.batchSize;
    // Range cuts (docs/adr/0100); a Function with input fingerprints decides per row: ids.
    const ranges = discoversRanges(this.run);
    // One window out and one waiting, so a finished claim is replaced without a scan.
    const readAheadRows =
      2 * spec.schedule.maxInFlightBatches * Math.min(rowsPerClaim, DEFAULT_CLAIM_SIZING.maxRowsPerClaim);
    const scans = this.discovery.scansToStart({
      heldRows: envelope.waitingRows + envelope.rowsInFlight,
      // What waits is one range per batch: read far ahead, so scans are few per row.
      readAheadRows: ranges ? Math.max(readAheadRows, RANGE_READ_AHEAD_ROWS) : readAheadRows,
      maxConcurrentScans: spec.schedule.maxConcurrentScans,
      ...(ranges ? { maxPage: MAX_RANGE_DISCOVERY_PAGE } : {}),
    });
    const passCursors = this.discovery.cursors;
    const record = this.run.recordsWrites ? writesRecord(this.run) : undefined;
    for (const scan of scans) {
      // Rows written that the store may not show yet are not found again (docs/adr/0110).
      const skip = spansToSkip(record, scan.namespace);
      orchestrator(
        `scan ns ${scan.namespace} for rows to do${scan.afterId !== null ? ` after id ${String(scan.afterId)}` : ''} (up to ${scan.limit})`,
      )
        .discoverRows({
          namespace: scan.namespace,
          output: spec.output,
          filter: spec.filter,
          afterId: scan.afterId,
          limit: scan.limit,
          inputs: spec.inputs,
          ...(ranges ? { batchSize: spec.worker.batchSize } : {}),
          ...(skip.length > 0 ? { skip } : {}),
        })
        .then((page) => {
          const held = heldRowKeys(envelope.heldPayloads());
          const found = this.discovery.onPage(
            scan.namespace,
            passCursors,
            page,
            held,
            this.run.spec.worker.batchSize,
          );
          if (found.length > 0) this.passFoundWork = true;
          envelope.add(found);
        })
        .catch((err: unknown) => {
          this.discovery.onScanFailed(scan.namespace, passCursors);
          state.lastError = `discovery in ${scan.namespace}: ${failureOf(err).failure.message}`;
        })
        .finally(this.shell.bump);
    }
  }
}
