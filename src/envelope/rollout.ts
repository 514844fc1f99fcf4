// Canary rollouts of a new output version (spec.rollout.canaryRows, docs/adr/0055-canary-rollouts.md): the rules of
// which version the engine runs and what a spec change, a promote or an abort does, as pure
// functions the workflow calls and unit tables test. Sandbox-safe.
import type { FunctionOutputSpec, FunctionRuntimeSpec, RolloutState } from '../contracts/function.js';

export type { CanaryComparison, RolloutState } from '../contracts/function.js';

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
