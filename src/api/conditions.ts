// Condition types and reasons the operator writes. They are part of the public API: users,
// the gateway and `kubectl wait --for=condition=...` switch on them, so renaming one is a breaking
// change. Reasons are one CamelCase word (metav1.Condition rule); messages are for people.

export const ConditionType = {
  /**
   * Summary, computed in one place (readySummary in src/operator/reconcile-conditions.ts): True
   * when no other condition is False or Unknown and the workload is not Degraded — for a workload,
   * its worker is available and its workflow runs the current spec.
   */
  Ready: 'Ready',
  /** The spec passed every check (the operator's schema and the planner's own rules). */
  SpecValid: 'SpecValid',
  /** The compute pool the workload chose exists in InfraRules/default. */
  PoolResolved: 'PoolResolved',
  /** replicas.max is within the pool's maxReplicasPerWorkload. */
  ReplicasWithinLimit: 'ReplicasWithinLimit',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionReason = {
  /** The pool exists. */
  PoolFound: 'PoolFound',
  /** spec.scaling.pool (or the stock pool for worker.computeClass) is not in InfraRules/default. */
  ComputePoolNotFound: 'ComputePoolNotFound',
  /** InfraRules/default does not exist, so no pool can be resolved. */
  InfraRulesNotFound: 'InfraRulesNotFound',
  /** replicas.max fits under the pool's ceiling. */
  WithinPoolLimit: 'WithinPoolLimit',
  /** replicas.max is above the pool's maxReplicasPerWorkload. */
  ReplicasExceedPoolLimit: 'ReplicasExceedPoolLimit',
  /** The spec cannot be planned for a reason the schema does not catch. */
  InvalidSpec: 'InvalidSpec',
  /** A condition this one depends on is false, so it was not evaluated. */
  NotEvaluated: 'NotEvaluated',
  /** Objects are planned; the operator is applying them and waiting for the worker. */
  Progressing: 'Progressing',
  /** spec.paused is true: the worker is scaled to zero and no ScaledObject exists. */
  Paused: 'Paused',
  /** scaling.mode is disabled: the worker is scaled to zero and no ScaledObject exists. */
  ScalingDisabled: 'ScalingDisabled',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];
