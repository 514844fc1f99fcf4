// One long-running workflow per Function. A thin shell: the scheduling rules live in the batch
// envelope (src/envelope/batch-envelope.ts) and discovery in FunctionDiscovery, both pure and
// table-tested; this file wires messages, runs the commands they return as activities, and feeds
// the results back. Rows never pass through it — only ids (docs/adr/0010, docs/adr/0011).
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  deprecatePatch,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import {
  claimProgressFrom,
  unpackClaimReport,
  type BatchOutcome,
  type ClaimReport,
  type PackedClaimReport,
} from '../contracts/claims.js';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../contracts/failures.js';
import {
  RUN_FUNCTION_CLAIM_ACTIVITY,
  abortRolloutUpdate,
  claimParts,
  claimSpecFingerprint,
  claimSpecQuery,
  isRangePayload,
  discoverNowSignal,
  promoteRolloutUpdate,
  functionCarriedStateSchema,
  functionRuntimeSpecSchema,
  functionWorkflowInputSchema,
  replayDeadLettersUpdate,
  setPausedUpdate,
  statusQuery,
  updateSpecUpdate,
  type FunctionBatchPayload,
  type FunctionClaimInput,
  type FunctionClaimSpec,
  type FunctionPhase,
  type FunctionRuntimeSpec,
  type FunctionStatus,
  type FunctionWorkflowInput,
} from '../contracts/function.js';
import { functionTaskQueue } from '../contracts/names.js';
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
  type EnvelopeBatch,
  type EnvelopeCommand,
  type EnvelopeSettings,
} from '../envelope/batch-envelope.js';
import {
  FunctionDiscovery,
  MAX_RANGE_DISCOVERY_PAGE,
  RANGE_READ_AHEAD_ROWS,
  functionPayloadOps,
  idKey,
  rangeBorn,
} from '../envelope/function-discovery.js';
import {
  carriedEnvelope,
  claimActivityOptions,
  claimPermitWaitMs,
  degradedLines,
  degradedStatus,
  failureOf,
  waitForNextEvent,
} from '../envelope/claim-shell.js';
import {
  COMPARISON_ROWS,
  abortRefusal,
  aborted,
  canaryOutput,
  effectiveSpec,
  promoteRefusal,
  promoted,
  rolloutHolds,
  rolloutOnSpecChange,
  type RolloutChange,
  type RolloutState,
} from '../envelope/rollout.js';

/** Claims per run before continue-as-new even if the server has not suggested it yet. */
export const DEFAULT_CLAIMS_PER_RUN = 500;
/** The patch that once chose between the v1 and v2 engines; deprecated (ADR 0067). */
export const ENGINE_V2_PATCH = 'engine-v2';
/**
 * Runs started with it send claims as id ranges with the spec by fingerprint and packed results
 * (docs/adr/0100); runs recorded before it keep id lists and inline specs until they continue-as-new.
 */
export const RANGE_CLAIMS_PATCH = 'range-claims';

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

/**
 * An orchestrator-side call with its line in the Temporal UI (the activity summary), e.g.
 * "scan products for work after id 40": a person reads what the Function is doing, not only
 * the activity's type.
 */
const orchestrator = (summary: string, options: ActivityOptions = ORCHESTRATOR_CALL) =>
  proxyActivities<FunctionActivities>({ ...options, summary });

/** Clearing dead letters pages through patch_by_filter requests: allow it minutes. */
const REPLAY_CALL: ActivityOptions = { ...ORCHESTRATOR_CALL, startToCloseTimeout: '5 minutes' };

function envelopeSettings(spec: FunctionRuntimeSpec): EnvelopeSettings {
  return {
    maxInFlightClaims: spec.schedule.maxInFlightBatches,
    retry: spec.retry,
    ...DEFAULT_CLAIM_SIZING,
  };
}

