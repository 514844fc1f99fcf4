// Function and Pipeline: the objects to apply and prune, what to tell the engine (sync, stop, or
// leave it), output ownership (ADR 0070), the worker's availability, and the status draft. Pure.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import type { InfraRules } from '../../api/infra-rules.js';
import type { LayerIndex } from '../../api/index-resource.js';
import { parseKind, type Workload } from '../../api/parse.js';
import type { VectorStore } from '../../api/vector-store.js';
import type { WorkloadKind } from '../../../packages/worker/src/contracts/names.js';
import { hasFinalizer } from '../finalizer.js';
import { resolveTargetNamespaces } from '../index-selector.js';
import { conflictMessage, outputConflict, type OutputClaim } from '../output-ownership.js';
import { planWorkloadObjects } from '../workload-objects.js';
import type { ObjectRef } from '../plan-types.js';
import { type ConditionInput } from '../reconcile-conditions.js';
import type { EngineAction, ObservedState, RawObject, ReconcilePlan } from '../reconcile-types.js';
import { pipelineRuntimeSpecProblems, toPipelineRuntimeSpec } from '../pipeline-runtime-spec.js';
import { runtimeSpecProblems, toFunctionRuntimeSpec } from '../runtime-spec.js';
import { outputVersionFields, syncOrHold, type OutputVersionPass } from '../output-version-hold.js';
import type { FunctionRuntimeSpec } from '../../contracts/function.js';
import { workerAvailability, workerImage } from '../worker-availability.js';
import { withVectorStore, type OperatorSettings } from '../settings.js';
import {
  type PlanReconcileInput,
  forParsing,
  hintOf,
  invalidStatus,
  parseOptional,
  valid,
  validConditions,
} from './planner-parts.js';

