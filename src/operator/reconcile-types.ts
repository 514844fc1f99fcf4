// Plain-JSON shapes that flow between the reconcile workflow's activities (and so through
// Temporal history). None of them may carry a credential: Secrets are read inside activities and
// only their existence and the outcome of a store call leave them.
import type { Condition } from '../api/common.js';
import type { FunctionRuntimeSpec } from '../contracts/function.js';
import type { PipelineRuntimeSpec } from '../contracts/pipeline.js';
import type { ReconcileRef } from '../contracts/reconcile.js';
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import type { ObjectRef, PlannedObject, ReplicasHandover } from './plan-types.js';
import type { ConditionInput } from './reconcile-conditions.js';
import type { WorkerObservation } from './worker-availability.js';

/** A Kubernetes object as the apiserver returned it, untyped. */
export type RawObject = Record<string, unknown> & {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  status?: Record<string, unknown>;
};

/** Everything one pass needs to know, read by the observe activity. */
export interface ObservedState {
  ref: ReconcileRef;
  /** The object, or null when it does not exist (deleted, never created). */
  object: RawObject | null;
  /** InfraRules/default (workloads only; null when missing). */
  infraRules?: RawObject | null;
  /** The operator's objects that exist for this workload (found by label). */
  owned?: ObjectRef[];
  /** Workloads: what the worker's Deployment and pods report (there is no other witness). */
  worker?: WorkerObservation;
  /** Index CRs: the Function's namespace (indexSelector), or the whole cluster (Index uniqueness). */
  indexes?: RawObject[];
  /** Function: every Function in the cluster that may write its output attribute (ADR 0070, 0114). */
  functions?: RawObject[];
  /** Function: every Index in the cluster, when another Function selects its targets by label. */
  allIndexes?: RawObject[];
  /** Index: names of the VectorStores in its namespace. */
  vectorStores?: string[];
  /** The default VectorStore the operator is configured with (its inbound auth shapes the plan). */
  defaultVectorStore?: RawObject | null;
}

/** Outcome of the VectorStore probe: conditions only, never the credential. */
export interface StoreProbe {
  credential: ConditionInput;
  endpoint: ConditionInput;
  /** keys mode only: the Secret key workers and KEDA send as their bearer exists. */
  workerKey?: ConditionInput;
}

/** What to tell the workload engine. */
export type EngineAction =
  | { action: 'none' }
  | { action: 'sync'; kind: 'Function'; spec: FunctionRuntimeSpec }
  | { action: 'sync'; kind: 'Pipeline'; spec: PipelineRuntimeSpec }
  | { action: 'stop'; kind: WorkloadKind; namespace: string; name: string };

/** The status write of one pass, before the engine's condition is folded in. */
export interface StatusDraft {
  previous: Record<string, unknown> | undefined;
  /** The object's uid: Events name it (kubectl describe matches on it). */
  uid?: string | undefined;
  generation: number | undefined;
  conditions: ConditionInput[];
  /** Fields besides observedGeneration and conditions (pool, taskQueue, managedObjects, pools). */
  fields: Record<string, unknown>;
  /** Previous conditions (already filtered to valid ones). */
  previousConditions: Condition[];
  /** Message of Ready=True when the summary is computed from the other conditions. */
  readyMessage: string;
  /** Workloads: Degraded is written, and the engine's phase and pending rows (printer columns). */
  workload?: boolean;
}

export type ReconcileOutcome = 'gone' | 'deleting' | 'invalid' | 'blocked' | 'applied';

/** The pure plan of one pass. */
export interface ReconcilePlan {
  outcome: ReconcileOutcome;
  finalizer: 'add' | 'remove' | 'none';
  apply: PlannedObject[];
  /** After `apply`, by the hand-over field manager: an autoscaled Deployment's replicas (ADR 0128). */
  replicasHandover?: ReplicasHandover;
  /** Objects to delete (namespace is the ref's). */
  remove: ObjectRef[];
  engine: EngineAction;
  /** Absent when the object is gone or being deleted (nothing to write). */
  status?: StatusDraft;
  /** A paused Function: count its rows and write status.plan (src/operator/function-plan.ts). */
  rowPlan?: {
    spec: FunctionRuntimeSpec;
    maxWorkers: number;
    /** From the hevlayer.com/plan-rows-per-second annotation. */
    rowsPerSecondPerCall?: number;
    /** The pool's costPerHour hint. */
    costPerHour?: number;
  };
}

/** What the engine reports back: one condition for the workload's status. */
export interface EngineResult {
  condition: ConditionInput;
  /** What the engine's status query said, when it was asked this pass. */
  workload?: EngineWorkloadStatus;
}

export interface EngineWorkloadStatus {
  /** The workflow's phase: running, paused, degraded, … */
  phase: string;
  /** Rows (Functions) or items (Pipelines) still to do. */
  pendingRows: number;
  /** Set while the engine pauses dispatch for a systemic fault (ADR 0011). */
  degraded?: { reason: string; message: string; hint: string };
}
