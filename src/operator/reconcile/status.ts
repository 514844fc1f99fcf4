// The status a pass writes, once the engine answered: the planner's conditions plus the engine's,
// Degraded and Ready derived from them, merged with the stored conditions (lastTransitionTime
// moves only on a flip), and whether anything differs from what is stored. Pure: the clock is an
// argument.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import { mergeConditions, readySummary, type ConditionInput } from '../reconcile-conditions.js';
import type { EngineResult, StatusDraft } from '../reconcile-types.js';
import { keptOutputVersionFields } from '../output-version-hold.js';
import { WorkerConditionType, WorkerReason } from '../worker-availability.js';

/**
 * The status to write after the engine answered, and whether it differs from what is stored (a
 * pass that changes nothing writes nothing, so status writes cannot feed a hot loop).
 */
export function finalStatus(
  draft: StatusDraft,
  engine: EngineResult | undefined,
  now: string,
): { status: Record<string, unknown>; changed: boolean } {
  const desired = [...draft.conditions, ...(engine ? [engine.condition] : [])].filter(
    (c) => c.type !== ConditionType.Ready && c.type !== ConditionType.Degraded,
  );
  const fields: Record<string, unknown> = { ...draft.fields };
  const extra: ConditionInput[] = [];
  let degraded: ConditionInput | undefined;
  if (draft.workload) {
    degraded = degradedCondition(desired, engine);
    extra.push(degraded);
    // Printer columns (kubectl get functions): the engine's phase and pending work, as last seen.
    const seen = engine?.workload ?? keptWorkloadFields(draft.previous);
    if (seen?.phase !== undefined) fields.phase = seen.phase;
    if (seen?.pendingRows !== undefined) fields.pendingRows = seen.pendingRows;
    // The workflow still runs the version it ran if it never got this pass's spec (ADR 0124).
    if ('outputVersion' in draft.fields && specNotTaken(engine)) {
      delete fields.outputVersion;
      delete fields.pendingOutputVersion;
      Object.assign(fields, keptOutputVersionFields(draft.previous));
    }
  }
  const ready =
    degraded?.status === 'True'
      ? {
          type: ConditionType.Ready,
          status: 'False' as const,
          reason: degraded.reason,
          message: degraded.message,
        }
      : readySummary(desired, draft.readyMessage);
  const conditions = mergeConditions(
    draft.previousConditions,
    [...desired, ...extra, ready],
    now,
    draft.generation,
  );
  const status: Record<string, unknown> = {
    ...fields,
    ...(draft.generation !== undefined ? { observedGeneration: draft.generation } : {}),
    conditions,
  };
  return { status, changed: canonical(status) !== canonical(draft.previous ?? {}) };
}

/**
 * Degraded (negative polarity: True is bad): the engine pauses dispatch for a systemic fault (its
 * phase is degraded, ADR 0011), the engine cannot be asked at all, or the worker crash-loops or
 * cannot pull its image.
 */
function degradedCondition(
  desired: readonly ConditionInput[],
  engine: EngineResult | undefined,
): ConditionInput {
  const d = engine?.workload?.degraded;
  if (d)
    return {
      type: ConditionType.Degraded,
      status: 'True',
      reason: d.reason,
      message: `${d.message} — ${d.hint}`,
    };
  // The engine did not answer: nothing tells whether rows move, so say so rather than Ready.
  if (engine?.condition.reason === ConditionReason.EngineUnavailable)
    return {
      type: ConditionType.Degraded,
      status: 'True',
      reason: ConditionReason.EngineUnavailable,
      message: engine.condition.message,
    };
  const worker = desired.find(
    (c) =>
      c.type === WorkerConditionType &&
      (c.reason === WorkerReason.CrashLoop || c.reason === WorkerReason.ImagePullBackOff),
  );
  if (worker)
    return {
      type: ConditionType.Degraded,
      status: 'True',
      reason: worker.reason,
      message: worker.message,
    };
  return {
    type: ConditionType.Degraded,
    status: 'False',
    reason: ConditionReason.NotDegraded,
    message: 'no systemic fault and no failing worker pod',
  };
}

/** The engine was not asked (the apply failed), could not be asked, or refused the spec. */
function specNotTaken(engine: EngineResult | undefined): boolean {
  const reason = engine?.condition.reason;
  return (
    reason === ConditionReason.ApplyFailed ||
    reason === ConditionReason.EngineUnavailable ||
    reason === ConditionReason.EngineRejectedSpec
  );
}

function keptWorkloadFields(previous: Record<string, unknown> | undefined): {
  phase?: string;
  pendingRows?: number;
} {
  return {
    ...(typeof previous?.phase === 'string' ? { phase: previous.phase } : {}),
    ...(typeof previous?.pendingRows === 'number' ? { pendingRows: previous.pendingRows } : {}),
  };
}

/** JSON with sorted keys, for change detection independent of key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