export function planWorkloadPass(input: PlanReconcileInput, kind: WorkloadKind): ReconcilePlan {
  const { observed } = input;
  const { namespace: k8sNamespace = 'default', name } = observed.ref;
  const owned = observed.owned ?? [];
  const obj = observed.object;
  const stop: EngineAction = { action: 'stop', kind, namespace: k8sNamespace, name };
  if (obj === null) {
    // Already gone (deleted without our finalizer, or never existed): clean up by label.
    return { outcome: 'gone', finalizer: 'none', apply: [], remove: owned, engine: stop };
  }
  if (obj.metadata?.deletionTimestamp) {
    return {
      outcome: 'deleting',
      finalizer: hasFinalizer(obj) ? 'remove' : 'none',
      apply: [],
      remove: owned,
      engine: stop,
    };
  }
  const finalizer = hasFinalizer(obj) ? 'none' : 'add';
  const parsed = parseKind(kind, forParsing(obj));
  if (!parsed.ok) {
    return {
      outcome: 'invalid',
      finalizer,
      apply: [],
      remove: [],
      engine: { action: 'none' },
      status: invalidStatus(obj, parsed.error.message, hintOf(parsed.error)),
    };
  }
  const w = parsed.resource as Workload;
  const settings = settingsFor(input.settings, observed.defaultVectorStore);
  const infraRules = parseOptional('InfraRules', observed.infraRules) as InfraRules | undefined;
  const seenDeployment = observed.worker?.deployment;
  const plan = planWorkloadObjects(
    {
      workload: w,
      infraRules,
      deployment: seenDeployment && {
        replicas: seenDeployment.desiredReplicas,
        managers: seenDeployment.replicasManagers ?? [],
      },
    },
    settings,
  );

  const extra: ConditionInput[] = [];
  let targets: string[] = [];
  let conflict: string | undefined;
  if (w.kind === 'Function') {
    const t = functionTargets(w, observed.indexes ?? []);
    targets = t.namespaces;
    extra.push(t.condition);
    conflict = outputConflictOf(w, targets, observed);
  }
  extra.unshift(
    conflict === undefined
      ? valid()
      : {
          type: ConditionType.SpecValid,
          status: 'False',
          reason: ConditionReason.OutputConflict,
          message: conflict,
        },
  );
  // A refused Function's workflow is stopped: it must not write (or clean up) another's attributes.
  const blocked = plan.blocked || conflict !== undefined;
  let engine: EngineAction = { action: 'none' };
  // Function: the spec it would run, and what status records of the output version it was given.
  let functionSpec: FunctionRuntimeSpec | undefined;
  let versions: OutputVersionPass = 'untouched';
  if (conflict !== undefined) {
    engine = stop;
    extra.push({
      type: ConditionType.WorkflowReady,
      status: 'False',
      reason: ConditionReason.OutputConflict,
      message: 'the workflow is stopped while another Function owns the output attribute',
    });
  } else if (plan.blocked) {
    extra.push({
      type: ConditionType.WorkflowReady,
      status: 'Unknown',
      reason: ConditionReason.WorkflowNotStarted,
      message: 'the workflow is left as it was while the plan is blocked',
    });
  } else {
    const sync: Extract<EngineAction, { action: 'sync' }> =
      w.kind === 'Function'
        ? { action: 'sync', kind: 'Function', spec: toFunctionRuntimeSpec(w, targets) }
        : { action: 'sync', kind: 'Pipeline', spec: toPipelineRuntimeSpec(w) };
    const problems =
      sync.kind === 'Function' ? runtimeSpecProblems(sync.spec) : pipelineRuntimeSpecProblems(sync.spec);
    if (problems.length > 0) {
      extra.push({
        type: ConditionType.WorkflowReady,
        status: 'False',
        reason: ConditionReason.EngineRejectedSpec,
        message: `the ${sync.kind} engine refuses this spec: ${problems.join('; ')}`,
      });
    } else if (sync.kind === 'Function') {
      functionSpec = sync.spec;
      versions = syncOrHold(obj.status, {
        desired: sync.spec.output.version,
        plannedImage: plannedWorkerImage(plan.apply),
        deployment: observed.worker?.deployment,
      });
      if ('held' in versions) {
        // The whole spec waits, not only its version: a filter names the version its rows carry
        // (tags_v NotEq v2), and would make the old version recompute every row (ADR 0124).
        extra.push({
          type: ConditionType.WorkflowReady,
          status: 'Unknown',
          reason: ConditionReason.WaitingForWorkerRollout,
          message: versions.message,
        });
      } else engine = sync;
    } else engine = sync;
  }

  const previous = obj.status;
  const remove = blocked ? [] : unplanned(owned, plan.apply, plan.remove);
  // The worker's availability is judged from the Deployment and pods observed before this pass.
  // A Deployment this very pass creates is judged as just created (0 available), so the next pass
  // — which observes it — has nothing new to write.
  const seen = observed.worker ?? { podProblems: [] };
  const created = seen.deployment ? undefined : plan.apply.find((o) => o.kind === 'Deployment');
  const createdReplicas = (created?.spec as { replicas?: number } | undefined)?.replicas;
  const workerSeen = created
    ? {
        ...seen,
        deployment: {
          desiredReplicas: createdReplicas ?? 1,
          availableReplicas: 0,
          progressDeadlineExceeded: false,
          rolledOut: true,
        },
      }
    : seen;
  const worker = blocked
    ? []
    : [workerAvailability({ paused: w.spec.paused, scalingMode: w.spec.scaling.mode }, workerSeen)];
  // A paused Function is planned before it runs: the pass counts its rows (status.plan).
  // Counted from the spec as written even while it waits for a rollout (a paused Function's pods
  // go within their grace period, so the wait is short).
  const rowPlan =
    w.kind === 'Function' && w.spec.paused && functionSpec
      ? {
          spec: functionSpec,
          maxWorkers: w.spec.scaling.replicas?.max ?? 1,
          ...rowPlanRate(obj),
          ...costOf(infraRules, plan.pool),
        }
      : undefined;
  return {
    outcome: blocked ? 'blocked' : 'applied',
    finalizer,
    apply: blocked ? [] : plan.apply,
    ...(!blocked && plan.replicasHandover ? { replicasHandover: plan.replicasHandover } : {}),
    remove,
    engine,
    ...(rowPlan ? { rowPlan } : {}),
    status: {
      previous,
      uid: obj.metadata?.uid,
      generation: obj.metadata?.generation,
      previousConditions: validConditions(previous),
      conditions: [...extra, ...plan.conditions, ...worker],
      readyMessage: w.spec.paused
        ? 'paused as asked: the worker runs 0 replicas and the workflow dispatches nothing'
        : 'the worker is available and the workflow runs the current spec',
      workload: true,
      fields: {
        pool: plan.pool,
        taskQueue: plan.taskQueue,
        ...(w.kind === 'Function' ? outputVersionFields(previous, versions) : {}),
        // A blocked plan applies and deletes nothing, so what existed before still exists.
        managedObjects: blocked
          ? ((previous?.managedObjects as unknown[] | undefined) ?? [])
          : plan.apply.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name })),
      },
    },
  };
}

