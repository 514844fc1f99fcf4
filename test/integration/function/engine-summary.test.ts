// What the operator and KEDA read on every pass and poll — a Function's queue depth, the spec it
// runs, its phase and pending rows — comes from the workflow's memo (docs/adr/0127): a describe the
// server answers alone. A status query is a workflow task on the orchestrator's queue; with 1,000
// Functions those tasks (each a full replay when the workflow was evicted) timed out, and KEDA never
// saw rows appear. Here the orchestrator worker is stopped, so no query can be answered, and both
// readers still get the figures the workflow last published.
import { describe, expect, it } from 'vitest';
import { getFunctionQueueDepth } from '../../../src/client/function-client.js';
import { functionStatusDepth } from '../../../src/contracts/queue-depth.js';
import { createTemporalWorkloadWorkflows } from '../../../src/operator/workload-workflows.js';
import { createOperatorApiDeps } from '../../../src/server/operator-api.js';
import { kubeConfig } from '../../helpers/servers.js';
import {
  engineHarnessPerFile,
  eventually,
  seededFunction,
  startFunction,
  statusOf,
  statusWhen,
} from './harness.js';

const h = engineHarnessPerFile();

/** The call's result, or a rejection naming it when it has not answered in `ms` (no worker: never). */
function answered<T>(what: string, call: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    call,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);
}

describe('a Function read from its memo, not by query', () => {
  it('queue depth and the engine sync answer while no orchestrator worker runs', async () => {
    // No pull worker: the claims wait on the Function's queue, the depth stays where it is.
    const fn = await seededFunction(h, 'summary', 100);
    const batchSize = fn.spec.worker.batchSize;
    await startFunction(h, fn.spec);
    await statusWhen(h, fn, (s) => s.pendingRows === 100 && s.inFlightBatches > 0, 30_000, 'claims out');
    // The memo and the query agree (the memo may trail the counts by its throttle interval).
    const depth = await eventually(
      async () => {
        const [memo, status] = await Promise.all([
          getFunctionQueueDepth(h.client, fn.ref, batchSize),
          statusOf(h, fn.ref),
        ]);
        return { memo, query: functionStatusDepth(status, batchSize) };
      },
      (d) => d.memo === d.query && d.memo > 0,
      20_000,
      'the memo’s depth equal to the query’s',
    );

    await h.stopOrchestrator();
    try {
      // Proof that nothing below could have been a query: one is not answered now.
      await expect(answered('status query', statusOf(h, fn.ref), 3_000)).rejects.toThrow(/no answer/);

      expect(await answered('queue depth', getFunctionQueueDepth(h.client, fn.ref, batchSize))).toBe(
        depth.memo,
      );
      const engine = createTemporalWorkloadWorkflows(h.client, { taskQueue: h.taskQueue });
      // The same spec: the memo's fingerprint matches, so nothing is sent and no task is needed.
      const synced = await answered(
        'engine sync',
        engine.sync({ action: 'sync', kind: 'Function', spec: fn.spec }),
      );
      expect(synced).toMatchObject({
        condition: { type: 'WorkflowReady', status: 'True', reason: 'WorkflowRunning' },
        workload: { phase: 'running', pendingRows: 100 },
      });
    } finally {
      await h.startOrchestrator();
      await h.client.workflow.getHandle(fn.workflowId).terminate('test over');
    }
  }, 90_000);

  it('/metrics asks an idle Function once: its status is served again while the memo is unchanged', async () => {
    const fn = await seededFunction(h, 'idle-metrics', 0, {
      schedule: {
        discoveryIntervalSeconds: 60,
        leaseSeconds: 10,
        maxInFlightBatches: 4,
        maxConcurrentScans: 1,
      },
    });
    await startFunction(h, fn.spec);
    await statusWhen(h, fn, (s) => s.phase === 'idle' && s.lastDiscoveryAt !== undefined, 30_000, 'idle');
    const deps = createOperatorApiDeps({ kubeConfig: kubeConfig(), client: h.client, ready: () => true });
    const metricsStatus = deps.functions.metricsStatus!;
    const ns = fn.ref.k8sNamespace;
    const first = await eventually(
      () => metricsStatus(ns, fn.ref.name),
      (s) => s?.phase === 'idle',
      20_000,
      'an idle status through the metrics cache',
    );

    await h.stopOrchestrator();
    try {
      // No worker answers a query now; the cached status still comes back, the same.
      expect(await answered('metrics status', metricsStatus(ns, fn.ref.name))).toEqual(first);
    } finally {
      await h.startOrchestrator();
      await h.client.workflow.getHandle(fn.workflowId).terminate('test over');
    }
  }, 90_000);
});
