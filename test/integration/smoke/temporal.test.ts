// The dev server the global setup started is a real Temporal: a workflow runs an activity on a
// real Worker, and its search attributes (registered by the harness) are queryable.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { LayerKindKey, LayerNameKey, SEARCH_ATTRIBUTES } from '../../../src/contracts/search-attributes.js';
import { smokeWorkflow } from './smoke-workflows.js';

describe('Temporal dev server (smoke)', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection, namespace: temporalNamespace() });
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('registers every Layer search attribute', async () => {
    const res = await connection.operatorService.listSearchAttributes({ namespace: temporalNamespace() });
    expect(Object.keys(res.customAttributes)).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
  });

  it('runs a workflow and its activity, and lists it by search attribute', async () => {
    const taskQueue = `smoke-${randomUUID()}`;
    const name = `smoke-${randomUUID().slice(0, 8)}`;
    const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: temporalNamespace(),
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./smoke-workflows.ts', import.meta.url)),
      activities: { greet: async (who: string) => `hello, ${who}` },
    });
    const result = await worker.runUntil(
      client.workflow.execute(smokeWorkflow, {
        taskQueue,
        workflowId: `smoke/${name}`,
        args: [name],
        typedSearchAttributes: [
          { key: LayerKindKey, value: 'Smoke' },
          { key: LayerNameKey, value: name },
        ],
      }),
    );
    expect(result).toBe(`hello, ${name}`);
    // Visibility is eventually consistent: poll the list API until the run shows up.
    let listed: string[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      listed = [];
      for await (const wf of client.workflow.list({ query: `LayerName = "${name}" AND LayerPhase = "done"` }))
        listed.push(wf.workflowId);
      if (listed.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed).toEqual([`smoke/${name}`]);
    await nativeConnection.close();
  });
});
