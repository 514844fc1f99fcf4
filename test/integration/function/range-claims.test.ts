// Range claims (docs/adr/0100) on the real Temporal dev server and the embedded store: a change
// of what is work while range claims are out (here the filter widens) starts the new pass only
// once they ended, so no row is computed twice — a range cannot exclude the rows held elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  uniqueName,
  type EngineHarness,
} from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('range claims', () => {
  it('a filter widened while range claims are out computes every row exactly once', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('widen');
    const ROWS = 200;
    await seedRows(h.store, ns, range(1, ROWS + 1));
    const version: unknown[] = [
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ];
    // First the odd rows up to 40 are work: three batches of 8, three claims (nothing measured yet).
    const spec = baseSpec(name, ns, {
      filter: ['And', [version, ['category', 'Eq', 'odd'], ['id', 'Lte', 40]]],
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 30 },
      schedule: {
        discoveryIntervalSeconds: 300,
        leaseSeconds: 60,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
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
    const worker = startPullWorker(h, spec, handler, 4);
    try {
      await startFunction(h, spec);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 8 && s.claimsInFlight === 2,
        60_000,
        'two claims held',
      );
      // Every row becomes work while the two claims are out.
      await startFunction(h, { ...spec, generation: 2, filter: version });
      await sleep(2_000);
      release();
      await eventually(
        () => statusOf(h, ref),
        // At least: rows computed twice would also be counted twice.
        (s) => s.counters.processed >= ROWS,
        60_000,
        `${ROWS} rows`,
      );
    } finally {
      release();
      await worker.stop();
    }
    const rows = await readAll(h.store, ns, ['tags_v']);
    expect(rows.every((r) => r.tags_v === 'v1')).toBe(true);
    expect(seen.size).toBe(ROWS);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice, 'rows computed more than once').toEqual([]);
  });
});
