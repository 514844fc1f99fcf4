// A Temporal host dies while a Function runs (issue 22 item 3): on the two-host cluster on
// PostgreSQL, each host is SIGKILLed in turn while claims are in flight and started again a few
// seconds later (same address and ports, so its shards come back to it through membership). The
// Function must end with every row at exactly its computed value, no row missing and no dead
// letter — the host's death costs time (shards move, activities retry), never a row. Both hosts
// are killed so the one owning the Function workflow's shard is hit whichever it is. The cluster
// is this file's own (test/helpers/temporal-cluster.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import { startClusterForFile, type ClusterForFile } from '../../helpers/temporal-cluster.js';
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
} from '../function/harness.js';

const ROWS = 4_000;
const DOWN_MS = 3_000;
/** Slow enough (8 rows per 500 ms, 4 in flight ≈ 64 rows/s, about a minute) that both kills land mid-run. */
const BATCH_MS = 500;

let cluster: ClusterForFile;
let h: EngineHarness;

beforeAll(async () => {
  cluster = await startClusterForFile({ hosts: 2, numHistoryShards: 16 });
  h = await startEngineHarness();
}, 45 * 60_000);

afterAll(async () => {
  await h?.close();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const expectedTags = (id: number) => ['product', 'number', String(id), 'deluxe'];

describe('a Temporal host killed mid-run', () => {
  it('leaves every row at exactly its value with no dead letters when each host is SIGKILLed and restarted', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('hostkill');
    await seedRows(h.store, ns, range(1, ROWS + 1));
    const spec = baseSpec(name, ns, {
      // Generous timeouts and retries: a shard moving between hosts stalls calls for seconds.
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 60 },
      schedule: {
        discoveryIntervalSeconds: 1,
        leaseSeconds: 60,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
      retry: { maxAttempts: 10, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
    });
    const handler: FunctionHandler = async (rows) => {
      await sleep(BATCH_MS);
      return rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toLowerCase().split(/\s+/) }));
    };
    const worker = startPullWorker(h, spec, handler);
    const kills: { host: string; processedAtKill: number; pidBefore: number; pidAfter: number }[] = [];
    try {
      await startFunction(h, spec);
      for (const [i, host] of cluster.hosts.entries()) {
        // Mid-run: some rows done, most still to do.
        const before = await eventually(
          () => statusOf(h, spec),
          (s) => s.counters.processed >= (i + 1) * 200,
          300_000,
          `${(i + 1) * 200} rows processed before killing ${host.name}`,
        );
        const pidBefore = host.pid();
        await host.kill('SIGKILL');
        expect(host.alive()).toBe(false);
        await sleep(DOWN_MS);
        await host.restart();
        kills.push({
          host: host.name,
          processedAtKill: before.counters.processed,
          pidBefore,
          pidAfter: host.pid(),
        });
      }
      const status = await eventually(
        () => statusOf(h, spec),
        (s) => s.counters.processed >= ROWS && s.pendingRows === 0 && s.phase === 'idle',
        600_000,
        `all ${ROWS} rows processed after the kills`,
      );
      expect(status.counters.deadLettered).toBe(0);
    } finally {
      await worker.stop();
    }
    // Each kill happened while work remained, and each host is a new process now.
    expect(kills).toHaveLength(2);
    for (const k of kills) {
      expect(k.processedAtKill).toBeLessThan(ROWS);
      expect(k.pidAfter).not.toBe(k.pidBefore);
    }
    expect(cluster.hosts.every((x) => x.alive())).toBe(true);
    const rows = await readAll(h.store, ns, ['tags', 'tags_v', 'tags_error']);
    expect(rows).toHaveLength(ROWS);
    const wrong = rows.filter(
      (r) =>
        r.tags_v !== 'v1' ||
        r.tags_error != null ||
        JSON.stringify(r.tags) !== JSON.stringify(expectedTags(r.id as number)),
    );
    expect(wrong).toEqual([]);
    expect(new Set(rows.map((r) => r.id as number))).toEqual(new Set(range(1, ROWS + 1)));
  });
});
