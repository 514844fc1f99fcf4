// Pure decisions of the watcher: which events matter and which resources an event should
// reconcile. Kept apart from the informer plumbing so they are table-tested without a cluster.
import { STOCK_POOL } from '../api/defaults.js';
import type { ReconcileRef } from '../contracts/reconcile.js';
import { canonical } from './reconcile-plan.js';
import type { RawObject } from './reconcile-types.js';

/** What of an object, when it changes, can change a reconcile's outcome (status cannot). */
export function fingerprint(obj: RawObject): string {
  const m = obj.metadata ?? {};
  return canonical({
    generation: m.generation,
    deletionTimestamp: m.deletionTimestamp,
    finalizers: m.finalizers ?? [],
    labels: m.labels ?? {},
    // Objects without generation tracking (or spec-less kinds) fall back to their spec.
    spec: m.generation === undefined ? obj.spec : undefined,
  });
}

/**
 * What of an object the operator owns (Deployment, Service, ScaledObject, …) a pass restores:
 * everything but status and the server's bookkeeping. A Deployment's status changes many times
 * while it scales; those changes alone start no pass.
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
  });
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
    .map(refOf);
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
