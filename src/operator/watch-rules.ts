// Pure decisions of the watcher: which events matter and which resources an event should
// reconcile. Kept apart from the informer plumbing so they are table-tested without a cluster.
import { STOCK_POOL } from '../api/defaults.js';
import { KINDS } from '../api/group.js';
import { RESYNC_REASON, type ReconcileRef } from '../contracts/reconcile.js';
import { canonical } from './reconcile/status.js';
import { FINALIZER } from './finalizer.js';
import { conflictingAttributes, OUTPUT_CLAIM_LABEL } from './output-ownership.js';
import type { RawObject } from './reconcile-types.js';
import { LABEL } from './labels.js';
import { labelValue } from './names.js';
import { deploymentRolledOut, podProblemsOf } from './worker-availability.js';

/**
 * What of an object, when it changes, can change a reconcile's outcome. Not its status, and not
 * what the pass itself puts on it — the finalizer and the output claim label (ADR 0114): the pass
 * that wrote them has done everything a second pass would, so their echo starts none.
 */
export function fingerprint(obj: RawObject): string {
  const m = obj.metadata ?? {};
  const { [OUTPUT_CLAIM_LABEL]: _claim, ...labels } = m.labels ?? {};
  return canonical({
    generation: m.generation,
    deletionTimestamp: m.deletionTimestamp,
    finalizers: (m.finalizers ?? []).filter((f) => f !== FINALIZER),
    labels,
    // Objects without generation tracking (or spec-less kinds) fall back to their spec.
    spec: m.generation === undefined ? obj.spec : undefined,
  });
}

/**
 * What of an object the operator owns (Deployment, Service, ScaledObject, …) can change a pass's
 * outcome: everything a pass restores (all but status and the server's bookkeeping), and of a
 * Deployment's status only what the planner reads — whether a replica is available, whether the
 * rollout hit its progress deadline (WorkerAvailable), and whether the rollout is complete (a
 * new output.version waits for it, ADR 0124). A Deployment's status changes many times while it
 * scales; those changes alone start no pass, but becoming available (or failing to) and finishing
 * a rollout do.
 */
export function ownedFingerprint(obj: RawObject): string {
  const m = (obj.metadata ?? {}) as Record<string, unknown>;
  return canonical({
    generation: m.generation,
    deletionTimestamp: m.deletionTimestamp,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    ownerReferences: m.ownerReferences ?? [],
    // Kinds without generation tracking (Service) change through their spec.
    spec: m.generation === undefined ? obj.spec : undefined,
    availability: obj.kind === 'Deployment' ? deploymentAvailability(obj) : undefined,
  });
}

function deploymentAvailability(obj: RawObject): {
  available: boolean;
  deadlineExceeded: boolean;
  rolledOut: boolean;
} {
  const status = (obj.status ?? {}) as {
    availableReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string }[];
  };
  return {
    // Without it a held output.version would wait for the next resync (minutes).
    rolledOut: deploymentRolledOut(obj as Parameters<typeof deploymentRolledOut>[0]),
    available: (status.availableReplicas ?? 0) >= 1,
    deadlineExceeded: (status.conditions ?? []).some(
      (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
    ),
  };
}

/**
 * What of a worker pod can change a pass's outcome: the waiting reasons of its containers
 * (CrashLoopBackOff, ImagePullBackOff, …), '' for a pod with none. A pod event matters when this
 * changes — a healthy pod starting, restarting or going away starts no pass.
 */
export function podFingerprint(pod: RawObject | undefined): string {
  if (!pod) return '';
  return podProblemsOf([pod as never])
    .map((p) => `${p.container}:${p.reason}`)
    .sort()
    .join(',');
}

/**
 * The workload a pod of the operator's belongs to, from its selector labels (pods are owned by
 * ReplicaSets, not by us). Label values of long names are truncated with a hash, so the name is
 * looked up among the cached workloads of the pod's namespace.
 */
export function podOwner(pod: RawObject, workloads: readonly RawObject[]): ReconcileRef | undefined {
  const labels = (pod.metadata?.labels ?? {}) as Record<string, string>;
  const kind = labels[LABEL.kind];
  const value = labels[LABEL.workloadName];
  if ((kind !== 'Function' && kind !== 'Pipeline') || !value) return undefined;
  const namespace = pod.metadata?.namespace ?? 'default';
  const owner = workloads.find(
    (w) =>
      w.kind === kind &&
      (w.metadata?.namespace ?? 'default') === namespace &&
      labelValue(w.metadata?.name ?? '') === value,
  );
  return owner ? { kind, namespace, name: owner.metadata!.name! } : undefined;
}

/** Whether an owned object's event may need a pass: not our own add, not a status-only update. */
export function ownedEventMatters(
  verb: 'add' | 'update' | 'delete',
  before: string | undefined,
  obj: RawObject,
): boolean {
  if (verb === 'delete') return true;
  if (verb === 'add') return false; // our own apply
  return before !== ownedFingerprint(obj);
}

