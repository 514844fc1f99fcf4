// `layer function plan -f function.yaml`: the plan of src/operator/function-plan.ts for a manifest,
// with a rate measured on a push worker's /run (a sample batch, nothing written back) or given.
import type { FunctionRuntimeSpec } from '../../contracts/function.js';
import { postToPushWorker } from '../../activities/push-call.js';
import { countableFilter, type FunctionPlan } from '../../operator/function-estimate.js';
import type { StoreClient } from '../../../packages/worker/src/store/client.js';
import {
  StoreAuthError,
  StoreConnectionError,
  StoreNotFoundError,
  StoreServerError,
} from '../../../packages/worker/src/store/errors.js';
import { LayerError } from '../../../packages/worker/src/util/errors.js';

export { countPlannedRows, estimateFromCounts, type FunctionPlan } from '../../operator/function-estimate.js';

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
    const filter = countableFilter(spec, new Set(Object.keys(meta.schema ?? {})));
    if (filter === false) continue;
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

/**
 * Why counting failed, with the fix that matches the cause: only an unreachable store is told
 * to start the store; a missing namespace (or a URL that answers 404 to everything) names the
 * targets; anything else shows the store's own message.
 */
export function planStoreError(err: unknown, url: string, targets: string[]): LayerError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreConnectionError || err instanceof StoreServerError)
    return new LayerError(
      `cannot count rows in the store at ${url}: ${message}`,
      'start the store (`layer dev up` or `layer store serve`) or point LAYER_STORE_URL at it',
    );
  if (err instanceof StoreNotFoundError)
    return new LayerError(
      `cannot plan: namespace '${err.namespace ?? '?'}' was not found in the store at ${url} (${message})`,
      `check spec.targetNamespaces (${targets.join(', ')}) and LAYER_STORE_URL; a URL that is not a Turbopuffer-compatible store answers 404 too`,
    );
  if (err instanceof StoreAuthError)
    return new LayerError(
      `the store at ${url} refused the key: ${message}`,
      'set LAYER_STORE_API_KEY to a key the store accepts',
    );
  return new LayerError(
    `the store at ${url} refused the plan's count: ${message}`,
    "check the Function's spec.filter against the namespace's attributes",
  );
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
        `${formatSeconds(e.seconds)}, ${e.workerHours} worker-hours (${e.workers} workers)` +
        (e.cost !== undefined ? `, cost ≈ ${e.cost}` : ''),
    );
  } else lines.push(`no estimate: ${p.estimateMissing}`);
  return lines.join('\n');
}

function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
