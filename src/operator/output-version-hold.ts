// A new spec.output.version waits for the worker rollout (docs/adr/0124): while pods of the old
// build still poll the Function's task queue, a workflow given the new version would hand them its
// claims (the canary's among them), and they would write new-version values computed by old code.
// So the planner holds the whole new spec back from the workflow until the Deployment runs only
// pods of the template this pass plans. Pure: the observe activity gathers the inputs.
import type { WorkerObservation } from './worker-availability.js';

export interface OutputVersionHoldInput {
  /** status.outputVersion: the version the workflow was last given; undefined before the first sync. */
  running: string | undefined;
  /** The spec's output.version (defaulted), the one this pass would give the workflow. */
  desired: string;
  /** The worker image of the Deployment this pass applies. */
  plannedImage: string | undefined;
  /** The Deployment as observed before this pass applies anything; undefined when none exists. */
  deployment: WorkerObservation['deployment'];
}

/**
 * Why the new output.version must wait, or undefined when the spec may go to the workflow now.
 * It waits only when the version changes and an old build may still take claims: the pass is
 * about to roll the Deployment to another image, or the rollout it started is not complete.
 *
 * @example
 * outputVersionHold({ running: 'v1', desired: 'v2', plannedImage: 'app:2', deployment })
 * // 'spec.output.version v2 waits for the worker rollout: …' while app:1 pods are left
 */
export function outputVersionHold(i: OutputVersionHoldInput): string | undefined {
  // Never synced (or synced by an operator that did not record it), or no version change: no hazard.
  if (i.running === undefined || i.running === i.desired) return undefined;
  const d = i.deployment;
  // No Deployment, so no pod of any build: the first pods are already of the planned template.
  if (!d) return undefined;
  const keeps = `the workflow keeps the previous spec (output.version ${i.running}) until no pod of the old build is left`;
  if (i.plannedImage !== undefined && d.image !== i.plannedImage)
    return `spec.output.version ${i.desired} waits for the worker rollout: the Deployment runs ${d.image ?? 'no image'} and is being rolled to ${i.plannedImage}; ${keeps}`;
  if (!d.rolledOut)
    return `spec.output.version ${i.desired} waits for the worker rollout: pods of an older pod template are still running; ${keeps}`;
  return undefined;
}

/** The status fields that record which version the workflow was given, and which one waits. */
export interface OutputVersionFields {
  outputVersion?: string;
  /** null removes a value written earlier (status is written with a merge patch). */
  pendingOutputVersion?: string | null;
}

/**
 * What a pass did with a Function's output version: gave it to the workflow (`synced`), held it
 * (`held`, with the version the workflow keeps and why), or gave the workflow nothing at all.
 */
export type OutputVersionPass =
  { synced: string } | { held: string; running: string; message: string } | 'untouched';

/**
 * status.outputVersion and status.pendingOutputVersion after a pass: the version given to the
 * workflow (`synced`), or the running one and the waiting one (`held`), or, when the workflow was
 * given nothing, what the previous status said.
 */
export function outputVersionFields(
  previous: Record<string, unknown> | undefined,
  pass: OutputVersionPass,
): OutputVersionFields {
  const before = keptOutputVersionFields(previous);
  if (pass === 'untouched') return before;
  if ('held' in pass) return { outputVersion: pass.running, pendingOutputVersion: pass.held };
  return {
    outputVersion: pass.synced,
    ...(before.pendingOutputVersion !== undefined ? { pendingOutputVersion: null } : {}),
  };
}

/**
 * Give the workflow this version now, or hold it while an old build may still take its claims
 * (outputVersionHold).
 */
export function syncOrHold(
  previous: Record<string, unknown> | undefined,
  hold: Omit<OutputVersionHoldInput, 'running'>,
): Exclude<OutputVersionPass, 'untouched'> {
  const running = keptOutputVersionFields(previous).outputVersion;
  const message = outputVersionHold({ ...hold, running });
  return message !== undefined && running !== undefined
    ? { held: hold.desired, running, message }
    : { synced: hold.desired };
}

/** The two fields as the previous status has them (a status without them has neither). */
export function keptOutputVersionFields(previous: Record<string, unknown> | undefined): OutputVersionFields {
  const out: OutputVersionFields = {};
  if (typeof previous?.outputVersion === 'string') out.outputVersion = previous.outputVersion;
  if (typeof previous?.pendingOutputVersion === 'string')
    out.pendingOutputVersion = previous.pendingOutputVersion;
  return out;
}