/** Pool a raw workload runs on (mirrors the planner's resolvePoolName, without parsing). */
export function rawWorkloadPool(obj: RawObject): string {
  const spec = (obj.spec ?? {}) as { scaling?: { pool?: string }; worker?: { computeClass?: string } };
  if (spec.scaling?.pool) return spec.scaling.pool;
  return spec.worker?.computeClass === 'gpu' ? STOCK_POOL.gpu : STOCK_POOL.cpu;
}

type Pools = Record<string, string>;

/** Pool name → canonical JSON of the pool, from a raw InfraRules (undefined: no object). */
export function poolsOf(rules: RawObject | undefined): Pools | undefined {
  if (rules === undefined) return undefined;
  const pools = (rules.spec as { computePools?: { name?: string }[] } | undefined)?.computePools ?? [];
  return Object.fromEntries(pools.map((p) => [p.name ?? '', canonical(p)]));
}

/**
 * Pools whose definition differs between two InfraRules/default versions; `'*'` when every pool
 * is affected (the object appeared or disappeared).
 */
export function changedPools(before: Pools | undefined, after: Pools | undefined): Set<string> | '*' {
  if (before === undefined || after === undefined) return before === after ? new Set() : '*';
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return new Set([...names].filter((n) => before[n] !== after[n]));
}

/** Workloads to re-reconcile after an InfraRules/default change. */
export function workloadsOnPools(
  changed: Set<string> | '*',
  workloads: readonly RawObject[],
): ReconcileRef[] {
  return workloads.filter((w) => changed === '*' || changed.has(rawWorkloadPool(w))).map((w) => refOf(w));
}

/** Functions whose indexSelector may be affected by an Index in `namespace`. */
export function functionsSelectingIndexes(
  namespace: string | undefined,
  functions: readonly RawObject[],
): ReconcileRef[] {
  return functions
    .filter(
      (f) =>
        f.metadata?.namespace === namespace &&
        (f.spec as { indexSelector?: unknown } | undefined)?.indexSelector !== undefined,
    )
    .map((f) => refOf({ ...f, kind: 'Function' }));
}

/**
 * Other Functions that write one of `fn`'s attributes (any namespace): when `fn` appears, changes
 * or goes, which of them owns the attribute may change (ADR 0070).
 */
export function functionsSharingOutput(fn: RawObject, functions: readonly RawObject[]): ReconcileRef[] {
  const attributeOf = (f: RawObject) =>
    (f.spec as { output?: { attribute?: unknown } } | undefined)?.output?.attribute;
  // Explicit store namespaces; undefined for a Function that selects Indexes (its namespaces are
  // only known to its reconcile pass, so it counts as sharing any).
  const targetsOf = (f: RawObject) => {
    const t = (f.spec as { targetNamespaces?: unknown } | undefined)?.targetNamespaces;
    return Array.isArray(t) ? new Set(t.filter((n): n is string => typeof n === 'string')) : undefined;
  };
  const mine = attributeOf(fn);
  if (typeof mine !== 'string') return [];
  // Called on every Function event against every cached Function: one set lookup each.
  const conflicting = new Set(conflictingAttributes(mine));
  const myTargets = targetsOf(fn);
  // An attribute is owned per store namespace (ADR 0070): Functions writing `embedding` into
  // different namespaces never conflict, and requeueing them all on every change would cost a
  // fleet of N such Functions N passes per edit.
  const overlaps = (f: RawObject) => {
    const theirs = targetsOf(f);
    return !myTargets || !theirs || [...theirs].some((n) => myTargets.has(n));
  };
  return functions
    .filter((f) => {
      const other = attributeOf(f);
      const same = f.metadata?.namespace === fn.metadata?.namespace && f.metadata?.name === fn.metadata?.name;
      return !same && typeof other === 'string' && conflicting.has(other) && overlaps(f);
    })
    .map((f) => refOf({ ...f, kind: 'Function' }));
}

/** The workload an operator-owned object belongs to, from its controller owner reference. */
export function ownerOf(
  obj: RawObject & {
    metadata?: {
      ownerReferences?: { kind?: string; name?: string; controller?: boolean; apiVersion?: string }[];
    };
  },
): ReconcileRef | undefined {
  const owner = obj.metadata?.ownerReferences?.find(
    (o) => o.controller && o.apiVersion?.startsWith('hevlayer.com/'),
  );
  if (!owner || (owner.kind !== 'Function' && owner.kind !== 'Pipeline') || !owner.name) return undefined;
  return { kind: owner.kind, namespace: obj.metadata?.namespace ?? 'default', name: owner.name };
}

export function refOf(obj: RawObject): ReconcileRef {
  const kind = obj.kind as ReconcileRef['kind'];
  const ns = obj.metadata?.namespace;
  return { kind, ...(ns ? { namespace: ns } : {}), name: obj.metadata?.name ?? '' };
}

