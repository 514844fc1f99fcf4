// Status the operator writes for a workload: conditions from the plan, merged with the previous
// ones using metav1 SetStatusCondition rules (lastTransitionTime moves only when status flips).
import type { Condition } from '../api/common.js';
import type { Workload } from '../api/parse.js';
import type { WorkloadStatus } from '../api/workload.js';
import type { DesiredCondition, WorkloadPlan } from './plan-types.js';

/**
 * Merge one desired condition into the previous list. Same semantics as apimachinery's
 * meta.SetStatusCondition, so the status write is skipped when nothing changed.
 */
export function setCondition(previous: readonly Condition[], desired: Condition): Condition[] {
  const existing = previous.find((c) => c.type === desired.type);
  if (existing === undefined) return [...previous, desired];
  const lastTransitionTime =
    existing.status === desired.status ? existing.lastTransitionTime : desired.lastTransitionTime;
  return previous.map((c) => (c.type === desired.type ? { ...desired, lastTransitionTime } : c));
}

/**
 * The status object for a workload after this plan. `now` is injected (RFC 3339) so the result is
 * a pure function of its inputs.
 */
export function buildStatus(w: Workload, plan: WorkloadPlan, now: string): WorkloadStatus {
  const generation = w.metadata.generation;
  let conditions: Condition[] = [...(w.status?.conditions ?? [])];
  for (const d of plan.conditions) conditions = setCondition(conditions, toCondition(d, now, generation));
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    pool: plan.pool,
    taskQueue: plan.taskQueue,
    // A blocked plan applies nothing and deletes nothing, so what existed before still exists.
    managedObjects: plan.blocked
      ? (w.status?.managedObjects ?? [])
      : plan.apply.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name })),
  };
}

function toCondition(d: DesiredCondition, now: string, generation: number | undefined): Condition {
  return {
    ...d,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: now,
  };
}
