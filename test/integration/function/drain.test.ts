// Scale-in that drains (docs/adr/0103), on the real Temporal dev server and the embedded store: a
// pull worker process that gets SIGTERM mid-claim (what a pod gets on scale-in, rollout or node
// drain) finishes and writes the batch its handler is computing, starts no other, ends its claim
// with what it finished and exits; the workflow hands the claim's other batches to a second worker
// at once. Nothing the stopped worker computed is computed again and no claim waits for its
// heartbeat timeout. (The cluster test, test/integration/cluster/drain-rollout.test.ts, does the
// same through KEDA and real pods.)
import { describe, expect, it } from 'vitest';
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { CLAIM_HEARTBEAT_TIMEOUT_MS } from '../../../packages/worker/src/contracts/claims.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  claimHistory,
  engineHarnessPerFile,
  range,
  readAll,
  seededFunction,
  startFunction,
  startPullWorker,
  statusWhen,
  taggingHandler,
} from './harness.js';
import { spawnFixture } from './fixtures/spawn.js';

const h = engineHarnessPerFile({ storeApiKeys: ['test'] });

describe('a pull worker told to stop drains', () => {
  it('SIGTERM mid-claim: the batch in hand is finished and written, the rest handed back at once, nothing computed twice', async () => {
    // A lease far past the heartbeat timeout: a claim resumed by a lapse would show as attempt 2.
    const fn = await seededFunction(h, 'drain', 60, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 120,
        maxInFlightBatches: 1,
        maxConcurrentScans: 1,
      },
    });
    const stopping = spawnFixture('pull-worker-process.ts', {
      HANDLER: 'slow',
      SLOW_MS: '1000',
      LAYER_TASK_QUEUE: functionTaskQueue(fn.spec.k8sNamespace, fn.spec.name),
      LAYER_TEMPORAL_ADDRESS: temporalAddress(),
      LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_STORE_URL: h.storeServer.url,
      LAYER_TIMEOUT_SECONDS: String(fn.spec.worker.timeoutSeconds),
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      stopping.process.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    const seen = new Map<string, number>();
    let survivor: { stop(): Promise<void> } | undefined;
    try {
      await startFunction(h, fn.spec);
      // The first claims hold one batch each (nothing measured yet); a later one holds several.
      // Stop the worker while its handler computes rows 13..16, in the middle of such a claim.
      await stopping.waitForLine(/^BATCH 13,/);
      const sigtermAt = Date.now();
      stopping.process.kill('SIGTERM');
      survivor = startPullWorker(h, fn.spec, taggingHandler(seen), 1);
      const exit = await exited;
      const drainMs = exit.at - sigtermAt;
      process.stderr.write(`[drain] SIGTERM → exit ${drainMs} ms (handler takes 1000 ms a batch)\n`);
      expect(exit.code).toBe(0);
      // Within the drain window (batch timeout + write margin), long before a SIGKILL would come.
      expect(drainMs).toBeLessThan((fn.spec.worker.timeoutSeconds + 5) * 1000);

      const s = await statusWhen(h, fn, (x) => x.counters.processed === 60, 60_000, '60 rows');
      // Every batch the stopped worker started was finished and written by it: rows 13..16 too.
      const announced = stopping.lines
        .filter((l) => l.startsWith('BATCH '))
        .flatMap((l) => l.slice(6).split(',').map(Number));
      expect(announced).toContain(16);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v']);
      const byStopped = rows.filter((r) => JSON.stringify(r.tags) === '["from-child"]').map((r) => r.id);
      expect([...byStopped].sort((a, b) => Number(a) - Number(b))).toEqual(
        [...announced].sort((a, b) => a - b),
      );
      // The survivor computed exactly the rest, each row once: nothing finished was redone.
      expect([...seen.keys()].map(Number).sort((a, b) => a - b)).toEqual(
        range(1, 61).filter((id) => !announced.includes(id)),
      );
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      for (const r of rows) expect(r.tags_v).toBe('v1');

      // No claim lost or retried: the stopped worker's claim ended with a report, not a lapse.
      expect(s.counters.deadLettered).toBe(0);
      expect(s.observations?.claimRetries).toBe(0);
      expect(s.observations?.claimsLost).toBe(0);
      expect(s.observations?.failuresByType).toEqual({});
      const { claims } = await claimHistory(h, fn.workflowId);
      expect(claims.every((c) => (c.attempt ?? 1) === 1)).toBe(true);
      // The claim in hand at SIGTERM reported fewer batches than it carried (the rest handed back)…
      const handedBack = claims.find(
        (c) => c.result && c.result.outcomes.length < c.batches && c.completedAtMs! >= sigtermAt,
      );
      expect(handedBack, JSON.stringify(claims)).toBeDefined();
      expect(handedBack!.result!.outcomes.every((o) => o.status === 'done')).toBe(true);
      // …and its remaining batches went out again well inside the heartbeat timeout.
      const next = claims
        .filter((c) => c.scheduledAtMs >= handedBack!.completedAtMs!)
        .sort((a, b) => a.scheduledAtMs - b.scheduledAtMs)[0];
      expect(next).toBeDefined();
      const reofferedAfterMs = next!.scheduledAtMs - handedBack!.completedAtMs!;
      process.stderr.write(`[drain] handed-back batches offered again after ${reofferedAfterMs} ms\n`);
      expect(reofferedAfterMs).toBeLessThan(CLAIM_HEARTBEAT_TIMEOUT_MS);
    } finally {
      await stopping.kill();
      await survivor?.stop();
    }
  });
});
