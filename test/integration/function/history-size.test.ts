// What a Function leaves in Temporal's history per row (issue 22, docs/adr/0100): claims carry id
// ranges and the spec by fingerprint, so neither a claim's scheduled input nor the history as a
// whole grows with its rows' ids — checked in bytes (bench/temporal-costs.ts counts them), on a
// UUID-keyed namespace, with every value checked too.
import { describe, expect, it } from 'vitest';
import { claimBatches, type FunctionClaimInput } from '../../../packages/worker/src/contracts/function.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { seedProducts } from '../../../src/store/seed.js';
import { payloadBytes, temporalCosts } from '../../../bench/temporal-costs.js';
import {
  baseSpec,
  eventually,
  readAll,
  recordHistories,
  engineHarnessPerFile,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
} from './harness.js';

const ROWS = 8_192;

const h = engineHarnessPerFile();

describe('Function history per row', () => {
  it('keeps claims and the whole history under 2 KB per 1,000 UUID rows, every value written', async () => {
    const ns = uniqueName('products-uuid');
    const name = uniqueName('bytes');
    await seedProducts(h.store, { namespace: ns, rows: ROWS, idKind: 'uuid' });
    const spec = baseSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 30 },
      schedule: {
        discoveryIntervalSeconds: 300,
        leaseSeconds: 30,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const seen = new Map<string, number>();
    const worker = startPullWorker(h, spec, taggingHandler(seen));
    try {
      await startFunction(h, spec);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === ROWS,
        120_000,
        `${ROWS} rows`,
      );
    } finally {
      await worker.stop();
    }
    // Exact values, each row computed once.
    const rows = await readAll(h.store, ns, ['title', 'tags', 'tags_v']);
    expect(rows).toHaveLength(ROWS);
    for (const r of rows) {
      expect(r.tags_v).toBe('v1');
      expect(r.tags).toEqual(String(r.title).toLowerCase().split(/\s+/));
    }
    expect(seen.size).toBe(ROWS);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);

    const workflowId = functionWorkflowId(spec.k8sNamespace, name);
    // function-v2-ranges-1.json was recorded before claims were sized by time (its runs replay
    // without the patch); this label holds runs with it.
    await recordHistories(h, workflowId, 'function-v2-sized-by-time');
    // Each claim's scheduled input: a header, then about one UUID per batch of 64 rows.
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    let claims = 0;
    let largestClaimRows = 0;
    for (const e of history.events ?? []) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name !== 'runFunctionClaim') continue;
      claims += 1;
      const input = JSON.parse(
        Buffer.from(scheduled.input!.payloads![0]!.data!).toString('utf8'),
      ) as FunctionClaimInput;
      const claimRows = claimBatches(input).reduce((n, b) => n + (b.rows ?? b.ids.length), 0);
      largestClaimRows = Math.max(largestClaimRows, claimRows);
      const bytes = payloadBytes(scheduled.input);
      expect(input.spec, 'the spec travels by fingerprint').toBeUndefined();
      expect(bytes, `claim ${input.claimId}: ${bytes} bytes for ${claimRows} rows`).toBeLessThanOrEqual(
        300 + claimRows,
      );
    }
    expect(claims).toBeGreaterThan(0);
    // A range claim is bounded by time and batches, not 1,024 rows (docs/adr/0117): fast batches
    // make claims of up to 64 batches, so the Temporal work per row is a quarter of what it was.
    expect(largestClaimRows).toBeGreaterThan(1_024);
    const costs = await temporalCosts(h.client, workflowId);
    const perThousand = (costs.payloadBytes / ROWS) * 1000;
    process.stderr.write(
      `[history-size] ${ROWS} UUID rows: ${Math.round(perThousand)} payload bytes per 1,000 rows, ${claims} claims (largest ${largestClaimRows} rows), ${costs.events} events, ${costs.historyActions} actions + ≤${costs.heartbeats} heartbeats\n`,
    );
    expect(perThousand).toBeLessThan(2_048);
  });
});
