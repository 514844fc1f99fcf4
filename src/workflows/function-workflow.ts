// One long-running workflow per Function. A thin shell: the scheduling rules live in the batch
// envelope (src/envelope/batch-envelope.ts) and discovery in FunctionDiscovery, both pure and
// table-tested; this file wires messages, runs the commands they return as activities, and feeds
// the results back. Rows never pass through it — only ids (docs/adr/0010, docs/adr/0011).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { claimProgressFrom, type BatchOutcome, type ClaimReport } from '../contracts/claims.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../contracts/failures.js';
import {
  RUN_FUNCTION_CLAIM_ACTIVITY,
  discoverNowSignal,
  functionCarriedStateSchema,
  functionRuntimeSpecSchema,
  functionWorkflowInputSchema,
  replayDeadLettersUpdate,
  setPausedUpdate,
  statusQuery,
  updateSpecUpdate,
  type FunctionBatchPayload,
  type FunctionClaimInput,
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
  type EnvelopeCommand,
  type EnvelopeSettings,
} from '../envelope/batch-envelope.js';
import { FunctionDiscovery, functionPayloadOps, idKey } from '../envelope/function-discovery.js';
import {
  carriedEnvelope,
  claimActivityOptions,
  degradedLines,
  degradedStatus,
  failureOf,
  waitForNextEvent,
} from '../envelope/claim-shell.js';
import { functionWorkflowV1 } from './function-workflow-v1.js';

/** Claims per run before continue-as-new even if the server has not suggested it yet. */
export const DEFAULT_CLAIMS_PER_RUN = 500;
/** Marks runs that use the envelope and claims; runs without it replay the frozen v1 code. */
export const ENGINE_V2_PATCH = 'engine-v2';

type FunctionActivities = ReturnType<typeof activities.createFunctionActivities>;

// Orchestrator-side calls are single store requests: a short timeout means an orchestrator that
// dies mid-call delays the Function by seconds, not minutes (its attempt is re-run).
const orchestrator = proxyActivities<FunctionActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
});

/** Clearing dead letters pages through patch_by_filter requests: allow it minutes. */
const replayProxy = proxyActivities<FunctionActivities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
});

function envelopeSettings(spec: FunctionRuntimeSpec): EnvelopeSettings {
  return {
    maxInFlightClaims: spec.schedule.maxInFlightBatches,
    retry: spec.retry,
    ...DEFAULT_CLAIM_SIZING,
  };
}

