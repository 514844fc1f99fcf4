// Idle Functions evicted from a small workflow cache while their status is queried (the operator
// asks every pass; `layer function status` asks too): each query to an evicted workflow rides a
// task of its own, and such a task was seen running with the previous task's clock. The fired
// discovery timer then found its deadline not due, started the same timer again, and the history
// no longer replayed: the next eviction stopped the Function (docs/adr/0126). Found with 1,000
// Functions in bench:operator -- --controllers; here six Functions and a cache of two.
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { startOrUpdateFunction } from '../../../src/client/function-client.js';
import { createOrchestratorWorker } from '../../../src/workers/orchestrator-worker.js';
import { temporalNamespace } from '../../helpers/servers.js';
import { engineHarnessPerFile, seededFunction, statusOf } from './harness.js';

const h = engineHarnessPerFile();

describe('idle Functions queried while evicted', () => {
  it('keep replaying: no workflow task fails and every history replays', async () => {
    // Its own Worker and queue, with a cache smaller than the Functions it runs.
    const taskQueue = `${h.taskQueue}-small-cache`;
    const worker = await createOrchestratorWorker({
      connection: h.nativeConnection,
      namespace: temporalNamespace(),
      storeFor: () => h.store,
      workflowBundle: h.bundle,
      taskQueue,
      tuning: { maxCachedWorkflows: 2, maxConcurrentWorkflowTaskExecutions: 2 },
    });
    const run = worker.run();
    const fns = [];
    try {
      for (let i = 0; i < 6; i++) {
        // No rows: every discovery pass is idle and ends in the interval's timer.
        const fn = await seededFunction(h, `evicted${i}`, 0, {
          schedule: {
            discoveryIntervalSeconds: 3,
            leaseSeconds: 10,
            maxInFlightBatches: 4,
            maxConcurrentScans: 1,
          },
        });
        await startOrUpdateFunction(h.client, fn.spec, { taskQueue });
        fns.push(fn);
      }
      // Several timer periods of status queries to all six (most of them are not cached).
      const until = Date.now() + 25_000;
      while (Date.now() < until) {
        await Promise.all(fns.map((f) => statusOf(h, f.ref).catch(() => undefined)));
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      worker.shutdown();
      await run;
    }
    const failedTasks: string[] = [];
    const notReplaying: string[] = [];
    for (const f of fns) {
      const history = await h.client.workflow.getHandle(f.workflowId).fetchHistory();
      const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
      if (failed > 0) failedTasks.push(`${f.workflowId}: ${failed} failed tasks`);
      try {
        await Worker.runReplayHistory({ workflowBundle: h.bundle }, history, f.workflowId);
      } catch (err) {
        notReplaying.push(`${f.workflowId}: ${String(err).slice(0, 300)}`);
      }
      await h.client.workflow.getHandle(f.workflowId).terminate('test over');
    }
    expect({ failedTasks, notReplaying }).toEqual({ failedTasks: [], notReplaying: [] });
  }, 120_000);
});
