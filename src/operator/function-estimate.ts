// What a Function would do now, before it runs (issue 16, "plan before you run"): exact counts of
// the rows discovery would select per target namespace (the store's aggregate Count on the same
// filter), the batches, and an estimate of duration, worker-hours and cost from a per-call rate.
// Shared by `layer function plan` and the operator (status.plan of a paused Function). Counting
// writes nothing: attributes the engine has not declared yet are left out of the filter rather
// than declared, since no row can carry them.
import type { FunctionRuntimeSpec } from '../contracts/function.js';
import {
  errorAttribute,
  needsVersionFilter,
  versionAttribute,
} from '../../packages/worker/src/claim-execution/function-filters.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { StoreNotFoundError } from '../../packages/worker/src/store/errors.js';

export interface FunctionPlan {
  function: { namespace: string; name: string };
  /** Rows the Function would process now, in all target namespaces. */
  rows: number;
  namespaces: Record<string, number>;
  batches: number;
  batchSize: number;
  estimate: RunEstimate | null;
  /** Why there is no estimate (no worker to sample and no --rows-per-second). */
  estimateMissing?: string;
}

export interface RunEstimate {
  /** Rows per second of the whole Function: one worker call's rate × calls in flight × workers. */
  rowsPerSecond: number;
  source: 'sample' | 'given';
  /** Sample only: rows sent and the handler's wall time for them. */
  sample?: { rows: number; ms: number };
  /** Workers the run would use: scaling.replicas.max, fewer when there are fewer batches. */
  workers: number;
  batchesInFlight: number;
  seconds: number;
  workerHours: number;
  /** workerHours × the pool's costPerHour hint (InfraRules), when the pool has one. */
  cost?: number;
}

/**
 * The filter discovery uses, with every clause on an attribute the namespace has never seen
 * replaced by its value on a row that lacks the attribute (ADR 0077). `false` when no row can
 * match, `undefined` when every row does. The store, like the service, refuses a filter naming
 * an unknown attribute, and the plan must not declare it (it writes nothing).
 *
 * @example
 * countableFilter({ output, filter: ['Or', [['tags_v', 'NotEq', 'v1'], ['tags_v', 'Eq', null]]] }, new Set())
 * // → undefined: on a namespace without tags_v every row matches
 */
export function countableFilter(
  spec: Pick<FunctionRuntimeSpec, 'output' | 'filter'>,
  declared: ReadonlySet<string>,
): unknown[] | false | undefined {
  const parts: unknown[] = [];
  if (spec.filter !== undefined && spec.filter !== null) parts.push(spec.filter);
  // No row has an undeclared version attribute: every row lacks the version, none is dead.
  if (declared.has(versionAttribute(spec.output))) parts.push(needsVersionFilter(spec.output));
  if (declared.has(errorAttribute(spec.output))) parts.push([errorAttribute(spec.output), 'Eq', null]);
  if (parts.length === 0) return undefined;
  const folded = foldAbsentAttributes(parts.length === 1 ? parts[0] : ['And', parts], declared);
  return folded === true ? undefined : folded;
}

/**
 * Pure: a filter with each condition on an attribute outside `declared` replaced by `true` or
 * `false` — its value on a row where the attribute is null, by the store's null semantics
 * (null equals only null, sorts below every value, is in no list, contains nothing, matches no
 * pattern) — and And/Or/Not simplified around it. Anything it does not recognise is kept as is,
 * so the store still names a mistake in it.
 */
export function foldAbsentAttributes(filter: unknown, declared: ReadonlySet<string>): unknown[] | boolean {
  if (!Array.isArray(filter)) return filter as unknown[];
  const [head, a, b] = filter as unknown[];
  if ((head === 'And' || head === 'Or') && Array.isArray(a) && filter.length === 2) {
    const identity = head === 'And';
    const kept: unknown[] = [];
    for (const part of a) {
      const f = foldAbsentAttributes(part, declared);
      if (f === identity) continue;
      if (f === !identity) return !identity;
      kept.push(f);
    }
    if (kept.length === 0) return identity;
    return kept.length === 1 ? (kept[0] as unknown[]) : [head, kept];
  }
  if (head === 'Not' && filter.length === 2) {
    const f = foldAbsentAttributes(a, declared);
    return typeof f === 'boolean' ? !f : ['Not', f];
  }
  if (typeof head !== 'string' || head === 'id' || declared.has(head) || typeof a !== 'string') return filter;
  if (b !== null && typeof b === 'object' && !Array.isArray(b)) return filter; // $ref_new and the like
  const onNull = conditionOnNull(a, b);
  return onNull === undefined ? filter : onNull;
}

