// One reconcile pass, planned: a pure function from what the observe activity read (plus the
// VectorStore probe) and the operator settings to what to apply, delete, tell the engine and write
// to status. The reconcile workflow executes it; nothing here does I/O or reads a clock.
import { conditionSchema, type Condition } from '../api/common.js';
import { ConditionType } from '../api/conditions.js';
import type { InfraRules } from '../api/infra-rules.js';
import type { LayerIndex } from '../api/index-resource.js';
import { parseKind, type Workload } from '../api/parse.js';
import type { VectorStore } from '../api/vector-store.js';
import type { WorkloadKind } from '../contracts/names.js';
import { FINALIZER, hasFinalizer } from './finalizer.js';
import { indexNamespace, namespaceOwner, resolveTargetNamespaces } from './index-selector.js';
import { conflictMessage, outputConflict, type OutputClaim } from './output-ownership.js';
import { planWorkload } from './plan.js';
import type { ObjectRef } from './plan-types.js';
import {
  mergeConditions,
  OperatorConditionType,
  OperatorReason,
  readySummary,
  type ConditionInput,
} from './reconcile-conditions.js';
import type {
  EngineAction,
  EngineResult,
  ObservedState,
  RawObject,
  ReconcilePlan,
  StatusDraft,
  StoreProbe,
} from './reconcile-types.js';
import { pipelineRuntimeSpecProblems, toPipelineRuntimeSpec } from './pipeline-runtime-spec.js';
import { runtimeSpecProblems, toFunctionRuntimeSpec } from './runtime-spec.js';
import { WorkerConditionType, WorkerReason, workerAvailability } from './worker-availability.js';
import { withVectorStore, type OperatorSettings } from './settings.js';

export interface PlanReconcileInput {
  observed: ObservedState;
  /** VectorStore only: the outcome of the probe activity. */
  probe?: StoreProbe;
  settings: OperatorSettings;
}

/**
 * Plan one pass for any of the five kinds.
 *
 * @example
 * const plan = planReconcile({ observed, settings });
 * // execute: finalizer, plan.apply (SSA), plan.remove, plan.engine, then finalStatus(plan.status, engineResult, now)
 */
