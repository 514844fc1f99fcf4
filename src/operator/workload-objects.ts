// The Kubernetes objects a workload becomes: a pure function from a workload (Pipeline or
// Function), InfraRules/default and the operator settings to the objects that should exist and the
// conditions to report. No clock, no I/O, no exceptions on schema-valid input; the reconcile pass
// (operator/reconcile/workload-planner.ts) adds them to its plan, the activity applies them with
// server-side apply, and reconcile/status.ts turns the conditions into the status write.
import type { V1OwnerReference } from '@kubernetes/client-node';
import { ConditionReason, ConditionType } from '../api/conditions.js';
import { API_VERSION, INFRA_RULES_NAME } from '../api/group.js';
import type { ComputePool } from '../api/infra-rules.js';
import type { Workload } from '../api/parse.js';
import { STOCK_POOL } from '../api/defaults.js';
import { workloadTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { workloadLabels } from './labels.js';
import { workloadObjectName } from './names.js';
import { workerDeployment, workerService } from './plan-pod.js';
import { scaledObject, triggerAuthentication } from './plan-keda.js';
import type {
  DesiredCondition,
  ObjectMetadata,
  ObjectRef,
  PlanInput,
  PlannedObject,
  WorkloadPlan,
} from './plan-types.js';
import type { OperatorSettings } from './settings.js';
import { autoscaledReplicas, type AutoscaledReplicas, type ObservedReplicas } from './replicas-handover.js';

export type * from './plan-types.js';

/** Every object kind the planner may create, so a plan can list the ones that must go. */
const MANAGED_KINDS: readonly Omit<ObjectRef, 'name'>[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'TriggerAuthentication' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
];

/**
 * Plan one workload.
 *
 * @example
 * const plan = planWorkloadObjects({ workload: fn, infraRules }, operatorSettings());
 * for (const obj of plan.apply) await apply(obj); // server-side apply, fieldManager layer-operator
 */
export function planWorkloadObjects(input: PlanInput, settings: OperatorSettings): WorkloadPlan {
  const w = input.workload;
  const namespace = w.metadata.namespace ?? 'default';
  const base = {
    kind: w.kind,
    namespace,
    name: w.metadata.name,
    taskQueue: workloadTaskQueue(w.kind, namespace, w.metadata.name),
  };
  const poolName = resolvePoolName(w);
  const blockedBy =
    specProblem(w) ?? poolProblem(poolName, input.infraRules) ?? limitProblem(w, poolName, input.infraRules);
  if (blockedBy !== undefined) {
    return { ...base, pool: poolName, apply: [], remove: [], blocked: true, conditions: blockedBy };
  }
  const pool = findPool(poolName, input.infraRules) as ComputePool; // poolProblem proved it exists
  const replicas = deploymentReplicas(w, input.deployment);
  const apply = desiredObjects(w, pool, namespace, settings, replicas.declare);
  const objectName = workloadObjectName(w.kind, w.metadata.name);
  return {
    ...base,
    pool: pool.name,
    apply,
    ...(replicas.handover !== undefined
      ? {
          replicasHandover: {
            apiVersion: 'apps/v1' as const,
            kind: 'Deployment' as const,
            metadata: { name: objectName, namespace },
            spec: { replicas: replicas.handover },
          },
        }
      : {}),
    remove: absentObjects(apply, objectName),
    blocked: false,
    conditions: [
      {
        type: ConditionType.PoolResolved,
        status: 'True',
        reason: ConditionReason.PoolFound,
        message: `pool ${pool.name}`,
      },
      {
        type: ConditionType.ReplicasWithinLimit,
        status: 'True',
        reason: ConditionReason.WithinPoolLimit,
        message: `replicas.max ${w.spec.scaling.replicas.max} <= ${pool.maxReplicasPerWorkload} (pool ${pool.name})`,
      },
    ],
  };
}

/**
 * The pool a workload runs on: spec.scaling.pool, else the stock pool for worker.computeClass,
 * else the stock cpu pool.
 */
export function resolvePoolName(w: Workload): string {
  if (w.spec.scaling.pool) return w.spec.scaling.pool;
  return w.spec.worker.computeClass === 'gpu' ? STOCK_POOL.gpu : STOCK_POOL.cpu;
}

/**
 * The replicas the Deployment declares (undefined: left out, KEDA holds them) and, for an
 * autoscaled one, the hand-over apply that keeps the field when the operator lets go of it.
 */
function deploymentReplicas(w: Workload, observed: ObservedReplicas | undefined): AutoscaledReplicas {
  if (w.spec.paused) return { declare: 0 };
  switch (w.spec.scaling.mode) {
    case 'disabled':
      return { declare: 0 };
    case 'fixed':
      return { declare: w.spec.scaling.replicas.min };
    case 'autoscale':
      // Declaring replicas while KEDA's HPA also sets them would make the two fight on every
      // pass; leaving them out the first time would reset them to 1 (docs/adr/0128).
      return autoscaledReplicas(w.spec.scaling.replicas.min, observed);
  }
}

/** Whether a ScaledObject (and its TriggerAuthentication) should exist. */
function isAutoscaled(w: Workload): boolean {
  return !w.spec.paused && w.spec.scaling.mode === 'autoscale';
}

function desiredObjects(
  w: Workload,
  pool: ComputePool,
  namespace: string,
  settings: OperatorSettings,
  replicas: number | undefined,
): PlannedObject[] {
  const meta = objectMetadata(w, namespace);
  const objects: PlannedObject[] = [workerDeployment(w, meta, replicas, pool, settings)];
  if (w.spec.worker.dispatch === 'push') objects.push(workerService(w, cloneMeta(meta)));
  if (isAutoscaled(w)) {
    const auth = triggerAuthentication(cloneMeta(meta), settings);
    if (auth) objects.push(auth);
    objects.push(scaledObject(w, cloneMeta(meta), meta.name, auth, settings));
  }
  return objects;
}

/** Metadata shared by every object of a workload: one name, labels, and the owner reference. */
function objectMetadata(w: Workload, namespace: string): ObjectMetadata {
  const meta: ObjectMetadata = {
    name: workloadObjectName(w.kind, w.metadata.name),
    namespace,
    labels: workloadLabels(w.kind, w.metadata.name),
  };
  const owner = ownerReference(w);
  if (owner) meta.ownerReferences = [owner];
  return meta;
}

/**
 * Controller owner reference, so deleting the CR garbage-collects its objects. Needs the CR's
 * uid, which only the apiserver assigns; a CR read from a file has none and gets no reference.
 */
export function ownerReference(w: Workload): V1OwnerReference | undefined {
  if (!w.metadata.uid) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: w.kind,
    name: w.metadata.name,
    uid: w.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function cloneMeta(meta: ObjectMetadata): ObjectMetadata {
  return JSON.parse(JSON.stringify(meta)) as ObjectMetadata;
}

function absentObjects(apply: readonly PlannedObject[], name: string): ObjectRef[] {
  return MANAGED_KINDS.filter((k) => !apply.some((o) => o.kind === k.kind)).map((k) => ({ ...k, name }));
}

function findPool(name: string, infraRules: PlanInput['infraRules']): ComputePool | undefined {
  return infraRules?.spec.computePools.find((p) => p.name === name);
}

/** Conditions that block planning for reasons the schema cannot express, or undefined. */
function specProblem(w: Workload): DesiredCondition[] | undefined {
  // The schema refuses this too; checked again because the planner is also fed objects that were
  // never parsed (tests, future callers), and a plan must never produce a half-valid Function.
  if (w.kind === 'Function' && w.spec.output.kind === 'embedding' && w.spec.output.dim === undefined) {
    return blocked(
      ConditionReason.InvalidSpec,
      'spec.output.dim is required when spec.output.kind is embedding; set it to the vector length',
    );
  }
  return undefined;
}

function poolProblem(poolName: string, infraRules: PlanInput['infraRules']): DesiredCondition[] | undefined {
  if (infraRules === undefined) {
    return [
      {
        type: ConditionType.PoolResolved,
        status: 'False',
        reason: ConditionReason.InfraRulesNotFound,
        message: `InfraRules/${INFRA_RULES_NAME} does not exist, so pool ${poolName} cannot be resolved; create it (Helm: operator.infraRules.create=true)`,
      },
      notEvaluated(ConditionType.ReplicasWithinLimit),
    ];
  }
  const pool = findPool(poolName, infraRules);
  if (pool === undefined) {
    const names = infraRules.spec.computePools.map((p) => p.name);
    const message =
      `compute pool ${poolName} is not in InfraRules/${INFRA_RULES_NAME}; ` +
      (names.length > 0 ? `existing pools: ${names.join(', ')}` : 'it has no pools') +
      '. Set spec.scaling.pool to an existing pool or add the pool to InfraRules/default.';
    return [
      {
        type: ConditionType.PoolResolved,
        status: 'False',
        reason: ConditionReason.ComputePoolNotFound,
        message,
      },
      notEvaluated(ConditionType.ReplicasWithinLimit),
    ];
  }
  return undefined;
}

function limitProblem(
  w: Workload,
  poolName: string,
  infraRules: PlanInput['infraRules'],
): DesiredCondition[] | undefined {
  const pool = findPool(poolName, infraRules);
  const max = w.spec.scaling.replicas.max;
  if (pool === undefined || max <= pool.maxReplicasPerWorkload) return undefined;
  const message =
    `replicas.max ${max} is above pool ${pool.name}'s maxReplicasPerWorkload ${pool.maxReplicasPerWorkload}; ` +
    `lower spec.scaling.replicas.max to at most ${pool.maxReplicasPerWorkload} or raise the pool ceiling in InfraRules/${INFRA_RULES_NAME}`;
  return [
    {
      type: ConditionType.PoolResolved,
      status: 'True',
      reason: ConditionReason.PoolFound,
      message: `pool ${pool.name}`,
    },
    {
      type: ConditionType.ReplicasWithinLimit,
      status: 'False',
      reason: ConditionReason.ReplicasExceedPoolLimit,
      message,
    },
  ];
}

/** A spec the planner refuses: SpecValid False (the reconcile's schema check writes True first). */
function blocked(reason: ConditionReason, message: string): DesiredCondition[] {
  return [{ type: ConditionType.SpecValid, status: 'False', reason, message }];
}

function notEvaluated(type: ConditionType): DesiredCondition {
  return {
    type,
    status: 'Unknown',
    reason: ConditionReason.NotEvaluated,
    message: 'the compute pool is not resolved',
  };
}
