// What this process measures itself: store calls by operation and status, reconcile passes by
// outcome and errors by reason, and the name list the dashboard test checks against.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import {
  TEMPORAL_SDK_METRICS,
  createLayerMetrics,
  errorReason,
  exportedMetricNames,
  instrumentActivities,
  instrumentStore,
} from '../../../src/observe/metrics.js';
import { StoreAuthError } from '../../../packages/worker/src/store/errors.js';
import type { StoreClient } from '../../../packages/worker/src/store/client.js';

async function value(
  m: ReturnType<typeof createLayerMetrics>,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name.replace(/_count$/, ''));
  const wanted = name.endsWith('_count') ? name : undefined;
  return metric?.values.find(
    (v) =>
      (wanted ? (v as { metricName?: string }).metricName === wanted : true) &&
      Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l),
  )?.value;
}

describe('process metrics', () => {
  it('store calls: duration by operation and status; failures counted by HTTP status', async () => {
    const m = createLayerMetrics({ processMetrics: false });
    // A pure-logic fake: the wrapper only sees resolved and rejected promises.
    const fake = {
      countRows: async () => 7,
      query: async () => {
        throw new StoreAuthError('store 401 error', 401, 'products', undefined);
      },
    } as unknown as StoreClient;
    const store = instrumentStore(fake, m);
    expect(instrumentStore(fake, m)).toBe(store); // one wrapper per client
    expect(await store.countRows('products')).toBe(7);
    await expect(store.query('products', {})).rejects.toBeInstanceOf(StoreAuthError);
    expect(
      await value(m, 'layer_store_request_duration_seconds_count', { operation: 'countRows', status: 'ok' }),
    ).toBe(1);
    expect(
      await value(m, 'layer_store_request_duration_seconds_count', { operation: 'query', status: '401' }),
    ).toBe(1);
    expect(await value(m, 'layer_store_request_errors_total', { operation: 'query', status: '401' })).toBe(1);
    expect(
      await value(m, 'layer_store_request_errors_total', { operation: 'countRows', status: 'ok' }),
    ).toBeUndefined();
  });

  it('reconcile passes by kind and outcome; errors by reason; other activities untouched', async () => {
    const m = createLayerMetrics({ processMetrics: false });
    let calls = 0;
    const other = async () => 'same';
    const activities = instrumentActivities(
      {
        reconcilePass: async (ref: { kind: string }) => {
          calls += 1;
          if (calls === 2) throw ApplicationFailure.nonRetryable('apply failed: boom', 'ApplyFailed');
          return { outcome: 'applied', kind: ref.kind };
        },
        other,
      },
      m,
    );
    expect(activities.other).toBe(other);
    expect(await activities.reconcilePass({ kind: 'Function' })).toEqual({
      outcome: 'applied',
      kind: 'Function',
    });
    await expect(activities.reconcilePass({ kind: 'Function' })).rejects.toThrow('apply failed');
    expect(await value(m, 'layer_reconcile_passes_total', { kind: 'Function', outcome: 'applied' })).toBe(1);
    expect(await value(m, 'layer_reconcile_errors_total', { kind: 'Function', reason: 'ApplyFailed' })).toBe(
      1,
    );
    expect(await value(m, 'layer_reconcile_duration_seconds_count', { kind: 'Function' })).toBe(2);
  });

  it.each([
    [ApplicationFailure.retryable('x', 'StoreUnavailable'), 'StoreUnavailable'],
    [new StoreAuthError('m', 401, undefined, undefined), 'StoreAuthError'],
    [new TypeError('x'), 'TypeError'],
    [{ type: 'has spaces and is long' }, 'object'],
    ['a string', 'string'],
  ])('error reason of %s is %s', (err, reason) => {
    expect(errorReason(err)).toBe(reason);
  });

  it('the exported names include every family, histogram series and the SDK metrics the dashboard uses', async () => {
    const names = await exportedMetricNames();
    for (const n of [
      'layer_udf_queue_depth',
      'layer_function_rows_processed_total',
      'layer_function_batch_duration_seconds_bucket',
      'layer_reconcile_duration_seconds_bucket',
      'layer_store_request_errors_total',
      'process_cpu_seconds_total',
      ...TEMPORAL_SDK_METRICS.map((t) => t.name),
    ])
      expect(names.has(n), n).toBe(true);
    // Prometheus conventions: counters end in _total, durations are in seconds.
    for (const n of names) {
      expect(n, n).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(n, n).not.toMatch(/_(ms|milliseconds)(_|$)/);
    }
  });
});
