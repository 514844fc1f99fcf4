// Metric families read from the workload workflows' status queries at scrape time: the counters a
// Function or Pipeline workflow holds (rows processed, dead letters, failures and retries by type,
// batch histograms) are exported from its status, as the queue depth always was, so one scrape of
// the HTTP API covers pull and push workers without a metrics port on either
// (docs/adr/0060-metrics-where-measured.md). Pure: statuses in, Prometheus text out.
import type { FunctionPhase, FunctionStatus } from '../contracts/function.js';
import {
  BATCH_ROWS_PER_SECOND_BUCKETS,
  BATCH_SECONDS_BUCKETS,
  type HistogramState,
  type WorkloadObservations,
} from '../contracts/observations.js';
import {
  FUNCTION_QUEUE_DEPTH_METRIC,
  functionStatusDepth,
  PIPELINE_QUEUE_DEPTH_METRIC,
  pipelineQueueDepth,
} from '../contracts/queue-depth.js';
import { type PipelineStatus } from '../contracts/pipeline.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface FamilyDef {
  name: string;
  type: MetricType;
  help: string;
}

/** Every family a workload status yields. Their names are the contract the dashboard uses. */
export const WORKLOAD_FAMILIES = {
  functionQueueDepth: {
    name: FUNCTION_QUEUE_DEPTH_METRIC,
    type: 'gauge',
    help: 'Batches waiting for or held by a worker of a Function.',
  },
  functionRowsProcessed: {
    name: 'layer_function_rows_processed_total',
    type: 'counter',
    help: 'Rows whose output a Function wrote.',
  },
  functionRowsSuperseded: {
    name: 'layer_function_rows_superseded_total',
    type: 'counter',
    help: 'Rows not written because a newer output version was already there (writeback version guard).',
  },
  functionBatches: {
    name: 'layer_function_batches_total',
    type: 'counter',
    help: 'Batches a Function finished.',
  },
  functionBatchesFailed: {
    name: 'layer_function_batches_failed_total',
    type: 'counter',
    help: 'Batches that failed for good at their size (then split, or dead-lettered when one row).',
  },
  functionFailures: {
    name: 'layer_function_batch_failures_total',
    type: 'counter',
    help: 'Failed batch attempts and failed claims of a Function, by failure type.',
  },
  functionRetries: {
    name: 'layer_function_retries_total',
    type: 'counter',
    help: 'Batch attempts of a Function that failed and were scheduled again, by failure type.',
  },
  functionClaimsLost: {
    name: 'layer_function_claims_lost_total',
    type: 'counter',
    help: "Claims of a Function that ended lost (worker stopped heartbeating or overran its lease) after the claim's own retries.",
  },
  functionClaimRetries: {
    name: 'layer_function_claim_retries_total',
    type: 'counter',
    help: 'Claim attempts of a Function after the first that Temporal ran (an earlier attempt lost its lease, mostly).',
  },
  functionDiscoveryPasses: {
    name: 'layer_function_discovery_passes_total',
    type: 'counter',
    help: 'Discovery passes a Function started.',
  },
  functionDeadLettered: {
    name: 'layer_function_dead_lettered_rows',
    type: 'gauge',
    help: 'Rows of a Function marked dead-lettered (falls when dead letters are replayed).',
  },
  functionPendingRows: {
    name: 'layer_function_pending_rows',
    type: 'gauge',
    help: 'Rows still to do per the last count (matching the filter, not dead-lettered).',
  },
  functionInFlightBatches: {
    name: 'layer_function_in_flight_batches',
    type: 'gauge',
    help: 'Batches of a Function in claims held by workers.',
  },
  functionClaimsInFlight: {
    name: 'layer_function_claims_in_flight',
    type: 'gauge',
    help: 'Claims of a Function out with workers.',
  },
  functionRowsPerSecond: {
    name: 'layer_function_rows_per_second',
    type: 'gauge',
    help: "Rows a Function wrote per second over the workflow's current rate window.",
  },
  functionPhase: {
    name: 'layer_function_phase',
    type: 'gauge',
    help: 'The phase a Function is in (1 for the current phase).',
  },
  functionBatchSeconds: {
    name: 'layer_function_batch_duration_seconds',
    type: 'histogram',
    help: 'Wall time of one Function batch on its worker (read, compute, write), as the worker reported it.',
  },
  functionBatchRowsPerSecond: {
    name: 'layer_function_batch_rows_per_second',
    type: 'histogram',
    help: 'Rows per second of one Function batch on its worker.',
  },
  pipelineQueueDepth: {
    name: PIPELINE_QUEUE_DEPTH_METRIC,
    type: 'gauge',
    help: 'Batches of work items waiting for or held by a worker of a Pipeline.',
  },
  pipelineItems: {
    name: 'layer_pipeline_items_total',
    type: 'counter',
    help: 'Work items of a Pipeline by outcome (submitted, done, failed, already_written, duplicate).',
  },
  pipelineBatches: {
    name: 'layer_pipeline_batches_total',
    type: 'counter',
    help: 'Batches a Pipeline finished.',
  },
  pipelineChunksWritten: {
    name: 'layer_pipeline_chunks_written_total',
    type: 'counter',
    help: 'Chunks a Pipeline wrote to its target namespace.',
  },
  pipelinePendingItems: {
    name: 'layer_pipeline_pending_items',
    type: 'gauge',
    help: 'Work items of a Pipeline queued and not yet in a batch.',
  },
  pipelineInFlightBatches: {
    name: 'layer_pipeline_in_flight_batches',
    type: 'gauge',
    help: 'Batches of a Pipeline in claims held by workers.',
  },
  pipelineFailures: {
    name: 'layer_pipeline_batch_failures_total',
    type: 'counter',
    help: 'Failed batch attempts and failed claims of a Pipeline, by failure type.',
  },
  pipelineRetries: {
    name: 'layer_pipeline_retries_total',
    type: 'counter',
    help: 'Batch attempts of a Pipeline that failed and were scheduled again, by failure type.',
  },
  pipelineClaimsLost: {
    name: 'layer_pipeline_claims_lost_total',
    type: 'counter',
    help: "Claims of a Pipeline that ended lost (worker stopped heartbeating or overran its lease) after the claim's own retries.",
  },
  pipelineClaimRetries: {
    name: 'layer_pipeline_claim_retries_total',
    type: 'counter',
    help: 'Claim attempts of a Pipeline after the first that Temporal ran (an earlier attempt lost its lease, mostly).',
  },
  pipelineBatchSeconds: {
    name: 'layer_pipeline_batch_duration_seconds',
    type: 'histogram',
    help: 'Wall time of one Pipeline batch on its worker (fetch, chunk, embed, write), as the worker reported it.',
  },
  pipelineBatchItemsPerSecond: {
    name: 'layer_pipeline_batch_items_per_second',
    type: 'histogram',
    help: 'Work items per second of one Pipeline batch on its worker.',
  },
} as const satisfies Record<string, FamilyDef>;

