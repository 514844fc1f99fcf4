// Canary rollouts of a new output version (spec.rollout.canaryRows, docs/adr/0055-canary-rollouts.md): the rules of
// which version the engine runs, what a spec change, a promote or an abort does, and how the
// canary's claim is built and tallied, as pure functions the workflow calls and unit tables test.
// Sandbox-safe.
import type { ClaimReport } from '../../packages/worker/src/contracts/claims.js';
import type { FunctionOutputSpec, RowId } from '../../packages/worker/src/contracts/function.js';
import type { FunctionBatchPayload, FunctionRuntimeSpec, RolloutState } from '../contracts/function.js';
import type { Claim } from './batch-envelope.js';
import { batchesOfIds } from './function-payload.js';

/** Rows of the comparison kept in status (a few, to read, not to audit). */
export const COMPARISON_ROWS = 5;

/** `<attribute>__canary`: where the canary writes (its version goes to `<attribute>__canary_v`). */
export function canaryOutput(output: FunctionOutputSpec, toVersion: string): FunctionOutputSpec {
  const { inputFingerprint: _fingerprintsAreForTheRealAttribute, ...rest } = output;
  return { ...rest, attribute: `${output.attribute}__canary`, version: toVersion };
}

/** The spec the engine runs: the CR's, except at the old version until a rollout is promoted. */
export function effectiveSpec(
  desired: FunctionRuntimeSpec,
  rollout: RolloutState | undefined,
): FunctionRuntimeSpec {
  if (!rollout) return desired;
  return { ...desired, output: { ...desired.output, version: rollout.fromVersion } };
}

/** Whether the rollout holds normal dispatch (the canary runs or waits for a person). */
export function rolloutHolds(rollout: RolloutState | undefined): boolean {
  return rollout !== undefined && rollout.stage !== 'aborted';
}

export interface RolloutChange {
  rollout: RolloutState | undefined;
  /** A canary side attribute may be on rows and nobody will promote it: remove it. */
  clearCanary: boolean;
}

/**
 * A new desired spec arrived. `runningVersion` is the version the engine ran until now. Only a
 * change of output.version starts a canary, and only when spec.rollout.canaryRows is set; the
 * CR going back to the version the rows carry ends a rollout; a third version starts afresh
 * from the rows' version.
 */
export function rolloutOnSpecChange(
  prev: RolloutState | undefined,
  runningVersion: string,
  next: FunctionRuntimeSpec,
  nowIso: string,
): RolloutChange {
  const toVersion = next.output.version;
  if (prev && toVersion === prev.toVersion) return { rollout: prev, clearCanary: false };
  const fromVersion = prev ? prev.fromVersion : runningVersion;
  const clearCanary = prev !== undefined && prev.stage !== 'aborted';
  if (toVersion === fromVersion || !next.rollout?.canaryRows) return { rollout: undefined, clearCanary };
  return {
    rollout: {
      fromVersion,
      toVersion,
      stage: 'canary',
      canaryRows: next.rollout.canaryRows,
      startedAt: nowIso,
      sampled: 0,
      written: 0,
      failed: 0,
      comparison: [],
    },
    clearCanary,
  };
}

/** Why promote or abort cannot be done now, for the caller (an update validator throws it). */
export function promoteRefusal(rollout: RolloutState | undefined): string | undefined {
  if (!rollout)
    return 'no rollout is waiting: change spec.output.version with spec.rollout.canaryRows set to start one';
  if (rollout.stage === 'canary')
    return `the canary of ${rollout.toVersion} is still running: wait for phase awaitingPromotion (layer function status) or abort it`;
  if (rollout.stage === 'aborted')
    return (
      `the rollout of ${rollout.toVersion} was aborted: the engine runs ${rollout.fromVersion} and an aborted version is not promoted ` +
      `(ADR 0055); change spec.output.version to start a new canary, or set it back to ${rollout.fromVersion}`
    );
  return undefined;
}

export function abortRefusal(rollout: RolloutState | undefined): string | undefined {
  if (!rollout) return 'no rollout to abort: the Function runs the version its spec names';
  if (rollout.stage === 'aborted')
    return `the rollout of ${rollout.toVersion} is already aborted: the engine runs ${rollout.fromVersion}`;
  return undefined;
}

/** Promote: the engine runs the CR's version over every row; the side attribute goes. */
export function promoted(_rollout: RolloutState): RolloutChange {
  return { rollout: undefined, clearCanary: true };
}

/** Abort: the engine runs the old version again and the side attribute goes. */
export function aborted(rollout: RolloutState): RolloutChange {
  return { rollout: { ...rollout, stage: 'aborted' }, clearCanary: rollout.stage !== 'aborted' };
}

// ---- the canary's claim -------------------------------------------------------------------
// The workflow samples rows, runs them as one claim into the side attribute and reads a few back;
// these are the rules it applies between those calls.

/** Rows of one namespace the canary sampled. */
export interface CanarySample {
  namespace: string;
  ids: RowId[];
}

/** Why a canary has nothing to compare (its sample came back empty). */
export const NOTHING_SAMPLED =
  'no row matches spec.filter (or every match is dead-lettered): nothing to compare; a filter that names the old version (e.g. tags_v NotEq v1) must name the new one';

/** How many rows the canary sampled, and the error to show when there are none. */
export function canarySampled(sample: readonly CanarySample[]): { sampled: number; error?: string } {
  const sampled = sample.reduce((n, s) => n + s.ids.length, 0);
  return sampled === 0 ? { sampled, error: NOTHING_SAMPLED } : { sampled };
}

/** The canary's one claim: the sample cut into batches of `batchSize`, named `${runTag}-canary…`. */
export function canaryClaim(
  sample: readonly CanarySample[],
  opts: { runTag: string; batchSize: number; maxAttempts: number; nowMs: number },
): Claim<FunctionBatchPayload> {
  let seq = 0;
  const nextId = () => `${opts.runTag}-canary-${(seq += 1)}`;
  const batches = sample.flatMap(({ namespace, ids }) =>
    batchesOfIds(namespace, ids, opts.batchSize, nextId).map((b) => ({
      ...b,
      attempts: 0,
      maxAttempts: opts.maxAttempts,
      splitDepth: 0,
    })),
  );
  return { claimId: `${opts.runTag}-canary`, batches, sinceMs: opts.nowMs };
}

/**
 * What the canary's claim report adds to the rollout: rows written, rows failed (a failed batch
 * counts all its rows, a written one its row failures), and a systemic failure as the error.
 */
export function canaryTally(
  claim: Claim<FunctionBatchPayload>,
  report: ClaimReport,
): { written: number; failed: number; error?: string } {
  let written = 0;
  let failed = 0;
  for (const o of report.outcomes) {
    if (o.status === 'done') {
      written += o.counts?.written ?? 0;
      failed += o.rowFailures?.length ?? 0;
    } else failed += claim.batches.find((b) => b.batchId === o.batchId)?.rows ?? 0;
  }
  return { written, failed, ...(report.systemic ? { error: report.systemic.message } : {}) };
}

/** The sampled rows read back beside their old values (the first COMPARISON_ROWS). */
export function canaryShownRows(sample: readonly CanarySample[]): { namespace: string; id: RowId }[] {
  return sample
    .flatMap(({ namespace, ids }) => ids.map((id) => ({ namespace, id })))
    .slice(0, COMPARISON_ROWS);
}
