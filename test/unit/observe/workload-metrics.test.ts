// The families /metrics derives from workflow statuses: exact text for a known status, bounded
// failure-type labels, cumulative histogram buckets, and a Function whose status did not answer.
import { describe, expect, it } from 'vitest';
import { functionCountersSchema, type FunctionStatus } from '../../../src/contracts/function.js';
import {
  BATCH_SECONDS_BUCKETS,
  failureTypeLabel,
  observeBatch,
  observeClaimAttempt,
  observeFailure,
  observeRetry,
  workloadObservationsSchema,
} from '../../../src/contracts/observations.js';
import { pipelineCountersSchema, type PipelineStatus } from '../../../src/contracts/pipeline.js';
import {
  histogramSamples,
  renderFamilies,
  workloadFamilies,
  type Family,
} from '../../../src/observe/workload-metrics.js';

function functionStatus(): FunctionStatus {
  const observations = workloadObservationsSchema.parse({});
  observeBatch(observations, 200, 32); // 0.2 s, 160 rows/s
  observeBatch(observations, 3_000, 30); // 3 s, 10 rows/s
  observeFailure(observations, 'HandlerFailed');
  observeFailure(observations, 'ClaimLost');
  observeFailure(observations, 'SomethingAHandlerMadeUp');
  observeRetry(observations, 'HandlerFailed');
  observeClaimAttempt(observations, 3); // two lost attempts before the one that finished
  observeClaimAttempt(observations, undefined);
  return {
    name: 'tag-products',
    k8sNamespace: 'layer',
    generation: 1,
    phase: 'running',
    outputVersion: 'v1',
    targetNamespaces: ['products'],
    pendingRows: 100,
    pendingRowsByNamespace: { products: 100 },
    inFlightBatches: 2,
    inFlightRows: 64,
    claimsInFlight: 1,
    inFlight: [],
    counters: functionCountersSchema.parse({
      processed: 62,
      superseded: 2,
      failedBatches: 1,
      retries: 1,
      deadLettered: 3,
      batches: 2,
      discoveries: 4,
    }),
    rowsPerSecond: 12.5,
    runsSoFar: 1,
    observations,
  };
}

function sample(families: Family[], name: string, labels: Record<string, string>): number | undefined {
  const [base, suffix = ''] = name.endsWith('_bucket')
    ? [name.slice(0, -7), '_bucket']
    : name.endsWith('_sum')
      ? [name.slice(0, -4), '_sum']
      : name.endsWith('_count')
        ? [name.slice(0, -6), '_count']
        : [name];
  const f = families.find((x) => x.name === base) ?? families.find((x) => x.name === name);
  return f?.samples.find(
    (s) =>
      (s.suffix ?? '') === (f.name === name ? '' : suffix) &&
      JSON.stringify(s.labels) === JSON.stringify(labels),
  )?.value;
}