/** Every FunctionPhase (a new phase must be added here or the type check fails). */
const FUNCTION_PHASES = [
  'running',
  'idle',
  'paused',
  'draining',
  'degraded',
  'canary',
  'awaitingPromotion',
] as const satisfies readonly FunctionPhase[];
type MissingPhase = Exclude<FunctionPhase, (typeof FUNCTION_PHASES)[number]>;
const everyPhaseListed: [MissingPhase] extends [never] ? true : never = true;
void everyPhaseListed;

export interface Sample {
  /** Suffix after the family name (`_bucket`, `_sum`, `_count`) or ''. */
  suffix?: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family extends FamilyDef {
  samples: Sample[];
}

export interface WorkloadKeyed<S> {
  namespace: string;
  name: string;
  /** undefined: its status could not be read in time (no sample); null: no workflow runs. */
  status: S | null | undefined;
}

/** The families of every Function and Pipeline (a workload without a status adds no sample). */
export function workloadFamilies(
  functions: readonly (WorkloadKeyed<FunctionStatus> & { batchSize: number })[],
  pipelines: readonly WorkloadKeyed<PipelineStatus>[],
): Family[] {
  const families = new Map<string, Family>(
    Object.values(WORKLOAD_FAMILIES).map((d) => [d.name, { ...d, samples: [] }]),
  );
  const add = (def: FamilyDef, labels: Record<string, string>, value: number, suffix = '') =>
    families.get(def.name)!.samples.push({ labels, value, ...(suffix ? { suffix } : {}) });
  const F = WORKLOAD_FAMILIES;
  const addObservations = (
    o: WorkloadObservations,
    key: Record<string, string>,
    defs: Record<'failures' | 'retries' | 'claimsLost' | 'claimRetries' | 'seconds' | 'perSecond', FamilyDef>,
  ) => {
    for (const [type, n] of sortedEntries(o.failuresByType))
      add(defs.failures, { ...key, failure_type: type }, n);
    for (const [type, n] of sortedEntries(o.retriesByType))
      add(defs.retries, { ...key, failure_type: type }, n);
    add(defs.claimsLost, key, o.claimsLost);
    add(defs.claimRetries, key, o.claimRetries);
    for (const x of histogramSamples(o.batchSeconds, BATCH_SECONDS_BUCKETS, key))
      add(defs.seconds, x.labels, x.value, x.suffix);
    for (const x of histogramSamples(o.batchRowsPerSecond, BATCH_ROWS_PER_SECOND_BUCKETS, key))
      add(defs.perSecond, x.labels, x.value, x.suffix);
  };

  for (const f of functions) {
    if (f.status === undefined) continue;
    const key = { namespace: f.namespace, name: f.name };
    // The queue depth KEDA reads is 0 for a Function whose workflow does not run (ADR 0003).
    add(F.functionQueueDepth, key, f.status ? functionStatusDepth(f.status, f.batchSize) : 0);
    const s = f.status;
    if (!s) continue;
    add(F.functionRowsProcessed, key, s.counters.processed);
    add(F.functionRowsSuperseded, key, s.counters.superseded);
    add(F.functionBatches, key, s.counters.batches);
    add(F.functionBatchesFailed, key, s.counters.failedBatches);
    add(F.functionDiscoveryPasses, key, s.counters.discoveries);
    add(F.functionDeadLettered, key, s.counters.deadLettered);
    add(F.functionPendingRows, key, s.pendingRows);
    add(F.functionInFlightBatches, key, s.inFlightBatches);
    add(F.functionClaimsInFlight, key, s.claimsInFlight);
    add(F.functionRowsPerSecond, key, s.rowsPerSecond);
    for (const phase of FUNCTION_PHASES) add(F.functionPhase, { ...key, phase }, s.phase === phase ? 1 : 0);
    // Engine v1 runs measure nothing more.
    if (s.observations)
      addObservations(s.observations, key, {
        failures: F.functionFailures,
        retries: F.functionRetries,
        claimsLost: F.functionClaimsLost,
        claimRetries: F.functionClaimRetries,
        seconds: F.functionBatchSeconds,
        perSecond: F.functionBatchRowsPerSecond,
      });
  }

  for (const p of pipelines) {
    if (p.status === undefined) continue;
    const key = { namespace: p.namespace, name: p.name };
    add(F.pipelineQueueDepth, key, p.status ? pipelineQueueDepth(p.status) : 0);
    const s = p.status;
    if (!s) continue;
    const c = s.counters;
    const outcomes: [string, number][] = [
      ['submitted', c.submitted],
      ['done', c.done],
      ['failed', c.failed],
      ['already_written', c.alreadyWritten],
      ['duplicate', c.duplicates],
    ];
    for (const [outcome, n] of outcomes) add(F.pipelineItems, { ...key, outcome }, n);
    add(F.pipelineBatches, key, c.batches);
    add(F.pipelineChunksWritten, key, c.chunksWritten);
    add(F.pipelinePendingItems, key, s.queue.pending);
    add(F.pipelineInFlightBatches, key, s.inFlightBatches);
    if (s.observations)
      addObservations(s.observations, key, {
        failures: F.pipelineFailures,
        retries: F.pipelineRetries,
        claimsLost: F.pipelineClaimsLost,
        claimRetries: F.pipelineClaimRetries,
        seconds: F.pipelineBatchSeconds,
        perSecond: F.pipelineBatchItemsPerSecond,
      });
  }
  return [...families.values()];
}

function sortedEntries(r: Record<string, number>): [string, number][] {
  return Object.entries(r).sort(([a], [b]) => a.localeCompare(b));
}

/** `_bucket` (cumulative, `le` ascending, then +Inf), `_sum`, `_count` of a workflow-held histogram. */
export function histogramSamples(
  h: HistogramState,
  bounds: readonly number[],
  labels: Record<string, string>,
): Required<Sample>[] {
  let cumulative = 0;
  const out: Required<Sample>[] = bounds.map((le, i) => {
    cumulative += h.counts[i] ?? 0;
    return { suffix: '_bucket', labels: { ...labels, le: formatNumber(le) }, value: cumulative };
  });
  out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ suffix: '_sum', labels, value: h.sum });
  out.push({ suffix: '_count', labels, value: h.count });
  return out;
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return String(n);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Prometheus text exposition (format 0.0.4) of the families, HELP and TYPE even when empty. */
export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${f.name}${s.suffix ?? ''}${labels ? `{${labels}}` : ''} ${formatNumber(s.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