export async function functionWorkflow(rawInput: FunctionWorkflowInput): Promise<void> {
  // Runs recorded while v1 still existed carry this marker; deprecated, they replay without the
  // v1 code. Removed in the release after next (ADR 0067).
  deprecatePatch(ENGINE_V2_PATCH);
  const rangeClaims = patched(RANGE_CLAIMS_PATCH);
  // Parse, don't trust: after continue-as-new the input is JSON from the previous run.
  const input = functionWorkflowInputSchema.parse(rawInput);
  const state = functionCarriedStateSchema.parse(input.state ?? {});
  // `desired` is the CR's spec; `spec` the one the engine runs — the same but for output.version
  // while a canary rollout holds the old version (src/envelope/rollout.ts).
  let desired = input.spec;
  let spec = effectiveSpec(desired, state.rollout);
  state.runsSoFar += 1;
  const claimsPerRun = input.batchesPerRun ?? DEFAULT_CLAIMS_PER_RUN;
  const runTag = workflowInfo().runId.slice(0, 8);

  const envelope = new BatchEnvelope<FunctionBatchPayload>(
    functionPayloadOps,
    envelopeSettings(spec),
    runTag,
    state.envelope,
  );
  const discovery = new FunctionDiscovery(runTag);
  let nextPassAtMs = Date.now();
  let claimsThisRun = 0;
  let countsRunning = 0;
  let deadLettersRunning = 0;
  let canaryRunning = false;
  /** The running canary's scope: an abort or a new version cancels its claim. */
  let canaryScope: CancellationScope | undefined;
  let cleanupsRunning = 0;
  let draining = false;
  let phase: FunctionPhase = 'idle';
  let wake = 0;
  /** Share of the last reported claim's batch time that went to rate-limit permits. */
  let lastClaimWaitShare = 0;
  const bump = () => {
    wake += 1;
  };

  const status = (): FunctionStatus => {
    const byNs: Record<string, number> = {};
    for (const ns of spec.targetNamespaces) byNs[ns] = state.pendingRows[ns] ?? 0;
    const elapsedMs = state.rateWindow ? Date.now() - state.rateWindow.startedAtMs : 0;
    const done = state.rateWindow ? state.counters.processed - state.rateWindow.processedAtStart : 0;
    const claims = envelope.state.claims;
    return {
      name: spec.name,
      k8sNamespace: spec.k8sNamespace,
      generation: spec.generation,
      specFingerprint: specFingerprint(desired),
      phase,
      outputVersion: spec.output.version,
      outputAttribute: spec.output.attribute,
      targetNamespaces: spec.targetNamespaces,
      pendingRows: Object.values(byNs).reduce((a, b) => a + b, 0),
      pendingRowsByNamespace: byNs,
      inFlightBatches: envelope.batchesInFlight,
      inFlightRows: envelope.rowsInFlight,
      claimsInFlight: envelope.claimsInFlight,
      inFlight: claims.slice(0, 50).map((c) => ({
        batchId: c.claimId,
        namespace: [...new Set(c.batches.map((b) => b.payload.namespace))].join(','),
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
              lastClaimWaitShare: Math.round(lastClaimWaitShare * 100) / 100,
              // Waiting: permits took most of the last claim, or none is due within a claim's
              // wait allowance (dispatch resumes when it is: degraded RateLimitWait).
              waiting: lastClaimWaitShare >= 0.5 || envelope.degraded?.reason === FailureType.RateLimitWait,
              waitedSeconds: Math.round((state.counters.rateLimitWaitMs ?? 0) / 100) / 10,
            },
          }
        : {}),
      ...(state.rollout ? { rollout: state.rollout } : {}),
      observations: state.observations,
    };
  };

  // ---- messages -------------------------------------------------------------------------
  setHandler(statusQuery, status);
  // A claim carries its spec by fingerprint: its worker asks here, once per fingerprint
  // (docs/adr/0100). Every spec an in-flight claim uses is known, the canary's side spec too.
  const claimSpecs = new Map<string, { spec: FunctionClaimSpec; claims: number }>();
  setHandler(claimSpecQuery, (fingerprint) => claimSpecs.get(fingerprint)?.spec ?? null);
  setHandler(
    updateSpecUpdate,
    (next) => {
      // Level-triggered callers resend the spec they want: an equal spec changes nothing.
      next = functionRuntimeSpecSchema.parse(next);
      if (specFingerprint(next) === specFingerprint(desired)) return { generation: desired.generation };
      applyRollout(rolloutOnSpecChange(state.rollout, spec.output.version, next, new Date().toISOString()));
      desired = next;
      next = effectiveSpec(desired, state.rollout);
      // With input fingerprints the input list is part of what makes a row work (its hash).
      const work = (s: FunctionRuntimeSpec) =>
        JSON.stringify([s.targetNamespaces, s.output, s.filter, s.output.inputFingerprint ? s.inputs : null]);
      const workChanged = work(next) !== work(spec);
      if (next.targetNamespaces.join('\u0000') !== spec.targetNamespaces.join('\u0000'))
        upsertSearchAttributes([{ key: LayerTargetNamespaceKey, value: next.targetNamespaces }]);
      spec = next;
      envelope.settings = envelopeSettings(spec);
      if (workChanged) forgetDiscoveredWork();
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
    desired = { ...desired, paused };
    spec = { ...spec, paused };
    if (!paused) state.discoveryRequested = true;
    bump();
    return { paused };
  });
  setHandler(
    promoteRolloutUpdate,
    () => {
      applyRollout(promoted(state.rollout!));
      spec = effectiveSpec(desired, state.rollout);
      forgetDiscoveredWork();
      bump();
      return { version: spec.output.version };
    },
    { validator: () => refuseWith(promoteRefusal(state.rollout)) },
  );
  setHandler(
    abortRolloutUpdate,
    () => {
      applyRollout(aborted(state.rollout!));
      spec = effectiveSpec(desired, state.rollout);
      forgetDiscoveredWork();
      bump();
      return { version: spec.output.version };
    },
    { validator: () => refuseWith(abortRefusal(state.rollout)) },
  );
  setHandler(discoverNowSignal, () => {
    state.discoveryRequested = true;
    bump();
  });
  setHandler(replayDeadLettersUpdate, async ({ filter }) => {
    const cleared = await orchestrator(
      `clear dead letters in ${spec.targetNamespaces.join(', ')} so their rows run again`,
      REPLAY_CALL,
    ).clearDeadLetters({
      namespaces: spec.targetNamespaces,
      output: spec.output,
      filter,
    });
    state.counters.deadLettered = Math.max(0, state.counters.deadLettered - cleared);
    state.discoveryRequested = true;
    bump();
    return { cleared };
  });

  // ---- rollouts -------------------------------------------------------------------------
  function forgetDiscoveredWork() {
    // Filter, version or namespaces changed: what was discovered may no longer be work.
    envelope.clearWaiting();
    discovery.reset();
    state.discoveryRequested = true;
  }

  /** Takes a rollout transition; removes the side attribute of one nobody will promote. */
  function applyRollout(change: RolloutChange) {
    const before = state.rollout;
    state.rollout = change.rollout;
    // A canary whose rollout was aborted or replaced stops computing (its worker may be gone).
    if (before && before !== change.rollout && canaryScope) canaryScope.cancel();
    if (change.clearCanary && before) clearCanaryOf(before);
  }

  function clearCanaryOf(rollout: RolloutState) {
    cleanupsRunning += 1;
    orchestrator(
      `remove the canary attribute ${canaryOutput(desired.output, rollout.toVersion).attribute}`,
      REPLAY_CALL,
    )
      .clearCanary({
        namespaces: spec.targetNamespaces,
        canaryOutput: canaryOutput(desired.output, rollout.toVersion),
      })
      .catch((err: unknown) => {
        if (!isCancellation(err))
          state.lastError = `removing the canary attribute: ${failureOf(err).failure.message}`;
      })
      .finally(() => {
        cleanupsRunning -= 1;
        bump();
      });
  }

  /**
   * The canary: sample rows, compute them at the new version into `<attribute>__canary` through
   * the Function's own worker (one claim, same lease and retry rules), read a few back beside
   * their old values, then wait for a person. A rollout replaced meanwhile (abort, another
   * version) has its side attribute removed once the claim is over.
   */
  function runCanary(rollout: RolloutState) {
    canaryRunning = true;
    const side = canaryOutput(desired.output, rollout.toVersion);
    const stillCurrent = () => state.rollout === rollout && rollout.stage === 'canary';
    const work = async () => {
      const sample = await orchestrator(
        `sample ${rollout.canaryRows} rows for the canary of ${rollout.toVersion} in ns ${spec.targetNamespaces.join(', ')}`,
      ).sampleCanaryRows({
        namespaces: spec.targetNamespaces,
        output: spec.output,
        canaryOutput: side,
        filter: desired.filter,
        rows: rollout.canaryRows,
        seed: rollout.toVersion,
      });
      rollout.sampled = sample.reduce((n, s) => n + s.ids.length, 0);
      if (rollout.sampled === 0)
        rollout.error =
          'no row matches spec.filter (or every match is dead-lettered): nothing to compare; a filter that names the old version (e.g. tags_v NotEq v1) must name the new one';
      if (rollout.sampled > 0 && stillCurrent()) {
        let seq = 0;
        const batches = sample.flatMap(({ namespace, ids }) => {
          const out = [];
          for (let i = 0; i < ids.length; i += spec.worker.batchSize) {
            const chunk = ids.slice(i, i + spec.worker.batchSize);
            seq += 1;
            out.push({
              batchId: `${runTag}-canary-${seq}`,
              rows: chunk.length,
              payload: { namespace, ids: chunk },
              attempts: 0,
              maxAttempts: spec.retry.maxAttempts,
              splitDepth: 0,
            });
          }
          return out;
        });
        const claim: Claim<FunctionBatchPayload> = {
          claimId: `${runTag}-canary`,
          batches,
          sinceMs: Date.now(),
        };
        const report = await startClaim(claim, spec.retry.maxAttempts, side);
        for (const o of report.outcomes) {
          if (o.status === 'done') {
            rollout.written += o.counts?.written ?? 0;
            rollout.failed += o.rowFailures?.length ?? 0;
          } else rollout.failed += batches.find((b) => b.batchId === o.batchId)?.rows ?? 0;
        }
        if (report.systemic) rollout.error = report.systemic.message;
        const shown = sample.flatMap(({ namespace, ids }) => ids.map((id) => ({ namespace, id })));
        rollout.comparison = await orchestrator(
          `read ${Math.min(COMPARISON_ROWS, shown.length)} canary rows beside their ${rollout.fromVersion} values`,
        ).readCanaryComparison({
          rows: shown.slice(0, COMPARISON_ROWS),
          output: spec.output,
          canaryOutput: side,
        });
      }
    };
    const scope = (canaryScope = new CancellationScope());
    scope
      .run(work)
      .catch((err: unknown) => {
        if (!isCancellation(err)) rollout.error = failureOf(err).failure.message;
      })
      .finally(() => {
        canaryRunning = false;
        canaryScope = undefined;
        if (stillCurrent()) rollout.stage = 'awaitingPromotion';
        // Aborted or replaced while the claim ran: its writes may have come after the cleanup.
        else clearCanaryOf(rollout);
        bump();
      });
  }

  // ---- claims ---------------------------------------------------------------------------
  const startClaim = (
    claim: Claim<FunctionBatchPayload>,
    maxAttempts: number,
    output = spec.output,
  ): Promise<ClaimReport> => {
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
              maxPermitWaitMs: claimPermitWaitMs(spec.schedule.leaseSeconds),
            },
          }
        : spec.worker,
    };
    const fingerprint = rangeClaims ? claimSpecFingerprint(claimSpec) : undefined;
    const claimInput: FunctionClaimInput = fingerprint
      ? {
          claimId: claim.claimId,
          specFingerprint: fingerprint,
          parts: claimParts(claim.batches),
          packedReport: true,
        }
      : {
          claimId: claim.claimId,
          spec: claimSpec,
          batches: claim.batches.map((b) => ({
            batchId: b.batchId,
            namespace: b.payload.namespace,
            ids: 'ids' in b.payload ? b.payload.ids : [],
          })),
        };
    const options = claimActivityOptions(claim, {
      leaseSeconds: spec.schedule.leaseSeconds,
      ...(spec.worker.rateLimit ? { permitWaitMs: claimPermitWaitMs(spec.schedule.leaseSeconds) } : {}),
      retry: spec.retry,
      maxAttempts,
      what: `${claim.batches.reduce((n, b) => n + b.rows, 0)} rows from ns ${[...new Set(claim.batches.map((b) => b.payload.namespace))].join(', ')}`,
    });
    if (fingerprint) {
      const known = claimSpecs.get(fingerprint);
      if (known) known.claims += 1;
      else claimSpecs.set(fingerprint, { spec: claimSpec, claims: 1 });
    }
    const batchIds = claim.batches.map((b) => b.batchId);
    const run =
      spec.worker.dispatch === 'push'
        ? proxyActivities<FunctionActivities>(options).runPushClaim(claimInput)
        : proxyActivities<
            Record<string, (i: FunctionClaimInput) => Promise<ClaimReport | PackedClaimReport>>
          >({
            ...options,
            taskQueue: spec.worker.taskQueue ?? functionTaskQueue(spec.k8sNamespace, spec.name),
          })[RUN_FUNCTION_CLAIM_ACTIVITY]!(claimInput);
    return run
      .then((result) => unpackClaimReport(result, batchIds))
      .finally(() => {
        // The spec is forgotten with the last claim that uses it.
        const known = fingerprint !== undefined ? claimSpecs.get(fingerprint) : undefined;
        if (known && --known.claims === 0) claimSpecs.delete(fingerprint!);
      });
  };

  const count = (outcomes: readonly BatchOutcome[]) => {
    let waitedMs = 0;
    let batchMs = 0;
    for (const o of outcomes) {
      waitedMs += (o.status === 'done' ? o.counts?.rateLimitWaitMs : 0) ?? 0;
      batchMs += o.ms;
    }
    if (spec.worker.rateLimit) {
      state.counters.rateLimitWaitMs = (state.counters.rateLimitWaitMs ?? 0) + waitedMs;
      if (batchMs > 0) lastClaimWaitShare = Math.min(1, waitedMs / batchMs);
    }
    for (const o of outcomes) {
      if (o.status === 'done') {
        state.counters.batches += 1;
        state.counters.processed += o.counts?.written ?? 0;
        state.counters.superseded += o.counts?.superseded ?? 0;
        const c = o.counts ?? {};
        observeBatch(state.observations, o.ms, (c.written ?? 0) + (c.skipped ?? 0) + (c.superseded ?? 0));
      } else {
        state.lastError = `${o.batchId}: ${o.failure.message}`;
        observeFailure(state.observations, o.failure.type);
      }
    }
  };

  const execute = (commands: EnvelopeCommand<FunctionBatchPayload>[]) => {
    for (const command of commands) {
      switch (command.kind) {
        case 'dispatch':
          dispatch(command.claim, command.maxAttempts);
          break;
        case 'deadLetter':
          // A whole batch (one row) that failed for good; row-scoped failures fail no batch.
          if (!command.rowIds) state.counters.failedBatches += 1;
          deadLetter(command);
          break;
        case 'split':
          state.counters.failedBatches += 1;
          break;
        case 'retry':
          state.counters.retries += 1;
          observeRetry(state.observations, command.failure.type);
          break;
        case 'degraded':
          state.lastError = `${command.degraded.reason}: ${command.degraded.message}`;
          break;
        case 'recovered':
        case 'continueAsNew':
          break;
      }
    }
  };

  const dispatch = (claim: Claim<FunctionBatchPayload>, maxAttempts: number) => {
    claimsThisRun += 1;
    if (!state.rateWindow)
      state.rateWindow = { startedAtMs: Date.now(), processedAtStart: state.counters.processed };
    startClaim(claim, maxAttempts)
      .then((report) => {
        // Through the Runtime's logger (src/observe): the SDK adds workflowId and runId.
        log.debug('claim finished', {
          function: `${spec.k8sNamespace}/${spec.name}`,
          claimId: claim.claimId,
          batchIds: report.outcomes.map((o) => o.batchId),
          failed: report.outcomes.filter((o) => o.status === 'failed').length,
        });
        count(report.outcomes);
        if (report.systemic) observeFailure(state.observations, report.systemic.type);
        observeClaimAttempt(state.observations, report.attempt);
        execute(envelope.onClaimReport(report, Date.now()));
      })
      .catch((err: unknown) => {
        // Cancelled: the Function was deleted and the run is ending.
        if (isCancellation(err)) return;
        const { failure, progress } = failureOf(err);
        const finished = claimProgressFrom(progress, claim.claimId);
        if (finished) count(finished.outcomes);
        observeFailure(state.observations, failure.type);
        log.warn('claim failed', {
          function: `${spec.k8sNamespace}/${spec.name}`,
          claimId: claim.claimId,
          failureType: failure.type,
          message: failure.message,
        });
        state.lastError = `${claim.claimId}: ${failure.message}`;
        execute(envelope.onClaimFailed(claim.claimId, failure, finished, Date.now()));
      })
      .finally(bump);
  };

  const deadLetter = (command: Extract<EnvelopeCommand<FunctionBatchPayload>, { kind: 'deadLetter' }>) => {
    deadLettersRunning += 1;
    const payload = command.batch.payload;
    // A range is pinned to its resolved ids once it fails (docs/adr/0100): one that never
    // resolved names no row, and the next pass tries it again.
    const ids = command.rowIds ?? ('ids' in payload ? payload.ids : []);
    const rows = ids.length;
    orchestrator(
      `dead-letter ${rows} ${rows === 1 ? 'row' : 'rows'} in ns ${command.batch.payload.namespace} (${command.failure.type} after ${command.attempts} ${command.attempts === 1 ? 'attempt' : 'attempts'})`,
    )
      .deadLetterRows({
        namespace: command.batch.payload.namespace,
        ids,
        output: spec.output,
        message: command.failure.message,
        attempts: command.attempts,
        type: command.failure.type,
      })
      .then((marked) => {
        log.warn('rows dead-lettered', {
          function: `${spec.k8sNamespace}/${spec.name}`,
          batchId: command.batch.batchId,
          namespace: command.batch.payload.namespace,
          rows: marked,
          failureType: command.failure.type,
          message: command.failure.message,
        });
        state.counters.deadLettered += marked;
        state.lastError = `${command.batch.batchId} (${command.batch.payload.namespace}): ${command.failure.message}`;
      })
      .catch((err: unknown) => {
        if (!isCancellation(err))
          state.lastError = `dead-lettering ${command.batch.batchId}: ${failureOf(err).failure.message}`;
      })
      .finally(() => {
        deadLettersRunning -= 1;
        bump();
      });
  };

  // ---- discovery ------------------------------------------------------------------------
  const refreshPendingCounts = () => {
    countsRunning += 1;
    orchestrator(`count pending rows in ns ${spec.targetNamespaces.join(', ')}`)
      .countPendingRows({ namespaces: spec.targetNamespaces, output: spec.output, filter: spec.filter })
      .then((counts) => {
        state.pendingRows = counts;
      })
      .catch((err: unknown) => {
        state.lastError = `counting pending rows: ${failureOf(err).failure.message}`;
      })
      .finally(() => {
        countsRunning -= 1;
        bump();
      });
  };

  const startScans = () => {
    const rowsPerClaim = envelope.targetBatchesPerClaim() * spec.worker.batchSize;
    // Range cuts (docs/adr/0100); a Function with input fingerprints decides per row: ids.
    const ranges = rangeClaims && !spec.output.inputFingerprint;
    // One window out and one waiting, so a finished claim is replaced without a scan.
    const readAheadRows =
      2 * spec.schedule.maxInFlightBatches * Math.min(rowsPerClaim, DEFAULT_CLAIM_SIZING.maxRowsPerClaim);
    const scans = discovery.scansToStart({
      heldRows: envelope.waitingRows + envelope.rowsInFlight,
      // What waits is one range per batch: read far ahead, so scans are few per row.
      readAheadRows: ranges ? Math.max(readAheadRows, RANGE_READ_AHEAD_ROWS) : readAheadRows,
      maxConcurrentScans: spec.schedule.maxConcurrentScans,
      ...(ranges ? { maxPage: MAX_RANGE_DISCOVERY_PAGE } : {}),
    });
    const passCursors = discovery.cursors;
    for (const scan of scans) {
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
        })
        .then((page) => {
          const held = new Set(
            envelope
              .heldPayloads()
              .flatMap((p) => ('ids' in p ? p.ids : []).map((id) => idKey(p.namespace, id))),
          );
          envelope.add(discovery.onPage(scan.namespace, passCursors, page, held, spec.worker.batchSize));
        })
        .catch((err: unknown) => {
          discovery.onScanFailed(scan.namespace, passCursors);
          state.lastError = `discovery in ${scan.namespace}: ${failureOf(err).failure.message}`;
        })
        .finally(bump);
    }
  };

  const setPhase = (next: FunctionPhase) => {
    if (next === phase) return;
    phase = next;
    upsertSearchAttributes([{ key: LayerPhaseKey, value: next }]);
  };

  // ---- main loop ------------------------------------------------------------------------
  for (;;) {
    if (!draining && (workflowInfo().continueAsNewSuggested || claimsThisRun >= claimsPerRun))
      draining = true;
    const now = Date.now();

    // A canary rollout holds normal dispatch like a pause (claims already out finish).
    const holding = spec.paused || rolloutHolds(state.rollout);
    if (state.rollout?.stage === 'canary' && !canaryRunning && !spec.paused && !draining)
      runCanary(state.rollout);
    if (!holding && !draining) {
      if (
        !discovery.passActive &&
        (state.discoveryRequested || now >= nextPassAtMs) &&
        // Ranges cannot exclude held rows: a pass starts when no range-born work is held (after
        // a reset or a hand-over, the claims and batches of before end first; docs/adr/0100).
        !(rangeClaims && envelope.heldPayloads().some(rangeBorn))
      ) {
        discovery.startPass(spec.targetNamespaces);
        state.discoveryRequested = false;
        state.counters.discoveries += 1;
        state.lastDiscoveryAt = new Date(now).toISOString();
        if (envelope.claimsInFlight === 0) state.rateWindow = undefined;
        refreshPendingCounts();
      }
      startScans();
      if (discovery.passActive && discovery.exhausted && envelope.idle) {
        discovery.reset();
        nextPassAtMs = now + spec.schedule.discoveryIntervalSeconds * 1000;
        refreshPendingCounts();
      }
    }
    const commands = envelope.plan(now, { paused: holding, draining });
    const handOver = commands.some((c) => c.kind === 'continueAsNew');
    execute(commands);

    setPhase(
      spec.paused
        ? 'paused'
        : draining
          ? 'draining'
          : state.rollout?.stage === 'canary'
            ? 'canary'
            : state.rollout?.stage === 'awaitingPromotion'
              ? 'awaitingPromotion'
              : envelope.degraded
                ? 'degraded'
                : envelope.claimsInFlight > 0 || discovery.passActive
                  ? 'running'
                  : 'idle',
    );
    setCurrentDetails(currentDetails(status()));

    if (
      handOver &&
      discovery.scansRunning === 0 &&
      countsRunning === 0 &&
      deadLettersRunning === 0 &&
      !canaryRunning &&
      cleanupsRunning === 0
    ) {
      await condition(allHandlersFinished);
      // Untouched range batches are not carried: their rows still match, and the next run's pass
      // finds them again — the hand-over stays small whatever the read-ahead (docs/adr/0100).
      const carried = carriedEnvelope(envelope);
      const waiting = carried.waiting.filter((b) => !freshRange(b));
      const next: FunctionWorkflowInput = {
        spec: desired,
        state: {
          ...state,
          envelope: { ...carried, waiting },
          // A pass cut short by the hand-over resumes at once in the next run.
          discoveryRequested:
            state.discoveryRequested || discovery.passActive || waiting.length < carried.waiting.length,
        },
        batchesPerRun: input.batchesPerRun,
      };
      await continueAsNew<typeof functionWorkflow>(next);
    }

    const seen = wake;
    await waitForNextEvent(
      () => wake !== seen,
      [!discovery.passActive && !holding && !draining ? nextPassAtMs : undefined, envelope.nextWakeAtMs(now)],
    );
  }
}

/** A range batch as discovery cut it: never dispatched and failed, split or delayed. */
function freshRange(b: EnvelopeBatch<FunctionBatchPayload>): boolean {
  return isRangePayload(b.payload) && b.attempts === 0 && b.splitDepth === 0 && b.notBeforeMs === undefined;
}

/** An update validator's refusal: the reason reaches the caller, nothing reaches history. */
function refuseWith(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}

function rolloutLines(s: FunctionStatus): string[] {
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

function currentDetails(s: FunctionStatus): string {
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
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