/** The worker image of the Deployment a plan applies. */
function plannedWorkerImage(apply: ReconcilePlan['apply']): string | undefined {
  const d = apply.find((o) => o.kind === 'Deployment');
  return workerImage(
    (d?.spec as { template?: { spec?: Parameters<typeof workerImage>[0] } } | undefined)?.template?.spec,
  );
}

/** Annotation giving the per-call rate (rows/s) a paused Function's plan estimates with. */
export const PLAN_RATE_ANNOTATION = 'hevlayer.com/plan-rows-per-second';

function rowPlanRate(obj: RawObject): { rowsPerSecondPerCall?: number } {
  const raw = obj.metadata?.annotations?.[PLAN_RATE_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? { rowsPerSecondPerCall: n } : {};
}

function costOf(rules: InfraRules | undefined, pool: string): { costPerHour?: number } {
  const hint = rules?.spec.computePools.find((p) => p.name === pool)?.costPerHour;
  return hint !== undefined ? { costPerHour: hint } : {};
}

/** Owned objects that are not planned, plus planned-absent kinds that exist (by kind and name). */
function unplanned(
  owned: readonly ObjectRef[],
  apply: ReconcilePlan['apply'],
  absent: readonly ObjectRef[],
): ObjectRef[] {
  const planned = new Set(apply.map((o) => `${o.kind}/${o.metadata.name}`));
  const out = owned.filter((o) => !planned.has(`${o.kind}/${o.name}`));
  for (const a of absent) {
    if (
      !out.some((o) => o.kind === a.kind && o.name === a.name) &&
      owned.some((o) => o.kind === a.kind && o.name === a.name)
    )
      out.push(a);
  }
  return out;
}

function functionTargets(
  fn: Extract<Workload, { kind: 'Function' }>,
  rawIndexes: readonly RawObject[],
): { namespaces: string[]; condition: ConditionInput } {
  if (fn.spec.indexSelector === undefined) {
    const namespaces = [...(fn.spec.targetNamespaces ?? [])];
    return {
      namespaces,
      condition: {
        type: ConditionType.TargetsResolved,
        status: 'True',
        reason: ConditionReason.ExplicitTargets,
        message: `targetNamespaces: ${namespaces.join(', ')}`,
      },
    };
  }
  const indexes = rawIndexes.flatMap((r) => {
    const p = parseKind('Index', forParsing(r));
    return p.ok ? [p.resource as LayerIndex] : [];
  });
  const namespaces = resolveTargetNamespaces(fn.spec.indexSelector, indexes);
  return {
    namespaces,
    condition:
      namespaces.length > 0
        ? {
            type: ConditionType.TargetsResolved,
            status: 'True',
            reason: ConditionReason.TargetsFound,
            message: `indexSelector matched namespaces: ${namespaces.join(', ')}`,
          }
        : {
            type: ConditionType.TargetsResolved,
            status: 'False',
            reason: ConditionReason.NoMatchingIndexes,
            message: `indexSelector matches no Index in namespace ${fn.metadata.namespace ?? 'default'}; label an Index to match it`,
          },
  };
}

/** Why this Function may not write its output attribute (an older Function owns it), or undefined. */
function outputConflictOf(
  fn: Extract<Workload, { kind: 'Function' }>,
  targets: readonly string[],
  observed: ObservedState,
): string | undefined {
  const me: OutputClaim = {
    namespace: fn.metadata.namespace ?? 'default',
    name: fn.metadata.name,
    creationTimestamp: observed.object?.metadata?.creationTimestamp,
    storeNamespaces: targets,
    attribute: fn.spec.output.attribute,
  };
  const others = (observed.functions ?? []).flatMap((raw): OutputClaim[] => {
    if (raw.metadata?.deletionTimestamp) return [];
    const p = parseKind('Function', forParsing(raw));
    if (!p.ok) return [];
    const other = p.resource as Extract<Workload, { kind: 'Function' }>;
    const ns = other.metadata.namespace ?? 'default';
    const indexes = (observed.allIndexes ?? []).filter((i) => (i.metadata?.namespace ?? 'default') === ns);
    return [
      {
        namespace: ns,
        name: other.metadata.name,
        creationTimestamp: raw.metadata?.creationTimestamp,
        storeNamespaces: functionTargets(other, indexes).namespaces,
        attribute: other.spec.output.attribute,
      },
    ];
  });
  const c = outputConflict(me, others);
  return c ? conflictMessage(me, c) : undefined;
}

function settingsFor(settings: OperatorSettings, rawStore: RawObject | null | undefined): OperatorSettings {
  const store = parseOptional('VectorStore', rawStore) as VectorStore | undefined;
  return store ? withVectorStore(settings, store) : settings;
}
