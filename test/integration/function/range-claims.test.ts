// Range claims (docs/adr/0100) on the real Temporal dev server and the embedded store: a change
// of what is work while range claims are out (here the filter widens) starts the new pass only
// once they ended, so no row is computed twice — a range cannot exclude the rows held elsewhere.
import { describe, expect, it } from 'vitest';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  engineHarnessPerFile,
  readAll,
  seededFunction,
  startFunction,
  startPullWorker,
  statusWhen,
} from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const h = engineHarnessPerFile();

describe('range claims', () => {
  it('a filter widened while range claims are out computes every row exactly once', async () => {
    const ROWS = 200;
    const version: unknown[] = [
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ];
    // First the odd rows up to 40 are work: three batches of 8, three claims (nothing measured yet).
    const fn = await seededFunction(h, 'widen', ROWS, {
      filter: ['And', [version, ['category', 'Eq', 'odd'], ['id', 'Lte', 40]]],
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 30 },
      schedule: {
        discoveryIntervalSeconds: 300,
        leaseSeconds: 60,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
    });
    const seen = new Map<string, number>();
    // Batches holding odd rows from 17 wait for the release: their claims stay out while the
    // filter widens, and a claim of the new pass that held the same rows would wait with them.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = (id: unknown) => Number(id) >= 17 && Number(id) % 2 === 1;
    const handler: FunctionHandler = async (rows) => {
      if (rows.some((r) => held(r.id))) await released;
      return rows.map((r) => {
        seen.set(String(r.id), (seen.get(String(r.id)) ?? 0) + 1);
        return { id: r.id, value: ['tag'] };
      });
    };
    const worker = startPullWorker(h, fn.spec, handler, 4);
    try {
      await startFunction(h, fn.spec);
      await statusWhen(
        h,
        fn,
        (s) => s.counters.processed === 8 && s.claimsInFlight === 2,
        60_000,
        'two claims held',
      );
      // Every row becomes work while the two claims are out.
      await startFunction(h, { ...fn.spec, generation: 2, filter: version });
      await sleep(2_000);
      release();
      await statusWhen(
        h,
        fn,
        // At least: rows computed twice would also be counted twice.
        (s) => s.counters.processed >= ROWS,
        60_000,
        `${ROWS} rows`,
      );
    } finally {
      release();
      await worker.stop();
    }
    const rows = await readAll(h.store, fn.storeNamespace, ['tags_v']);
    expect(rows.every((r) => r.tags_v === 'v1')).toBe(true);
    expect(seen.size).toBe(ROWS);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice, 'rows computed more than once').toEqual([]);
  });
});
