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
  // Written by the reconcile pass beyond the planner's (src/operator/reconcile/).
  /** False when the pass could not apply the planned objects (the message quotes the apiserver). */
  Applied: 'Applied',
  /** Workloads, negative polarity: True while the engine is degraded or the worker fails. */
  Degraded: 'Degraded',
  /** The workload's Temporal workflow runs the current spec (or is paused as asked). */
  WorkflowReady: 'WorkflowReady',
  /** Function indexSelector resolved to Turbopuffer namespaces through Index labels. */
  TargetsResolved: 'TargetsResolved',
  /** VectorStore: the credential Secret and key exist. */
  CredentialResolved: 'CredentialResolved',
  /** VectorStore: a cheap call to the upstream store succeeded with the credential. */
  EndpointReachable: 'EndpointReachable',
  /** VectorStore in keys mode: the worker bearer's Secret and key exist (workers and KEDA send it). */
  WorkerKeyResolved: 'WorkerKeyResolved',
  /** Index: backend.storeRef names an existing VectorStore. */
  StoreResolved: 'StoreResolved',
  /** Index: no other Index claims the same Turbopuffer namespace. */
  NamespaceUnique: 'NamespaceUnique',
  /** InfraRules: documentCache is valid (reported with its envelope). */
  DocumentCacheValid: 'DocumentCacheValid',
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
  // Written by the reconcile pass beyond the planner's (src/operator/reconcile/).
  Valid: 'Valid',
  /** The CRD admitted the object but the operator's schema refuses it; the message quotes why. */
  SchemaInvalid: 'SchemaInvalid',
  WorkflowRunning: 'WorkflowRunning',
  WorkflowPaused: 'WorkflowPaused',
  /** The workflow was not started or updated because the plan is blocked. */
  WorkflowNotStarted: 'WorkflowNotStarted',
  /**
   * A new spec.output.version waits until the worker Deployment runs only pods of the planned
   * template: until then the workflow keeps the previous spec, so no old build computes the new
   * version (docs/adr/0124).
   */
  WaitingForWorkerRollout: 'WaitingForWorkerRollout',
  /**
   * The engine could not be asked (Temporal refused or timed out, or the workload's workflow did
   * not answer its status query — no orchestrator worker polls its task queue). Degraded.
   */
  EngineUnavailable: 'EngineUnavailable',
  /** The engine refused the spec (e.g. a value outside the engine's limits). */
  EngineRejectedSpec: 'EngineRejectedSpec',
  /** Server-side apply of the planned objects failed after retries. */
  ApplyFailed: 'ApplyFailed',
  NotDegraded: 'NotDegraded',
  TargetsFound: 'TargetsFound',
  NoMatchingIndexes: 'NoMatchingIndexes',
  ExplicitTargets: 'ExplicitTargets',
  SecretFound: 'SecretFound',
  SecretNotFound: 'SecretNotFound',
  SecretKeyMissing: 'SecretKeyMissing',
  Reachable: 'Reachable',
  Unreachable: 'Unreachable',
  CredentialRejected: 'CredentialRejected',
  NotChecked: 'NotChecked',
  StoreFound: 'StoreFound',
  StoreNotFound: 'StoreNotFound',
  DefaultStore: 'DefaultStore',
  Unique: 'Unique',
  DuplicateNamespace: 'DuplicateNamespace',
  /** SpecValid False: an older Function writes this output attribute in a shared store namespace (ADR 0070). */
  OutputConflict: 'OutputConflict',
  CacheValid: 'CacheValid',
  NoDocumentCache: 'NoDocumentCache',
  /** Summary reasons. */
  Ready: 'Ready',
  NotReady: 'NotReady',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];