export function planReconcile(input: PlanReconcileInput): ReconcilePlan {
  switch (input.observed.ref.kind) {
    case 'Function':
    case 'Pipeline':
      return planWorkloadPass(input, input.observed.ref.kind);
    case 'InfraRules':
      return planInfraRules(input.observed);
    case 'VectorStore':
      return planVectorStore(input.observed, input.probe);
    case 'Index':
      return planIndex(input.observed);
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads

function planWorkloadPass(input: PlanReconcileInput, kind: WorkloadKind): ReconcilePlan {
  const { observed } = input;
  const { namespace = 'default', name } = observed.ref;
  const owned = observed.owned ?? [];
  const obj = observed.object;
  const stop: EngineAction = { action: 'stop', kind, namespace, name };
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
  const plan = planWorkload({ workload: w, infraRules }, settings);

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
          type: OperatorConditionType.SpecValid,
          status: 'False',
          reason: OperatorReason.OutputConflict,
          message: conflict,
        },
  );
  // A refused Function's workflow is stopped: it must not write (or clean up) another's attributes.
  const blocked = plan.blocked || conflict !== undefined;
  let engine: EngineAction = { action: 'none' };
  if (conflict !== undefined) {
    engine = stop;
    extra.push({
      type: OperatorConditionType.WorkflowReady,
      status: 'False',
      reason: OperatorReason.OutputConflict,
      message: 'the workflow is stopped while another Function owns the output attribute',
    });
  } else if (plan.blocked) {
    extra.push({
      type: OperatorConditionType.WorkflowReady,
      status: 'Unknown',
      reason: OperatorReason.WorkflowNotStarted,
      message: 'the workflow is left as it was while the plan is blocked',
    });
  } else if (w.kind === 'Function') {
    const spec = toFunctionRuntimeSpec(w, targets);
    const problems = runtimeSpecProblems(spec);
    if (problems.length > 0) {
      extra.push({
        type: OperatorConditionType.WorkflowReady,
        status: 'False',
        reason: OperatorReason.EngineRejectedSpec,
        message: `the Function engine refuses this spec: ${problems.join('; ')}`,
      });
    } else engine = { action: 'sync', kind: 'Function', spec };
  } else {
    const spec = toPipelineRuntimeSpec(w);
    const problems = pipelineRuntimeSpecProblems(spec);
    if (problems.length > 0) {
      extra.push({
        type: OperatorConditionType.WorkflowReady,
        status: 'False',
        reason: OperatorReason.EngineRejectedSpec,
        message: `the Pipeline engine refuses this spec: ${problems.join('; ')}`,
      });
    } else engine = { action: 'sync', kind: 'Pipeline', spec };
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
        },
      }
    : seen;
  const worker = blocked
    ? []
    : [workerAvailability({ paused: w.spec.paused, scalingMode: w.spec.scaling.mode }, workerSeen)];
  // A paused Function is planned before it runs: the pass counts its rows (status.plan).
  const rowPlan =
    w.kind === 'Function' && w.spec.paused && engine.action === 'sync' && engine.kind === 'Function'
      ? {
          spec: engine.spec,
          maxWorkers: w.spec.scaling.replicas?.max ?? 1,
          ...rowPlanRate(obj),
          ...costOf(infraRules, plan.pool),
        }
      : undefined;
  return {
    outcome: blocked ? 'blocked' : 'applied',
    finalizer,
    apply: blocked ? [] : plan.apply,
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
        // A blocked plan applies and deletes nothing, so what existed before still exists.
        managedObjects: blocked
          ? ((previous?.managedObjects as unknown[] | undefined) ?? [])
          : plan.apply.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name })),
      },
    },
  };
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
        type: OperatorConditionType.TargetsResolved,
        status: 'True',
        reason: OperatorReason.ExplicitTargets,
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
            type: OperatorConditionType.TargetsResolved,
            status: 'True',
            reason: OperatorReason.TargetsFound,
            message: `indexSelector matched namespaces: ${namespaces.join(', ')}`,
          }
        : {
            type: OperatorConditionType.TargetsResolved,
            status: 'False',
            reason: OperatorReason.NoMatchingIndexes,
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

// ---------------------------------------------------------------------------------------------
// InfraRules, VectorStore, Index: status only.

function statusOnly(
  obj: RawObject,
  conditions: ConditionInput[],
  readyMessage: string,
  fields: Record<string, unknown> = {},
): ReconcilePlan {
  return {
    outcome: 'applied',
    finalizer: 'none',
    apply: [],
    remove: [],
    engine: { action: 'none' },
    status: {
      previous: obj.status,
      uid: obj.metadata?.uid,
      generation: obj.metadata?.generation,
      previousConditions: validConditions(obj.status),
      conditions,
      readyMessage,
      fields,
    },
  };
}

function nothing(outcome: 'gone' | 'deleting'): ReconcilePlan {
  return { outcome, finalizer: 'none', apply: [], remove: [], engine: { action: 'none' } };
}

function planInfraRules(observed: ObservedState): ReconcilePlan {
  const obj = observed.object;
  if (obj === null) return nothing('gone');
  if (obj.metadata?.deletionTimestamp) return nothing('deleting');
  // A name other than default is refused by the schema, so it gets SchemaInvalid quoting why.
  const parsed = parseKind('InfraRules', forParsing(obj));
  if (!parsed.ok)
    return {
      ...nothing('gone'),
      outcome: 'invalid',
      status: invalidStatus(obj, parsed.error.message, hintOf(parsed.error)),
    };
  const rules = parsed.resource as InfraRules;
  const cache = rules.spec.documentCache;
  const cacheCondition: ConditionInput = cache
    ? {
        type: OperatorConditionType.DocumentCacheValid,
        status: 'True',
        reason: OperatorReason.CacheValid,
        message: `documentCache: ${cache.capGiB} GiB, replicationFactor ${cache.replicationFactor}, ${cache.scaling.mode} on ${cache.scaling.nodes.min}..${cache.scaling.nodes.max} nodes`,
      }
    : {
        type: OperatorConditionType.DocumentCacheValid,
        status: 'True',
        reason: OperatorReason.NoDocumentCache,
        message: 'no documentCache declared',
      };
  const pools = rules.spec.computePools.map((p) => p.name);
  return statusOnly(obj, [valid(), cacheCondition], `pools: ${pools.join(', ') || '(none)'}`, { pools });
}

function planVectorStore(observed: ObservedState, probe: StoreProbe | undefined): ReconcilePlan {
  const obj = observed.object;
  if (obj === null) return nothing('gone');
  if (obj.metadata?.deletionTimestamp) return nothing('deleting');
  const parsed = parseKind('VectorStore', forParsing(obj));
  if (!parsed.ok)
    return {
      ...nothing('gone'),
      outcome: 'invalid',
      status: invalidStatus(obj, parsed.error.message, hintOf(parsed.error)),
    };
  const store = parsed.resource as VectorStore;
  const notChecked = (type: string): ConditionInput => ({
    type,
    status: 'Unknown',
    reason: OperatorReason.NotChecked,
    message: 'not checked yet',
  });
  return statusOnly(
    obj,
    [
      valid(),
      probe?.credential ?? notChecked(OperatorConditionType.CredentialResolved),
      probe?.endpoint ?? notChecked(OperatorConditionType.EndpointReachable),
      ...(probe?.workerKey ? [probe.workerKey] : []),
    ],
    `${store.spec.endpoint.url} reachable; inbound auth ${store.spec.inboundAuth.mode}`,
  );
}

function planIndex(observed: ObservedState): ReconcilePlan {
  const obj = observed.object;
  if (obj === null) return nothing('gone');
  if (obj.metadata?.deletionTimestamp) return nothing('deleting');
  const parsed = parseKind('Index', forParsing(obj));
  if (!parsed.ok)
    return {
      ...nothing('gone'),
      outcome: 'invalid',
      status: invalidStatus(obj, parsed.error.message, hintOf(parsed.error)),
    };
  const index = parsed.resource as LayerIndex;
  const ns = index.metadata.namespace ?? 'default';
  const storeRef = index.spec.backend?.storeRef?.name;
  const store: ConditionInput =
    storeRef === undefined
      ? {
          type: OperatorConditionType.StoreResolved,
          status: 'True',
          reason: OperatorReason.DefaultStore,
          message: 'served by the default VectorStore',
        }
      : (observed.vectorStores ?? []).includes(storeRef)
        ? {
            type: OperatorConditionType.StoreResolved,
            status: 'True',
            reason: OperatorReason.StoreFound,
            message: `served by VectorStore ${ns}/${storeRef}`,
          }
        : {
            type: OperatorConditionType.StoreResolved,
            status: 'False',
            reason: OperatorReason.StoreNotFound,
            message: `backend.storeRef names VectorStore ${storeRef}, which does not exist in namespace ${ns}; create it or fix the name`,
          };
  const tpufNs = indexNamespace(index);
  const claimants = (observed.indexes ?? []).flatMap((r) => {
    const p = parseKind('Index', forParsing(r));
    return p.ok && indexNamespace(p.resource as LayerIndex) === tpufNs ? [p.resource as LayerIndex] : [];
  });
  const owner = namespaceOwner(claimants.length > 0 ? claimants : [index]);
  const mine =
    owner === undefined ||
    (owner.metadata.name === index.metadata.name && owner.metadata.namespace === index.metadata.namespace);
  const unique: ConditionInput = mine
    ? {
        type: OperatorConditionType.NamespaceUnique,
        status: 'True',
        reason: OperatorReason.Unique,
        message: `manages namespace ${tpufNs}`,
      }
    : {
        type: OperatorConditionType.NamespaceUnique,
        status: 'False',
        reason: OperatorReason.DuplicateNamespace,
        message: `namespace ${tpufNs} is already managed by Index ${owner.metadata.namespace ?? ''}/${owner.metadata.name}; one Index per namespace — delete this one or change spec.namespace`,
      };
  return statusOnly(obj, [valid(), store, unique], `manages namespace ${tpufNs}`);
}

// ---------------------------------------------------------------------------------------------
// Status

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
    (c) => c.type !== ConditionType.Ready && c.type !== OperatorConditionType.Degraded,
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
      type: OperatorConditionType.Degraded,
      status: 'True',
      reason: d.reason,
      message: `${d.message} — ${d.hint}`,
    };
  // The engine did not answer: nothing tells whether rows move, so say so rather than Ready.
  if (engine?.condition.reason === OperatorReason.EngineUnavailable)
    return {
      type: OperatorConditionType.Degraded,
      status: 'True',
      reason: OperatorReason.EngineUnavailable,
      message: engine.condition.message,
    };
  const worker = desired.find(
    (c) =>
      c.type === WorkerConditionType &&
      (c.reason === WorkerReason.CrashLoop || c.reason === WorkerReason.ImagePullBackOff),
  );
  if (worker)
    return {
      type: OperatorConditionType.Degraded,
      status: 'True',
      reason: worker.reason,
      message: worker.message,
    };
  return {
    type: OperatorConditionType.Degraded,
    status: 'False',
    reason: OperatorReason.NotDegraded,
    message: 'no systemic fault and no failing worker pod',
  };
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

