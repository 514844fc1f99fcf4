// One long-running workflow per Function: wiring. The loop — wake-ups, claims, dead letters,
// phase, hand-over — is the claim-workflow shell (claim-workflow-shell.ts); the rules are pure in
// src/envelope (the batch envelope, discovery, rollout, status); the Function's activities are in
// function-claims.ts and function-canary.ts. This file parses the input, answers messages and
// tells the shell what a Function is. Rows never pass through it — only id ranges and ids (docs/adr/0010,
// 0011, 0100).
import { deprecatePatch, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { claimSpecQuery } from '../../packages/worker/src/contracts/function.js';
import {
  abortRolloutUpdate,
  discoverNowSignal,
  functionCarriedStateSchema,
  functionRuntimeSpecSchema,
  functionWorkflowInputSchema,
  promoteRolloutUpdate,
  replayDeadLettersUpdate,
  setPausedUpdate,
  statusQuery,
  updateSpecUpdate,
  type FunctionBatchPayload,
  type FunctionPhase,
  type FunctionWorkflowInput,
} from '../contracts/function.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import { LayerTargetNamespaceKey } from '../contracts/search-attributes.js';
import { workDefinition } from '../envelope/function-discovery.js';
import { ClaimSpecs } from '../envelope/claim-specs.js';
import {
  freshRange,
  functionPayloadOps,
  functionPayloadOpsByNamespace,
} from '../envelope/function-payload.js';
import {
  functionDetails,
  functionPhase,
  functionStatus,
  functionSummary,
} from '../envelope/function-status.js';
import {
  abortRefusal,
  aborted,
  effectiveSpec,
  promoteRefusal,
  promoted,
  rolloutHolds,
  rolloutOnSpecChange,
} from '../envelope/rollout.js';
import { ClaimWorkflowShell, ENGINE_SUMMARY_PATCH, ENGINE_V2_PATCH } from './claim-workflow-shell.js';
import { FunctionCanary } from './function-canary.js';
import {
  FunctionDiscoveryFeed,
  REPLAY_CALL,
  countFunctionOutcomes,
  deadLetterFunctionRows,
  functionEnvelopeSettings,
  recordFinishedBatches,
  orchestrator,
  startFunctionClaim,
  type FunctionRun,
} from './function-claims.js';

/** Claims per run before continue-as-new even if the server has not suggested it yet. */
const DEFAULT_CLAIMS_PER_RUN = 500;
/**
 * Runs started with it send claims as id ranges with the spec by fingerprint and packed results
 * (docs/adr/0100); runs recorded before it keep id lists and inline specs until they continue-as-new.
 */
const RANGE_CLAIMS_PATCH = 'range-claims';
/**
 * Runs started with it keep a discovery pass that finds nothing quiet: the phase stays idle and
 * the pass ends without a second count (function-claims.ts FunctionDiscoveryFeed).
 */
const QUIET_IDLE_PASS_PATCH = 'quiet-idle-pass';
/**
 * Runs started with it cap a claim's rows only where its payloads list ids: a range claim grows
 * to the claim time target (up to 64 batches) instead of 1,024 rows (docs/adr/0117).
 */
export const CLAIMS_SIZED_BY_TIME_PATCH = 'claims-sized-by-time';
/**
 * Runs started with it record the rows they write until the store has indexed them, and leave
 * those rows out of discovery and the pending count (docs/adr/0110, function-claims.ts).
 */
const UNINDEXED_WRITES_PATCH = 'unindexed-writes';

export async function functionWorkflow(rawInput: FunctionWorkflowInput): Promise<void> {
  // Runs recorded while v1 still existed carry this marker; deprecated, they replay without the
  // v1 code. Removed in the release after next (ADR 0067).
  deprecatePatch(ENGINE_V2_PATCH);
  const rangeClaims = patched(RANGE_CLAIMS_PATCH);
  const quietIdlePasses = patched(QUIET_IDLE_PASS_PATCH);
  const claimsSizedByTime = patched(CLAIMS_SIZED_BY_TIME_PATCH);
  const recordsWrites = patched(UNINDEXED_WRITES_PATCH);
  const publishSummary = patched(ENGINE_SUMMARY_PATCH);
  // Parse, don't trust: after continue-as-new the input is JSON from the previous run.
  const input = functionWorkflowInputSchema.parse(rawInput);
  const state = functionCarriedStateSchema.parse(input.state ?? {});
  state.runsSoFar += 1;
  // `desired` is the CR's spec; `spec` the one the engine runs — the same but for output.version
  // while a canary rollout holds the old version (src/envelope/rollout.ts).
  const run: FunctionRun = {
    desired: input.spec,
    spec: effectiveSpec(input.spec, state.rollout),
    state,
    lastClaimWaitShare: 0,
    rangeClaims,
    claimSpecs: new ClaimSpecs(),
    quietIdlePasses,
    recordsWrites,
    workEpoch: 0,
    claimWorkEpochs: new Map(),
  };
  const shell = new ClaimWorkflowShell<FunctionBatchPayload, FunctionPhase>({
    // Runs of the unindexed-writes patch slow down per namespace on a store's 429 (docs/adr/0111).
    payloadOps: recordsWrites ? functionPayloadOpsByNamespace : functionPayloadOps,
    settings: functionEnvelopeSettings(run.spec, claimsSizedByTime),
    carried: state.envelope,
    state,
    claimsPerRun: input.batchesPerRun ?? DEFAULT_CLAIMS_PER_RUN,
    initialPhase: 'idle',
    publishSummary,
  });
  const { envelope, bump } = shell;
  const feed = new FunctionDiscoveryFeed(run, shell);
  const canary = new FunctionCanary(run, shell);
  const status = () => functionStatus({ ...run, phase: shell.phase, envelope, nowMs: Date.now() });

  // ---- messages -------------------------------------------------------------------------
  setHandler(statusQuery, status);
  // A claim carries its spec by fingerprint: its worker asks here, once per fingerprint.
  setHandler(claimSpecQuery, (fingerprint) => run.claimSpecs.get(fingerprint));
  setHandler(
    updateSpecUpdate,
    (next) => {
      // Level-triggered callers resend the spec they want: an equal spec changes nothing.
      next = functionRuntimeSpecSchema.parse(next);
      if (specFingerprint(next) === specFingerprint(run.desired))
        return { generation: run.desired.generation };
      canary.apply(
        rolloutOnSpecChange(state.rollout, run.spec.output.version, next, new Date().toISOString()),
      );
      run.desired = next;
      next = effectiveSpec(run.desired, state.rollout);
      const workChanged = workDefinition(next) !== workDefinition(run.spec);
      if (next.targetNamespaces.join('\u0000') !== run.spec.targetNamespaces.join('\u0000'))
        upsertSearchAttributes([{ key: LayerTargetNamespaceKey, value: next.targetNamespaces }]);
      run.spec = next;
      envelope.settings = functionEnvelopeSettings(next, claimsSizedByTime);
      if (workChanged) feed.forget();
      bump();
      return { generation: next.generation };
    },
    {
      // Rejects a bad spec before it reaches history.
      validator: (next) => {
        functionRuntimeSpecSchema.parse(next);
        if (next.name !== run.spec.name || next.k8sNamespace !== run.spec.k8sNamespace) {
          throw new Error(
            `spec is for ${next.k8sNamespace}/${next.name}, this workflow runs ${run.spec.k8sNamespace}/${run.spec.name}`,
          );
        }
      },
    },
  );
  setHandler(setPausedUpdate, (paused) => {
    run.desired = { ...run.desired, paused };
    run.spec = { ...run.spec, paused };
    if (!paused) state.discoveryRequested = true;
    bump();
    return { paused };
  });
  /** Promote or abort: the engine runs the version the transition leaves, over every row again. */
  const endRollout = (change: typeof promoted) => () => {
    canary.apply(change(state.rollout!));
    run.spec = effectiveSpec(run.desired, state.rollout);
    feed.forget();
    bump();
    return { version: run.spec.output.version };
  };
  setHandler(promoteRolloutUpdate, endRollout(promoted), {
    validator: () => refuseWith(promoteRefusal(state.rollout)),
  });
  setHandler(abortRolloutUpdate, endRollout(aborted), {
    validator: () => refuseWith(abortRefusal(state.rollout)),
  });
  setHandler(discoverNowSignal, () => {
    state.discoveryRequested = true;
    bump();
  });
  setHandler(replayDeadLettersUpdate, async ({ filter }) => {
    const { spec } = run;
    const cleared = await orchestrator(
      `clear dead letters in ${spec.targetNamespaces.join(', ')} so their rows run again`,
      REPLAY_CALL,
    ).clearDeadLetters({ namespaces: spec.targetNamespaces, output: spec.output, filter });
    state.counters.deadLettered = Math.max(0, state.counters.deadLettered - cleared);
    state.discoveryRequested = true;
    bump();
    return { cleared };
  });

  // ---- the loop -------------------------------------------------------------------------
  await shell.run<FunctionWorkflowInput>({
    logFields: () => ({ function: `${run.spec.k8sNamespace}/${run.spec.name}` }),
    startClaim: (claim, maxAttempts) => startFunctionClaim(run, claim, maxAttempts),
    claimEnded: (claim) => {
      run.claimSpecs.release(claim.claimId);
      run.claimWorkEpochs.delete(claim.claimId);
    },
    onDispatch: (claim) => {
      state.rateWindow ??= { startedAtMs: Date.now(), processedAtStart: state.counters.processed };
      run.claimWorkEpochs.set(claim.claimId, run.workEpoch);
    },
    count: (claim, outcomes) => {
      countFunctionOutcomes(run, outcomes);
      recordFinishedBatches(run, claim, outcomes);
    },
    deadLetter: (command) => deadLetterFunctionRows(run, command),
    // A canary rollout holds normal dispatch like a pause (claims already out finish).
    holding: () => run.spec.paused || rolloutHolds(state.rollout),
    feed: (now, { holding, draining }) => {
      if (state.rollout?.stage === 'canary' && !canary.running && !run.spec.paused && !draining)
        canary.start(state.rollout);
      if (!holding && !draining) feed.feed(now);
    },
    nextFeedAtMs: (mode) => feed.nextPassAt(mode),
    quiet: () => feed.discovery.scansRunning === 0,
    phase: (draining) =>
      functionPhase({
        paused: run.spec.paused,
        draining,
        rollout: state.rollout,
        degraded: envelope.degraded !== undefined,
        busy: feed.busy(),
      }),
    view: () => {
      const s = status();
      return { details: functionDetails(s), summary: functionSummary(s, run.spec.worker.batchSize) };
    },
    nextInput: (carried) => {
      // Untouched range batches are not carried: their rows still match, and the next run's
      // pass finds them again — the hand-over stays small whatever the read-ahead (ADR 0100).
      const waiting = carried.waiting.filter((b) => !freshRange(b));
      return {
        spec: run.desired,
        // A pass cut short by the hand-over resumes at once in the next run.
        state: {
          ...state,
          envelope: { ...carried, waiting },
          discoveryRequested:
            state.discoveryRequested || feed.discovery.passActive || waiting.length < carried.waiting.length,
        },
        batchesPerRun: input.batchesPerRun,
      };
    },
  });
}

/** An update validator's refusal: the reason reaches the caller, nothing reaches history. */
function refuseWith(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}
