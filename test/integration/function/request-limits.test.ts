// Issue 24 item 1, the limits part (docs/adr/0112): a large Function — rows with 4 KiB values,
// 4 KiB outputs, the largest batch size a Function may have, a third of its later rows
// dead-lettered with multi-byte error text and then replayed — runs with every request the engine sends within
// the service's documented limits. The store records the largest request of each kind and
// refuses (400/413) anything past a limit, so a run with no refusal and these maxima shows it.
//
// Size: LAYER_LIMITS_AUDIT_ROWS rows (default 20,000). The size, 200,000 rows, holds
// ~1.6 GB of values in the test's in-memory store and takes minutes; run it with
// LAYER_LIMITS_AUDIT_ROWS=200000 (ADR 0112 has the measured times).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayFunctionDeadLetters } from '../../../src/client/function-client.js';
import {
  STORE_MAX_PATCH_BY_FILTER_ROWS,
  STORE_MAX_TOP_K,
  STORE_MAX_WRITE_REQUEST_BYTES,
} from '../../../packages/worker/src/contracts/store-limits.js';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  baseSpec,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusWhen,
  testFunction,
  uniqueName,
  type EngineHarness,
} from './harness.js';

const ROWS = Number(process.env.LAYER_LIMITS_AUDIT_ROWS ?? 20_000);
const VALUE_BYTES = 4_096;
/** The largest batch a Function may ask for (src/api/workload.ts): the largest requests. */
const BATCH_SIZE = 10_000;
/** No limit is documented for these; the engine's own bounds (ADR 0112). */
const MAX_ROWS_PER_WRITE = BATCH_SIZE;
const MAX_FILTER_BYTES = 1024 * 1024;

/** A value of exactly `bytes` bytes that names its row. */
const sized = (id: number, fill: string, bytes = VALUE_BYTES) => `${id}:`.padEnd(bytes, fill);
/**
 * Refused until the replay: a third of the rows after the first batch. The first batch is whole,
 * so its outputs (10,000 × 4 KiB, over the engine's 32 MiB write budget) are cut by bytes; at
 * 200,000 rows the replay clears more than one patch_by_filter may (50,000).
 */
const rejected = (id: number) => id > BATCH_SIZE && id % 3 === 0;

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({ storeAudit: true });
});
afterAll(async () => {
  await h?.close();
});

describe(`a Function over ${ROWS} rows with 4 KiB values`, () => {
  it(
    'sends no request past the service limits: body size, rows per write, top_k, patch_by_filter rows, filter size, value sizes',
    async () => {
      const started = Date.now();
      const storeNamespace = uniqueName('limits');
      // Rows with a 4 KiB value each (at the filterable value limit), seeded 5,000 at a time.
      for (let from = 1; from <= ROWS; from += 5_000)
        await seedRows(h.store, storeNamespace, range(from, Math.min(ROWS, from + 4_999) + 1), (id) => ({
          body: sized(id, 'b'),
        }));
      const seededMs = Date.now() - started;
      const fn = testFunction(
        baseSpec(uniqueName('limits'), storeNamespace, {
          inputs: ['id', 'body'],
          output: { attribute: 'summary', kind: 'text', version: 'v1' },
          filter: undefined,
          worker: { dispatch: 'pull', batchSize: BATCH_SIZE, timeoutSeconds: 300 },
          schedule: {
            discoveryIntervalSeconds: 5,
            leaseSeconds: 300,
            maxInFlightBatches: 2,
            maxConcurrentScans: 1,
          },
          retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
        }),
      );
      const audit = h.storeServer.store.audit!;
      audit.reset(); // the engine's requests only, not the seeding

      // Until the replay, a third of the later rows are refused with 9,000 bytes of multi-byte
      // text (a claim retried on a busy machine refuses them again).
      let cured = false;
      const badInputs: number[] = [];
      const handler: FunctionHandler = (rows) =>
        rows.map((r) => {
          const id = Number(r.id);
          if (!cured && rejected(id)) return { id, error: '€'.repeat(3_000) };
          if (r.inputs.body !== sized(id, 'b')) badInputs.push(id);
          return { id, value: sized(id, 's') };
        });
      const refused = range(1, ROWS + 1).filter(rejected).length;
      expect(refused).toBeGreaterThan(0);
      const worker = startPullWorker(h, fn.spec, handler, 2);
      try {
        await startFunction(h, fn.spec);
        const timeoutMs = Math.max(300_000, ROWS * 20);
        await statusWhen(
          h,
          fn,
          (s) => s.counters.processed === ROWS - refused && s.counters.deadLettered === refused,
          timeoutMs,
          `${ROWS - refused} rows written and ${refused} dead-lettered`,
        );
        const firstPassMs = Date.now() - started - seededMs;
        // Replay: patch_by_filter clears the dead letters, at most 50,000 rows per request.
        cured = true;
        expect(await replayFunctionDeadLetters(h.client, fn.ref)).toBe(refused);
        await statusWhen(
          h,
          fn,
          (s) => s.counters.processed === ROWS && s.counters.deadLettered === 0,
          timeoutMs,
          `all ${ROWS} rows written after the replay`,
        );
        const totalMs = Date.now() - started;

        const a = audit.snapshot();
        // Nothing was refused: no value past 8 MiB or (filterable) 4 KiB, no document past
        // 64 MiB, no body past the request limit, no top_k past 10,000.
        expect(a.refused).toEqual({});
        expect(a.maxBodyBytes).toBeLessThanOrEqual(STORE_MAX_WRITE_REQUEST_BYTES);
        expect(a.maxTopK).toBeLessThanOrEqual(STORE_MAX_TOP_K);
        expect(a.maxPatchByFilterRows).toBeLessThanOrEqual(STORE_MAX_PATCH_BY_FILTER_ROWS);
        expect(a.maxRowsPerWrite).toBeLessThanOrEqual(MAX_ROWS_PER_WRITE);
        expect(a.maxFilterBytes).toBeLessThanOrEqual(MAX_FILTER_BYTES);
        // The run exercised what it audits: full batches whose writes were cut by bytes, a
        // replay by filter.
        if (ROWS >= BATCH_SIZE) expect(a.maxRowsPerWrite).toBeLessThan(BATCH_SIZE);
        expect(a.maxTopK).toBe(STORE_MAX_TOP_K); // full discovery pages and range reads
        expect(a.maxPatchByFilterRows).toBe(Math.min(refused, STORE_MAX_PATCH_BY_FILTER_ROWS));
        process.stdout.write(
          `request audit, ${ROWS} rows × 4 KiB: ${JSON.stringify(a)}; ` +
            `seeded in ${(seededMs / 1000).toFixed(0)} s, first pass ${(firstPassMs / 1000).toFixed(0)} s, ` +
            `all done ${(totalMs / 1000).toFixed(0)} s\n`,
        );

        // Every input arrived whole, every value is exact, and every dead letter was cleared.
        expect(badInputs).toEqual([]);
        const rows = await readAll(h.store, storeNamespace, ['summary', 'summary_v', 'summary_error']);
        expect(rows).toHaveLength(ROWS);
        for (const r of rows) {
          expect(r.summary).toBe(sized(Number(r.id), 's'));
          expect(r.summary_v).toBe('v1');
          expect(r.summary_error ?? null).toBeNull();
        }
      } finally {
        await worker.stop();
      }
    },
    Math.max(600_000, ROWS * 60),
  );
});