function invalidStatus(obj: RawObject, message: string, hint: string): StatusDraft {
  const full = hint ? `${message}. Fix: ${hint}` : message;
  return {
    previous: obj.status,
    uid: obj.metadata?.uid,
    generation: obj.metadata?.generation,
    previousConditions: validConditions(obj.status),
    conditions: [
      {
        type: OperatorConditionType.SpecValid,
        status: 'False',
        reason: OperatorReason.SchemaInvalid,
        message: full,
      },
    ],
    readyMessage: '',
    fields: keepFields(obj.status),
  };
}

/** Status fields other than conditions/observedGeneration survive an invalid pass unchanged. */
function keepFields(status: Record<string, unknown> | undefined): Record<string, unknown> {
  const { conditions: _c, observedGeneration: _g, ...rest } = status ?? {};
  return rest;
}

function valid(): ConditionInput {
  return {
    type: OperatorConditionType.SpecValid,
    status: 'True',
    reason: OperatorReason.Valid,
    message: 'spec is valid',
  };
}

function hintOf(err: { hint?: string }): string {
  return err.hint ?? '';
}

/** The object without the fields the operator's schema does not own (status is ours, and may lag). */
function forParsing(obj: RawObject): Record<string, unknown> {
  const { status: _status, ...rest } = obj;
  return rest;
}

function parseOptional(kind: 'InfraRules' | 'VectorStore', raw: RawObject | null | undefined) {
  if (!raw) return undefined;
  const r = parseKind(kind, forParsing(raw));
  return r.ok ? r.resource : undefined;
}

function validConditions(status: Record<string, unknown> | undefined): Condition[] {
  const list = Array.isArray(status?.conditions) ? (status.conditions as unknown[]) : [];
  return list.flatMap((c) => {
    const p = conditionSchema.safeParse(c);
    return p.success ? [p.data] : [];
  });
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

export { FINALIZER };