/**
 * What the watcher's informer caches keep of each object: only what the rules above read, so the
 * operator holds a few hundred bytes per object instead of the apiserver's whole object (issue 23:
 * the operator's memory with 500 Functions, against the chart's 512Mi; docs/adr/0133). An
 * informer still needs the keys and resourceVersion it compares; `managedFields`, much of a
 * server-side-applied object, is never kept.
 */
type Meta = NonNullable<RawObject['metadata']> & { ownerReferences?: unknown[] };

const BASE_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'deletionTimestamp',
  'labels',
] as const;

/** The given keys of an object that are set (an absent key stays absent, not `undefined`). */
function pick<T extends object>(from: T | undefined, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (from as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A hevlayer.com resource: metadata and spec, which the fan-out rules read; never its status. */
export function cachedResource(obj: RawObject): RawObject {
  return {
    ...pick(obj, ['apiVersion', 'kind', 'spec']),
    metadata: pick(obj.metadata, [
      ...BASE_METADATA,
      'finalizers',
      'annotations',
      'creationTimestamp',
    ]) as Meta,
  };
}

/**
 * An object the operator owns: what ownedFingerprint and ownerOf read — metadata, the spec of a
 * kind without generation (a Service's is small), and of a Deployment the status fields behind
 * its availability. A Deployment's pod template, the bulk of it, is not kept.
 */
export function cachedOwned(obj: RawObject): RawObject {
  const metadata = pick(obj.metadata, [...BASE_METADATA, 'annotations', 'ownerReferences']) as Meta;
  const kept: RawObject = { ...pick(obj, ['apiVersion', 'kind']), metadata };
  if (metadata.generation === undefined && obj.spec !== undefined) kept.spec = obj.spec;
  if (obj.status) {
    const status = pick(obj.status, [
      'availableReplicas',
      'observedGeneration',
      'replicas',
      'updatedReplicas',
    ]);
    const conditions = obj.status.conditions as Record<string, unknown>[] | undefined;
    if (conditions) status.conditions = conditions.map((c) => pick(c, ['type', 'status', 'reason']));
    kept.status = status;
  }
  return kept;
}

interface ContainerState {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/** A worker pod: its labels (which workload) and its containers' waiting and last-exit states. */
export function cachedPod(pod: RawObject): RawObject {
  const states = (list: ContainerState[] | undefined) =>
    list?.map((c) => ({
      name: c.name,
      ...(c.state?.waiting ? { state: { waiting: pick(c.state.waiting, ['reason', 'message']) } } : {}),
      ...(c.lastState?.terminated
        ? { lastState: { terminated: pick(c.lastState.terminated, ['exitCode', 'reason']) } }
        : {}),
    }));
  const kept: RawObject = {
    ...pick(pod, ['apiVersion', 'kind']),
    metadata: pick(pod.metadata, BASE_METADATA) as Meta,
  };
  const status = pod.status as
    { containerStatuses?: ContainerState[]; initContainerStatuses?: ContainerState[] } | undefined;
  if (status)
    kept.status = pick(
      {
        containerStatuses: states(status.containerStatuses),
        initContainerStatuses: states(status.initContainerStatuses),
      },
      ['containerStatuses', 'initContainerStatuses'],
    );
  return kept;
}

/**
 * Temporal task priority of the reconcile run a signal starts (1 runs first, 5 last; 3 is the
 * default), ADR 0135:
 * - an edit of the resource itself (created, its spec or labels changed, deleted): what a person
 *   waits on, 2;
 * - what follows from others — a controller's status on an owned object, a worker pod, another
 *   resource's change fanning out to this one: 3;
 * - the periodic resync, which re-signals every resource and will mostly find nothing: 5.
 * Before, a spec change made just after a burst queued behind the burst's thousand
 * owned-object passes (110 s in bench:operator at 1,000 Functions).
 */
export const EDIT_PRIORITY_KEY = 2;
export const CHANGE_PRIORITY_KEY = 3;
export const RESYNC_PRIORITY_KEY = 5;

/** The reason of a pass an edit of the resource itself asked for (see passPriorityKey). */
export function editReason(kind: string, verb: 'add' | 'update' | 'delete'): string {
  return `${kind} ${verb}`;
}
const EDIT_REASON = new RegExp(`^(${KINDS.join('|')}) (add|update|delete)$`);

export function passPriorityKey(reason: string): number {
  if (reason === RESYNC_REASON) return RESYNC_PRIORITY_KEY;
  return EDIT_REASON.test(reason) ? EDIT_PRIORITY_KEY : CHANGE_PRIORITY_KEY;
}

/** Of two reasons to reconcile one resource, the one whose pass should run sooner. */
export function moreUrgentReason(queued: string | undefined, reason: string): string {
  if (queued === undefined) return reason;
  return passPriorityKey(reason) < passPriorityKey(queued) ? reason : queued;
}
