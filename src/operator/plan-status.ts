// Status the operator writes for a workload: conditions from the plan, merged with the previous
// ones using metav1 SetStatusCondition rules (lastTransitionTime moves only when status flips).
import type { Condition } from '../api/common.js';

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