/** A condition's result on a null value (the store's filter.ts semantics); undefined if unknown. */
function conditionOnNull(op: string, operand: unknown): boolean | undefined {
  switch (op) {
    case 'Eq':
      return operand === null;
    case 'NotEq':
      return operand !== null;
    case 'Lt':
      return operand !== null;
    case 'Lte':
      return true;
    case 'Gt':
      return false;
    case 'Gte':
      return operand === null;
    case 'NotIn':
    case 'NotContains':
    case 'NotContainsAny':
    case 'NotGlob':
    case 'NotIGlob':
      return true;
    case 'In':
    case 'Contains':
    case 'ContainsAny':
    case 'AnyLt':
    case 'AnyLte':
    case 'AnyGt':
    case 'AnyGte':
    case 'Glob':
    case 'IGlob':
    case 'Regex':
    case 'ContainsAllTokens':
    case 'ContainsAnyToken':
    case 'ContainsTokenSequence':
      return false;
    default:
      return undefined;
  }
}

/** Pure: counts and a per-call rate → the plan's figures. */
export function estimateFromCounts(
  spec: Pick<FunctionRuntimeSpec, 'k8sNamespace' | 'name' | 'worker' | 'schedule'>,
  /** Worker replicas the Function scales to at most (spec.scaling.replicas.max). */
  maxWorkers: number,
  counts: Record<string, number>,
  rate: {
    rowsPerSecondPerCall: number;
    source: 'sample' | 'given';
    sample?: { rows: number; ms: number };
  } | null,
  estimateMissing?: string,
  costPerHour?: number,
): FunctionPlan {
  const batchSize = spec.worker.batchSize;
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  // Batches never span namespaces: each namespace is cut on its own.
  const batches = Object.values(counts).reduce((a, n) => a + Math.ceil(n / batchSize), 0);
  const workers = Math.max(1, maxWorkers);
  // maxInFlightBatches caps the Function's batches in flight, however many workers share them.
  const inFlight = Math.max(1, spec.schedule.maxInFlightBatches);
  let estimate: RunEstimate | null = null;
  if (rate && rate.rowsPerSecondPerCall > 0) {
    const rowsPerSecond = rate.rowsPerSecondPerCall * inFlight;
    const seconds = rows / rowsPerSecond;
    estimate = {
      rowsPerSecond: round(rowsPerSecond),
      source: rate.source,
      ...(rate.sample ? { sample: rate.sample } : {}),
      workers: Math.min(workers, Math.max(1, batches)),
      batchesInFlight: inFlight,
      seconds: round(seconds),
      // Every worker the scaler would run (one per in-flight batch at most) for the whole run.
      workerHours: round((seconds / 3600) * Math.min(workers, inFlight, Math.max(1, batches))),
    };
    if (costPerHour !== undefined) estimate.cost = round(estimate.workerHours * costPerHour);
  }
  return {
    function: { namespace: spec.k8sNamespace, name: spec.name },
    rows,
    namespaces: counts,
    batches,
    batchSize,
    estimate,
    ...(estimate ? {} : { estimateMissing: estimateMissing ?? 'no rate: pass --rows-per-second' }),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Exact counts per target namespace. Writes nothing. A namespace that does not exist has 0 rows
 * by default (the operator plans Functions whose namespaces may not be written yet); with
 * `missingNamespace: 'throw'` its StoreNotFoundError propagates (`layer function plan`, where a
 * typo in a target or a wrong store URL must not read as "0 rows").
 */
export async function countPlannedRows(
  store: StoreClient | ((namespace: string) => StoreClient),
  spec: Pick<FunctionRuntimeSpec, 'output' | 'filter' | 'targetNamespaces'>,
  opts: { missingNamespace?: 'zero' | 'throw' } = {},
): Promise<Record<string, number>> {
  const storeFor = typeof store === 'function' ? store : () => store;
  const counts: Record<string, number> = {};
  for (const ns of spec.targetNamespaces) {
    const store = storeFor(ns);
    try {
      const meta = (await store.metadata(ns)) as { schema?: Record<string, unknown> };
      const filter = countableFilter(spec, new Set(Object.keys(meta.schema ?? {})));
      counts[ns] = filter === false ? 0 : await store.countRows(ns, filter as never);
    } catch (err) {
      if (err instanceof StoreNotFoundError && opts.missingNamespace !== 'throw') counts[ns] = 0;
      else throw err;
    }
  }
  return counts;
}