describe('workload families', () => {
  const key = { namespace: 'layer', name: 'tag-products' };
  const families = workloadFamilies([{ ...key, batchSize: 32, status: functionStatus() }], []);

  it.each([
    ['layer_udf_queue_depth', key, 4], // ceil((100 - 64) / 32) + 2 in flight (ADR 0003)
    ['layer_function_rows_processed_total', key, 62],
    ['layer_function_rows_superseded_total', key, 2],
    ['layer_function_batches_total', key, 2],
    ['layer_function_batches_failed_total', key, 1],
    ['layer_function_dead_lettered_rows', key, 3],
    ['layer_function_pending_rows', key, 100],
    ['layer_function_in_flight_batches', key, 2],
    ['layer_function_claims_in_flight', key, 1],
    ['layer_function_rows_per_second', key, 12.5],
    ['layer_function_discovery_passes_total', key, 4],
    ['layer_function_claims_lost_total', key, 1],
    ['layer_function_claim_retries_total', key, 2],
    ['layer_function_phase', { ...key, phase: 'running' }, 1],
    ['layer_function_phase', { ...key, phase: 'idle' }, 0],
    ['layer_function_batch_failures_total', { ...key, failure_type: 'HandlerFailed' }, 1],
    ['layer_function_batch_failures_total', { ...key, failure_type: 'ClaimLost' }, 1],
    // A made-up type from a handler is `Other`: the label set stays bounded.
    ['layer_function_batch_failures_total', { ...key, failure_type: 'Other' }, 1],
    ['layer_function_retries_total', { ...key, failure_type: 'HandlerFailed' }, 1],
    ['layer_function_batch_duration_seconds_count', key, 2],
    ['layer_function_batch_duration_seconds_sum', key, 3.2],
    ['layer_function_batch_duration_seconds_bucket', { ...key, le: '0.1' }, 0],
    ['layer_function_batch_duration_seconds_bucket', { ...key, le: '0.25' }, 1],
    ['layer_function_batch_duration_seconds_bucket', { ...key, le: '5' }, 2],
    ['layer_function_batch_duration_seconds_bucket', { ...key, le: '+Inf' }, 2],
    ['layer_function_batch_rows_per_second_bucket', { ...key, le: '10' }, 1],
    ['layer_function_batch_rows_per_second_bucket', { ...key, le: '250' }, 2],
  ])('%s %j = %d', (name, labels, value) => {
    expect(sample(families, name, labels)).toBe(value);
  });

  it('renders exact Prometheus text for a family (HELP, TYPE, escaped labels)', () => {
    const text = renderFamilies(
      workloadFamilies([{ namespace: 'a"b', name: 'x\\y', batchSize: 10, status: null }], []).filter(
        (f) => f.name === 'layer_udf_queue_depth',
      ),
    );
    expect(text).toBe(
      [
        '# HELP layer_udf_queue_depth Batches waiting for or held by a worker of a Function.',
        '# TYPE layer_udf_queue_depth gauge',
        'layer_udf_queue_depth{namespace="a\\"b",name="x\\\\y"} 0',
        '',
      ].join('\n'),
    );
  });

  it('a Function whose status did not answer has no sample; one without a workflow has depth 0 only', () => {
    const f = workloadFamilies(
      [
        { namespace: 'layer', name: 'stuck', batchSize: 32, status: undefined },
        { namespace: 'layer', name: 'absent', batchSize: 32, status: null },
      ],
      [],
    );
    const withSamples = f.filter((x) => x.samples.length > 0).map((x) => x.name);
    expect(withSamples).toEqual(['layer_udf_queue_depth']);
    expect(f.find((x) => x.name === 'layer_udf_queue_depth')!.samples).toEqual([
      { labels: { namespace: 'layer', name: 'absent' }, value: 0 },
    ]);
  });

  it('Pipelines: items by outcome, pending, in flight, depth', () => {
    const observations = workloadObservationsSchema.parse({});
    observeBatch(observations, 500, 10); // 0.5 s, 20 items/s
    observeRetry(observations, 'WorkerUnavailable');
    observeFailure(observations, 'ClaimLost');
    const status = {
      observations,
      phase: 'running',
      batchSize: 10,
      inFlightBatches: 1,
      queue: { pending: 25, inFlight: 10, done: 5, failed: 1 },
      counters: pipelineCountersSchema.parse({
        submitted: 41,
        done: 5,
        failed: 1,
        chunksWritten: 12,
        batches: 2,
      }),
    } as PipelineStatus;
    const p = workloadFamilies([], [{ namespace: 'layer', name: 'docs', status }]);
    const k = { namespace: 'layer', name: 'docs' };
    expect(sample(p, 'layer_pipeline_queue_depth', k)).toBe(4); // ceil(25 / 10) + 1
    expect(sample(p, 'layer_pipeline_items_total', { ...k, outcome: 'submitted' })).toBe(41);
    expect(sample(p, 'layer_pipeline_items_total', { ...k, outcome: 'failed' })).toBe(1);
    expect(sample(p, 'layer_pipeline_pending_items', k)).toBe(25);
    expect(sample(p, 'layer_pipeline_chunks_written_total', k)).toBe(12);
    expect(sample(p, 'layer_pipeline_batch_duration_seconds_bucket', { ...k, le: '0.5' })).toBe(1);
    expect(sample(p, 'layer_pipeline_batch_duration_seconds_bucket', { ...k, le: '0.25' })).toBe(0);
    expect(sample(p, 'layer_pipeline_batch_items_per_second_bucket', { ...k, le: '50' })).toBe(1);
    expect(sample(p, 'layer_pipeline_retries_total', { ...k, failure_type: 'WorkerUnavailable' })).toBe(1);
    expect(sample(p, 'layer_pipeline_claims_lost_total', k)).toBe(1);
  });
});

describe('histograms held by the workflow', () => {
  it('buckets are cumulative and end with +Inf = count; values over every bound land in +Inf', () => {
    const o = workloadObservationsSchema.parse({});
    observeBatch(o, 1_000_000, 1); // 1000 s: over every bound
    observeBatch(o, 40, 1); // 0.04 s: first bucket
    const s = histogramSamples(o.batchSeconds, BATCH_SECONDS_BUCKETS, {});
    expect(s[0]).toEqual({ suffix: '_bucket', labels: { le: '0.05' }, value: 1 });
    expect(s[BATCH_SECONDS_BUCKETS.length - 1]!.value).toBe(1);
    expect(s.slice(-3)).toEqual([
      { suffix: '_bucket', labels: { le: '+Inf' }, value: 2 },
      { suffix: '_sum', labels: {}, value: 1000.04 },
      { suffix: '_count', labels: {}, value: 2 },
    ]);
  });

  it('a zero-time batch counts for duration but not rows/s (no division by zero)', () => {
    const o = workloadObservationsSchema.parse({});
    observeBatch(o, 0, 10);
    expect(o.batchSeconds.count).toBe(1);
    expect(o.batchRowsPerSecond.count).toBe(0);
  });

  it.each([
    ['HandlerFailed', 'HandlerFailed'],
    ['ClaimLost', 'ClaimLost'],
    ['MyOwnError', 'Other'],
    [undefined, 'Other'],
  ])('failure type %s is labelled %s', (type, label) => {
    expect(failureTypeLabel(type)).toBe(label);
  });
});
