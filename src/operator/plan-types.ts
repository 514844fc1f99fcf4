// Shapes the planner produces. Kubernetes objects are plain JSON (what server-side apply sends),
// typed with @kubernetes/client-node's interfaces where they exist.
import type { ObservedReplicas } from './replicas-handover.js';
import type { V1Deployment, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import type { ComputePool } from '../api/infra-rules.js';
import type { Workload } from '../api/parse.js';
import type { ConditionReason, ConditionType } from '../api/conditions.js';
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';

/** KEDA ScaledObject (keda.sh/v1alpha1), only the fields we set. */
export interface ScaledObject {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'ScaledObject';
  metadata: ObjectMetadata;
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    pollingInterval: number;
    cooldownPeriod: number;
    /** The HPA KEDA creates: how it scales in (scale-in drains, docs/adr/0103). */
    advanced?: {
      horizontalPodAutoscalerConfig: {
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: number;
            policies: { type: 'Pods'; value: number; periodSeconds: number }[];
          };
        };
      };
    };
    triggers: ScaledObjectTrigger[];
  };
}

/** One KEDA trigger: the orchestrator's queue depth, or a source's backlog (src/operator/plan-source-lag.ts). */
export interface ScaledObjectTrigger {
  type: 'metrics-api' | 'external-push' | 'aws-sqs-queue' | 'kafka';
  name: string;
  metricType: 'AverageValue';
  /** KEDA trigger metadata values are all strings. */
  metadata: Record<string, string>;
  authenticationRef?: { name: string; kind: 'TriggerAuthentication' };
}

/** KEDA TriggerAuthentication: the bearer Secret for the metrics-api trigger. */
export interface TriggerAuthentication {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'TriggerAuthentication';
  metadata: ObjectMetadata;
  spec: { secretTargetRef: { parameter: 'bearerToken'; name: string; key: string }[] };
}

/** Metadata every planned object carries. */
export interface ObjectMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Omitted only when the owner has no uid yet (a CR rendered from a file, not the cluster). */
  ownerReferences?: V1OwnerReference[];
}

export type PlannedDeployment = V1Deployment & {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMetadata;
};
export type PlannedService = V1Service & { apiVersion: 'v1'; kind: 'Service'; metadata: ObjectMetadata };
export type PlannedObject = PlannedDeployment | PlannedService | ScaledObject | TriggerAuthentication;

/** Only spec.replicas of a Deployment, for the hand-over field manager's apply. */
export interface ReplicasHandover {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: { name: string; namespace: string };
  spec: { replicas: number };
}

/** Reference to an object by type and name (namespace is the workload's). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
}

/** A condition without its timestamp; buildStatus adds lastTransitionTime. */
export interface DesiredCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: ConditionReason;
  message: string;
}

/** Everything the operator should make true for one workload. */
export interface WorkloadPlan {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** Objects to server-side apply, in apply order (auth before the ScaledObject that uses it). */
  apply: PlannedObject[];
  /**
   * Managed objects that must not exist (e.g. the ScaledObject after switching to fixed). Empty when
   * the spec is blocked: a policy mistake leaves running workers alone instead of deleting them.
   */
  remove: ObjectRef[];
  conditions: DesiredCondition[];
  /** True when the spec cannot be planned (unknown pool, over the pool ceiling, invalid spec). */
  blocked: boolean;
  /**
   * Applied after `apply` by the hand-over field manager: the autoscaled Deployment's replicas,
   * so the operator can leave the field out next pass without the apiserver resetting it to 1
   * (src/operator/replicas-handover.ts, docs/adr/0128).
   */
  replicasHandover?: ReplicasHandover;
  /** Pool the workload resolved to (or asked for, when missing). */
  pool: string;
  taskQueue: string;
}

/** Inputs to planWorkloadObjects. */
export interface PlanInput {
  workload: Workload;
  /** InfraRules/default, or undefined when it does not exist. */
  infraRules: { spec: { computePools: ComputePool[] } } | undefined;
  /** The worker Deployment's replicas and their owners; undefined when it does not exist (yet). */
  deployment?: ObservedReplicas | undefined;
}
