// Who sets an autoscaled Deployment's spec.replicas (docs/adr/0128). KEDA and its HPA own it once
// they act, so the operator's apply leaves it out — but an apply that leaves out a field only its
// own manager held removes it, and the apiserver then defaults it to 1. That started one worker pod
// for every new `min: 0` Function (a GPU pod, on a gpu pool) until KEDA's cooldown scaled it back,
// and again on every unpause. The fix is Kubernetes' documented hand-over: the operator declares
// the replicas it wants while it holds the field, a second field manager applies the same value on
// its own, and the next pass leaves the field out — the second manager keeps it until KEDA or the
// HPA writes it. Pure: the planner calls it with what observe read from managedFields.
import { OPERATOR_FIELD_MANAGER } from '../api/group.js';

/** The field manager that holds spec.replicas between the operator letting go and KEDA taking it. */
export const REPLICAS_HANDOVER_FIELD_MANAGER = 'layer-operator-replicas';

/** What observe read of the Deployment: its spec.replicas and the managers that own it. */
export interface ObservedReplicas {
  replicas: number;
  /** managedFields entries whose fields include spec.replicas (their `manager` names). */
  managers: readonly string[];
}

export interface AutoscaledReplicas {
  /** spec.replicas in the operator's own apply; undefined: left out (someone else holds it). */
  declare?: number;
  /** spec.replicas the hand-over manager applies after the operator's apply. */
  handover?: number;
}

/**
 * @example autoscaledReplicas(0, undefined) // { declare: 0, handover: 0 }: created at min, no pod
 * @example autoscaledReplicas(0, { replicas: 3, managers: ['keda'] }) // {}: KEDA holds it
 */
export function autoscaledReplicas(min: number, observed: ObservedReplicas | undefined): AutoscaledReplicas {
  // Created now: at the minimum, never at the apiserver's default of 1.
  if (observed === undefined) return { declare: min, handover: min };
  const operatorHolds = observed.managers.includes(OPERATOR_FIELD_MANAGER);
  const handoverHolds = observed.managers.includes(REPLICAS_HANDOVER_FIELD_MANAGER);
  // The operator alone holds it (just created, or paused / fixed until now): keep today's value
  // and share it, so that leaving it out next pass does not reset it.
  if (operatorHolds && !handoverHolds) return { declare: observed.replicas, handover: observed.replicas };
  // Shared, or held by KEDA / the HPA: leave it out.
  return {};
}
