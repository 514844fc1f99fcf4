// Reconcile passes are served by priority (ADR 0135), on a Temporal server that serves by priority: an
// edit's before what followed from a controller, both before the passes a resync queued earlier.
// The watcher's own signal-with-start options and the real reconcile workflow. Without the
// priority a change waited behind the whole resync (a thousand passes in a fleet of a thousand
// Functions), and a spec change behind a burst's owned-object passes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { RESYNC_REASON, type ReconcileRef } from '../../../src/contracts/reconcile.js';
import { reconcileStart } from '../../../src/operator/reconcile-start.js';
import { editReason } from '../../../src/operator/watch-rules.js';
import { bundleReconcileWorkflows, reconcileTaskQueue } from '../../../src/workers/orchestrator-worker.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../../src/dev/temporal-server.js';

let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let server: TemporalDevServer;
const NAMESPACE = 'default';

// A dev server of its own that serves tasks by priority, one partition per task queue: as Temporal
// Cloud and servers from 1.31 do (the CLI's embedded 1.29 needs the matcher turned on), with the
// reconcile queue in one partition as deploy/temporal/dynamicconfig.yaml gives it.
beforeAll(async () => {
  server = await startTemporalDevServer({
    log: () => undefined,
    dynamicConfig: [
      'matching.useNewMatcher=true',
      'matching.numTaskqueueReadPartitions=1',
      'matching.numTaskqueueWritePartitions=1',
    ],
  });
  connection = await Connection.connect({ address: server.address });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  client = new Client({ connection, namespace: NAMESPACE });
}, 120_000);

afterAll(async () => {
  await nativeConnection?.close();
  await connection?.close();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reconcile pass priority', () => {
  it('queued after a resync: an edit is passed first, then what followed from a controller, then every resync pass', async () => {
    const taskQueue = reconcileTaskQueue(`prio-${randomUUID().slice(0, 8)}`);
    const ns = `prio-${randomUUID().slice(0, 8)}`;
    const ref = (name: string): ReconcileRef => ({ kind: 'Function', namespace: ns, name });
    const resynced = Array.from({ length: 12 }, (_, i) => `resync-${i}`);
    const handles: WorkflowHandle[] = [];
    // The backlog a resync leaves, then one change.
    for (const name of resynced)
      handles.push(
        await client.workflow.signalWithStart(
          'reconcileWorkflow',
          reconcileStart(ref(name), RESYNC_REASON, { taskQueue }),
        ),
      );
    // Then a controller's status on an owned object, and last an edit of a Function.
    for (const [name, reason] of [
      ['followed', 'owned object update'],
      ['edited', editReason('Function', 'update')],
    ] as const)
      handles.push(
        await client.workflow.signalWithStart(
          'reconcileWorkflow',
          reconcileStart(ref(name), reason, { taskQueue }),
        ),
      );
    try {
      // Every run schedules its pass (workflow tasks only: no activity is taken yet) ...
      const scheduler = await Worker.create({
        connection: nativeConnection,
        namespace: NAMESPACE,
        taskQueue,
        workflowBundle: await bundleReconcileWorkflows(),
      });
      await scheduler.runUntil(async () => {
        for (const h of handles)
          while (((await h.describe()).raw.pendingActivities ?? []).length === 0) await sleep(100);
      });
      // ... then one pass at a time takes them from the backlog, as a busy operator's slots do.
      const passed: string[] = [];
      const passer = await Worker.create({
        connection: nativeConnection,
        namespace: NAMESPACE,
        taskQueue,
        maxConcurrentActivityTaskExecutions: 1,
        activities: {
          async reconcilePass(r: ReconcileRef) {
            passed.push(r.name);
            return { outcome: 'unchanged', applied: 0, skipped: 0, removed: 0, statusWritten: false };
          },
        },
      });
      await passer.runUntil(async () => {
        while (passed.length < handles.length) await sleep(100);
      });
      expect(passed.slice(0, 2)).toEqual(['edited', 'followed']);
      expect(passed.slice(2).sort()).toEqual([...resynced].sort());
    } finally {
      await Promise.all(handles.map((h) => h.terminate('test over').catch(() => undefined)));
    }
  });
});
