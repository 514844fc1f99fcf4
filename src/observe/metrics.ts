// The figures this process measures itself (prom-client): reconcile passes, store requests and
// Function discovery scans, timed where the activities run, plus Node's process metrics. Workload
// counters come from the workflows' status instead (workload-metrics.ts) and the Temporal SDK's
// own worker metrics from its runtime (temporal-runtime.ts); /metrics serves all three
// (docs/adr/0060-metrics-where-measured.md). Labels are bounded: Kubernetes namespace and name,
// kind, outcome, failure reason, HTTP status — never a row id or a store namespace.
import { Context } from '@temporalio/activity';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { WORKLOAD_FAMILIES } from './workload-metrics.js';

const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface LayerMetrics {
  registry: Registry;
  reconcilePasses: Counter<'kind' | 'outcome'>;
  reconcileDuration: Histogram<'kind'>;
  reconcileErrors: Counter<'kind' | 'reason'>;
  storeRequestDuration: Histogram<'operation' | 'status'>;
  storeRequestErrors: Counter<'operation' | 'status'>;
  discoveryScanDuration: Histogram<'namespace' | 'name'>;
}

/** A fresh registry with every family this process measures (tests make their own). */
export function createLayerMetrics(opts: { processMetrics?: boolean } = {}): LayerMetrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // Gauges prom-client names like counters: promlint (`promtool check metrics`) rejects them.
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  return {
    registry,
    reconcilePasses: new Counter({
      name: 'layer_reconcile_passes_total',
      help: 'Reconcile passes that ran to the end, by resource kind and outcome (applied, blocked, invalid, deleted, gone…).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'layer_reconcile_duration_seconds',
      help: 'Wall time of one reconcile pass (observe, plan, apply, engine, status), failed ones included.',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'layer_reconcile_errors_total',
      help: 'Reconcile passes that failed, by resource kind and reason (failure type or error class).',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    storeRequestDuration: new Histogram({
      name: 'layer_store_request_duration_seconds',
      help: "Duration of the orchestrator's store calls, by operation and status (ok, an HTTP status, or connection).",
      labelNames: ['operation', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    storeRequestErrors: new Counter({
      name: 'layer_store_request_errors_total',
      help: "The orchestrator's store calls that failed, by operation and status (an HTTP status, or connection).",
      labelNames: ['operation', 'status'],
      registers,
    }),
    discoveryScanDuration: new Histogram({
      name: 'layer_function_discovery_scan_duration_seconds',
      help: 'Duration of one discovery scan page of a Function (a store query for rows lacking the output version).',
      labelNames: ['namespace', 'name'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
  };
}

/**
 * The Temporal SDK's worker metrics (Core's Prometheus exporter, appended to /metrics) the Grafana
 * dashboard uses. Core names them, not us: the observe integration test checks each one appears in
 * a real scrape, so an SDK upgrade that renames one fails there.
 */
export const TEMPORAL_SDK_METRICS = [
  { name: 'temporal_worker_task_slots_used', type: 'gauge' },
  { name: 'temporal_worker_task_slots_available', type: 'gauge' },
  { name: 'temporal_workflow_task_schedule_to_start_latency_seconds', type: 'histogram' },
  { name: 'temporal_activity_schedule_to_start_latency_seconds', type: 'histogram' },
  { name: 'temporal_activity_execution_latency_seconds', type: 'histogram' },
  { name: 'temporal_request_latency_seconds', type: 'histogram' },
] as const;

let processMetrics: LayerMetrics | undefined;

/** This process's metrics: what start-up code and /metrics share (one registry per process). */
export function processLayerMetrics(): LayerMetrics {
  return (processMetrics ??= createLayerMetrics());
}

/**
 * Every metric name a scrape of /metrics can contain, from the registries themselves (what the
 * Grafana dashboard test checks its queries against). Histograms add `_bucket`, `_sum`, `_count`.
 */
export async function exportedMetricNames(
  metrics: LayerMetrics = createLayerMetrics(),
): Promise<Set<string>> {
  const names = new Set<string>();
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
  };
  for (const m of await metrics.registry.getMetricsAsJSON()) add(m.name, String(m.type));
  for (const f of Object.values(WORKLOAD_FAMILIES)) add(f.name, f.type);
  for (const f of TEMPORAL_SDK_METRICS) add(f.name, f.type);
  return names;
}

/** Reason label of a failed call: its Temporal failure type, else its error class. */
export function errorReason(err: unknown): string {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(type)) return type;
  const name = err instanceof Error ? err.constructor.name : typeof err;
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'Error';
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Store call status label: `ok`, the HTTP status, or `connection` (no response). */
function storeStatus(err: unknown): string {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? String(status) : 'connection';
}

const STORE_METHODS = new Set([
  'write',
  'query',
  'multiQuery',
  'upsertRows',
  'patchRows',
  'deleteRows',
  'scanPage',
  'countRows',
  'metadata',
  'exists',
  'deleteNamespace',
  'listNamespaces',
]);

const instrumented = new WeakMap<StoreClient, StoreClient>();

/** The same store client, with every call timed and its failures counted by status. */
export function instrumentStore(store: StoreClient, metrics: LayerMetrics): StoreClient {
  const known = instrumented.get(store);
  if (known) return known;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !STORE_METHODS.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          metrics.storeRequestDuration.observe({ operation: prop, status: 'ok' }, seconds(t0));
          return out;
        } catch (err) {
          // exists() maps a 404 to false itself; any error that reaches here is a failed call.
          const status = storeStatus(err);
          metrics.storeRequestDuration.observe({ operation: prop, status }, seconds(t0));
          metrics.storeRequestErrors.inc({ operation: prop, status });
          throw err;
        }
      };
    },
  });
  instrumented.set(store, wrapped);
  return wrapped;
}

type AnyActivity = (...args: never[]) => Promise<unknown>;

/** `function/<k8s namespace>/<name>` of the running activity's workflow, when it is a Function's. */
function functionOfActivity(): { namespace: string; name: string } | undefined {
  try {
    const id = Context.current().info.workflowExecution?.workflowId ?? '';
    const m = /^function\/([^/]+)\/([^/]+)$/.exec(id);
    return m ? { namespace: m[1]!, name: m[2]! } : undefined;
  } catch {
    return undefined; // called outside an activity (a unit test)
  }
}

/**
 * The orchestrator's activities with the measured ones wrapped: `reconcilePass` (passes, duration,
 * errors by reason) and `discoverRows` (scan duration per Function). Everything else unchanged.
 */
export function instrumentActivities<A extends object>(activities: A, metrics: LayerMetrics): A {
  const out = { ...activities } as Record<string, unknown>;
  const reconcilePass = out.reconcilePass as AnyActivity | undefined;
  if (reconcilePass) {
    out.reconcilePass = async (ref: { kind: string }) => {
      const t0 = performance.now();
      try {
        const report = (await reconcilePass(ref as never)) as { outcome: string };
        metrics.reconcilePasses.inc({ kind: ref.kind, outcome: report.outcome });
        return report;
      } catch (err) {
        metrics.reconcileErrors.inc({ kind: ref.kind, reason: errorReason(err) });
        throw err;
      } finally {
        metrics.reconcileDuration.observe({ kind: ref.kind }, seconds(t0));
      }
    };
  }
  const discoverRows = out.discoverRows as AnyActivity | undefined;
  if (discoverRows) {
    out.discoverRows = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await discoverRows(...(args as never[]));
      } finally {
        const fn = functionOfActivity();
        if (fn) metrics.discoveryScanDuration.observe(fn, seconds(t0));
      }
    };
  }
  return out as A;
}