export async function functionWorkflow(rawInput: FunctionWorkflowInput): Promise<void> {
  // Runs started before engine v2 finish on the frozen code; their next run starts here.
  if (!patched(ENGINE_V2_PATCH)) return functionWorkflowV1(rawInput);

  // Parse, don't trust: after continue-as-new the input is JSON from the previous run.
  const input = functionWorkflowInputSchema.parse(rawInput);
  let spec = input.spec;
  const state = functionCarriedStateSchema.parse(input.state ?? {});
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
  let draining = false;
  let phase: FunctionPhase = 'idle';
  let wake = 0;
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
      specFingerprint: specFingerprint(spec),
      phase,
      outputVersion: spec.output.version,
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
      observations: state.observations,
    };
  };

  // ---- messages -------------------------------------------------------------------------
  setHandler(statusQuery, status);
  setHandler(
    updateSpecUpdate,
    (next) => {
      // Level-triggered callers resend the spec they want: an equal spec changes nothing.
      next = functionRuntimeSpecSchema.parse(next);
      if (specFingerprint(next) === specFingerprint(spec)) return { generation: spec.generation };
      const work = (s: FunctionRuntimeSpec) => JSON.stringify([s.targetNamespaces, s.output, s.filter]);
      const workChanged = work(next) !== work(spec);
      if (next.targetNamespaces.join('\u0000') !== spec.targetNamespaces.join('\u0000'))
        upsertSearchAttributes([{ key: LayerTargetNamespaceKey, value: next.targetNamespaces }]);
      spec = next;
      envelope.settings = envelopeSettings(spec);
      if (workChanged) {
        // Filter, version or namespaces changed: what was discovered may no longer be work.
        envelope.clearWaiting();
        discovery.reset();
        state.discoveryRequested = true;
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

  // ---- claims ---------------------------------------------------------------------------
  const startClaim = (claim: Claim<FunctionBatchPayload>, maxAttempts: number): Promise<ClaimReport> => {
    const claimInput: FunctionClaimInput = {
      claimId: claim.claimId,
      spec: {
        k8sNamespace: spec.k8sNamespace,
        name: spec.name,
        inputs: spec.inputs,
        output: spec.output,
        filter: spec.filter,
        worker: spec.worker,
      },
      batches: claim.batches.map((b) => ({
        batchId: b.batchId,
        namespace: b.payload.namespace,
        ids: b.payload.ids,
      })),
    };
    const options = claimActivityOptions(claim, {
      leaseSeconds: spec.schedule.leaseSeconds,
      retry: spec.retry,
      maxAttempts,
      what: `${claim.batches.reduce((n, b) => n + b.rows, 0)} rows`,
    });
    if (spec.worker.dispatch === 'push')
      return proxyActivities<FunctionActivities>(options).runPushClaim(claimInput);
    const pull = proxyActivities<Record<string, (i: FunctionClaimInput) => Promise<ClaimReport>>>({
      ...options,
      taskQueue: spec.worker.taskQueue ?? functionTaskQueue(spec.k8sNamespace, spec.name),
    });
    return pull[RUN_FUNCTION_CLAIM_ACTIVITY]!(claimInput);
  };

  const count = (outcomes: readonly BatchOutcome[]) => {
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
    orchestrator
      .deadLetterRows({
        namespace: command.batch.payload.namespace,
        ids: command.rowIds ?? command.batch.payload.ids,
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
    orchestrator
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
    const scans = discovery.scansToStart({
      heldRows: envelope.waitingRows + envelope.rowsInFlight,
      // One window out and one waiting, so a finished claim is replaced without a scan.
      readAheadRows:
        2 * spec.schedule.maxInFlightBatches * Math.min(rowsPerClaim, DEFAULT_CLAIM_SIZING.maxRowsPerClaim),
      maxConcurrentScans: spec.schedule.maxConcurrentScans,
    });
    const passCursors = discovery.cursors;
    for (const scan of scans) {
      orchestrator
        .discoverRows({
          namespace: scan.namespace,
          output: spec.output,
          filter: spec.filter,
          afterId: scan.afterId,
          limit: scan.limit,
        })
        .then((page) => {
          const held = new Set(
            envelope.heldPayloads().flatMap((p) => p.ids.map((id) => idKey(p.namespace, id))),
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

    if (!spec.paused && !draining) {
      if (!discovery.passActive && (state.discoveryRequested || now >= nextPassAtMs)) {
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
    const commands = envelope.plan(now, { paused: spec.paused, draining });
    const handOver = commands.some((c) => c.kind === 'continueAsNew');
    execute(commands);

    setPhase(
      spec.paused
        ? 'paused'
        : draining
          ? 'draining'
          : envelope.degraded
            ? 'degraded'
            : envelope.claimsInFlight > 0 || discovery.passActive
              ? 'running'
              : 'idle',
    );
    setCurrentDetails(currentDetails(status()));

    if (handOver && discovery.scansRunning === 0 && countsRunning === 0 && deadLettersRunning === 0) {
      await condition(allHandlersFinished);
      const next: FunctionWorkflowInput = {
        spec,
        state: {
          ...state,
          envelope: carriedEnvelope(envelope),
          // A pass cut short by the hand-over resumes at once in the next run.
          discoveryRequested: state.discoveryRequested || discovery.passActive,
        },
        batchesPerRun: input.batchesPerRun,
      };
      await continueAsNew<typeof functionWorkflow>(next);
    }

    const seen = wake;
    await waitForNextEvent(
      () => wake !== seen,
      [
        !discovery.passActive && !spec.paused && !draining ? nextPassAtMs : undefined,
        envelope.nextWakeAtMs(now),
      ],
    );
  }
}

function currentDetails(s: FunctionStatus): string {
  const c = s.counters;
  return [
    `**${s.phase}** — ${c.processed} rows written, ${s.pendingRows} pending, ${s.claimsInFlight} claims out (${s.inFlightBatches} batches, ${s.inFlightRows} rows)`,
    '',
    ...degradedLines(s.degraded),
    `- rate: ${s.rowsPerSecond} rows/s; batches ${c.batches}, failed batches ${c.failedBatches}, dead-lettered rows ${c.deadLettered}, superseded ${c.superseded}`,
    `- last discovery: ${s.lastDiscoveryAt ?? 'never'} (${c.discoveries} passes); run ${s.runsSoFar}`,
    ...(s.lastError ? [`- last error: ${s.lastError}`] : []),
  ].join('\n');
}
