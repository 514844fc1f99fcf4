// `layer function plan -f function.yaml`: what a Function would do now, before it runs — the rows
// it would process per target namespace (exact counts, however large: the store's aggregate
// Count on the same filter discovery uses), the batches, and an estimate of duration and
// worker-hours from a measured sample (a push worker's /run answering a sample batch, nothing
// written back) or a given rows/s. It writes nothing: attributes the engine has not declared yet
// are left out of the filter rather than declared, since no row can carry them.
import type { FunctionRuntimeSpec } from '../../contracts/function.js';
import { errorAttribute, needsVersionFilter, versionAttribute } from '../../engine/function-filters.js';
import { postToPushWorker } from '../../engine/push-call.js';
import type { StoreClient } from '../../store/client.js';
import { StoreNotFoundError } from '../../store/errors.js';
import { LayerError } from '../../util/errors.js';

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
}

/** The filter discovery uses, without the clauses on attributes the namespace has never seen. */
export function planFilter(
  spec: Pick<FunctionRuntimeSpec, 'output' | 'filter'>,
  declared: ReadonlySet<string>,
): unknown[] | undefined {
  const parts: unknown[] = [];
  if (spec.filter !== undefined && spec.filter !== null) parts.push(spec.filter);
  // No row has an undeclared version attribute: every row lacks the version, none is dead.
  if (declared.has(versionAttribute(spec.output))) parts.push(needsVersionFilter(spec.output));
  if (declared.has(errorAttribute(spec.output))) parts.push([errorAttribute(spec.output), 'Eq', null]);
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? (parts[0] as unknown[]) : ['And', parts];
}

/** Pure: counts and a per-call rate → the plan's figures. */
export function planFromCounts(
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

/** Exact counts per target namespace; a namespace that does not exist has 0 rows. Writes nothing. */
export async function countPlannedRows(
  store: StoreClient,
  spec: Pick<FunctionRuntimeSpec, 'output' | 'filter' | 'targetNamespaces'>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const ns of spec.targetNamespaces) {
    try {
      const meta = (await store.metadata(ns)) as { schema?: Record<string, unknown> };
      const filter = planFilter(spec, new Set(Object.keys(meta.schema ?? {})));
      counts[ns] = await store.countRows(ns, filter as never);
    } catch (err) {
      if (err instanceof StoreNotFoundError) counts[ns] = 0;
      else throw err;
    }
  }
  return counts;
}

/**
 * One sample batch to a push worker's /run, timed: rows per second of one call. The rows are the
 * first ones the Function would process; nothing is written back.
 */
export async function samplePushWorker(
  store: StoreClient,
  spec: FunctionRuntimeSpec,
  pushUrl: string,
  sampleRows: number,
  fetchFn: typeof fetch = fetch,
): Promise<{ rowsPerSecondPerCall: number; sample: { rows: number; ms: number } } | null> {
  for (const ns of spec.targetNamespaces) {
    let meta: { schema?: Record<string, unknown> };
    try {
      meta = (await store.metadata(ns)) as typeof meta;
    } catch (err) {
      if (err instanceof StoreNotFoundError) continue;
      throw err;
    }
    const filter = planFilter(spec, new Set(Object.keys(meta.schema ?? {})));
    const res = await store.query(ns, {
      rank_by: ['id', 'asc'],
      limit: Math.min(sampleRows, spec.worker.batchSize),
      ...(filter ? { filters: filter as never } : {}),
      include_attributes: spec.inputs.filter((a) => a !== 'id'),
    });
    const rows = (res.rows ?? []).map((r) => ({
      id: r.id,
      inputs: Object.fromEntries(spec.inputs.map((a) => [a, (r as Record<string, unknown>)[a] ?? null])),
    }));
    if (rows.length === 0) continue;
    const t0 = performance.now();
    const answer = await postToPushWorker(
      fetchFn,
      `${pushUrl.replace(/\/+$/, '')}/run`,
      {
        batchId: `plan-sample-${Date.now()}`,
        function: { k8sNamespace: spec.k8sNamespace, name: spec.name },
        namespace: ns,
        output: spec.output,
        rows,
      },
      spec.worker.timeoutSeconds,
    );
    const ms = Math.max(1, performance.now() - t0);
    const outputs = (answer as { outputs?: unknown[] } | null)?.outputs;
    if (!Array.isArray(outputs))
      throw new LayerError(
        `the push worker at ${pushUrl} answered the sample batch without outputs`,
        'check that it is a Function worker (POST /run) for this Function, or pass --rows-per-second',
      );
    return {
      rowsPerSecondPerCall: (rows.length * 1000) / ms,
      sample: { rows: rows.length, ms: Math.round(ms) },
    };
  }
  return null;
}

/** The human form. */
export function formatPlan(p: FunctionPlan): string {
  const fmt = new Intl.NumberFormat('en-US');
  const lines = [
    `Function ${p.function.namespace}/${p.function.name} would process ${fmt.format(p.rows)} rows in ${fmt.format(p.batches)} batches of ≤ ${p.batchSize}:`,
    ...Object.entries(p.namespaces).map(([ns, n]) => `  ${ns}: ${fmt.format(n)} rows`),
  ];
  if (p.estimate) {
    const e = p.estimate;
    lines.push(
      `estimate (${e.source === 'sample' ? `measured: ${e.sample?.rows} rows in ${e.sample?.ms} ms` : 'given rate'}): ` +
        `${fmt.format(e.rowsPerSecond)} rows/s with ${e.batchesInFlight} batches in flight → ` +
        `${formatSeconds(e.seconds)}, ${e.workerHours} worker-hours (${e.workers} workers)`,
    );
  } else lines.push(`no estimate: ${p.estimateMissing}`);
  return lines.join('\n');
}

function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
