// The `layer` CLI as a person runs it: `layer apply -f` and `layer function status --json` as
// real subprocesses against the real Temporal dev server, with an orchestrator Worker (on this
// file's own task queue) and a pull worker in this process and the embedded store over HTTP.
import { runLayer, type LayerRun } from '../../helpers/layer-cli.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { functionHandle, getFunctionStatus } from '../../../src/client/function-client.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import { functionTaskQueue, functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { runFunctionWorker } from '../../../packages/worker/src/function-worker.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import {
  bundleOrchestratorWorkflows,
  createOrchestratorWorker,
} from '../../../src/workers/orchestrator-worker.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';

const ROWS = 40;

const id = randomUUID().slice(0, 8);
const taskQueue = `layer-orchestrator-cli-${id}`;
const name = `cli-tag-${id}`;
const namespace = `cli-products-${id}`;
const dir = mkdtempSync(join(tmpdir(), 'layer-cli-'));

let storeServer: StoreServer;
let store: StoreClient;
let connection: Connection;
let client: Client;
let native: NativeConnection;
let orchestrator: Worker;
let orchestratorRun: Promise<void>;
const pullWorker = new AbortController();
let pullRun: Promise<void>;

type Run = LayerRun;

/** `node bin/layer.js ...args` with only this test's configuration in its environment. */
function layer(...args: string[]): Promise<Run> {
  return layerWith({}, ...args);
}

function layerWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return runLayer(
    {
      // No `layer dev up` state: everything comes from the variables below.
      LAYER_STATE_DIR: join(dir, 'no-dev-env'),
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_ORCHESTRATOR_TASK_QUEUE: taskQueue,
      ...env,
    },
    args,
  );
}

function functionYaml(spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'Function',
    metadata: { name },
    spec: {
      targetNamespaces: [namespace],
      inputs: ['title'],
      output: { attribute: 'tags', kind: 'tags', version: 'v1' },
      filter: [
        'Or',
        [
          ['tags_v', 'NotEq', 'v1'],
          ['tags_v', 'Eq', null],
        ],
      ],
      worker: { image: 'example/tagger:1', dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
      schedule: { discoveryIntervalSeconds: 1, leaseSeconds: 10, maxInFlightBatches: 4 },
      retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
      ...spec,
    },
  });
}

async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  storeServer = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: storeServer.url, apiKey: 'test' });
  await store.upsertRows(
    namespace,
    Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, title: `Blue Cotton Shirt ${i + 1}` })),
  );
  connection = await Connection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  orchestrator = await createOrchestratorWorker({
    connection: native,
    namespace: temporalNamespace(),
    taskQueue,
    storeFor: () => store,
    workflowBundle: await bundleOrchestratorWorkflows(),
  });
  orchestratorRun = orchestrator.run();
  pullRun = runFunctionWorker({
    handler: async (rows) =>
      rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toLowerCase().split(/\s+/) })),
    taskQueue: functionTaskQueue('local', name),
    temporal: { connection: native, namespace: temporalNamespace() },
    store,
    signal: pullWorker.signal,
  });
});

afterAll(async () => {
  await functionHandle(client, { k8sNamespace: 'local', name })
    .terminate('test done')
    .catch(() => undefined);
  pullWorker.abort();
  await pullRun;
  if (orchestrator?.getState() === 'RUNNING') orchestrator.shutdown();
  await orchestratorRun;
  await native?.close();
  await connection?.close();
  await storeServer?.close();
});

describe('layer apply and layer function status (subprocesses)', () => {
  it('applies a Function file, every row gets processed, and status --json reports it', async () => {
    const file = join(dir, 'function.yaml');
    writeFileSync(file, functionYaml());
    // Refusals run alongside: an invalid file and a Function that was never applied.
    const badFile = join(dir, 'bad.yaml');
    writeFileSync(badFile, functionYaml({ worker: { image: 'x', batchSize: 0 } }));
    const [applied, invalid, missing] = await Promise.all([
      layer('apply', '-f', file, '--json'),
      layer('apply', '-f', badFile),
      layer('function', 'status', `never-applied-${id}`, '--json'),
    ]);

    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout.trim())).toMatchObject({
      workflowId: functionWorkflowId('local', name),
      action: 'started',
      taskQueue,
      workerTaskQueue: functionTaskQueue('local', name),
    });

    // Nothing of the bad file reached Temporal; the error names the field and the fix.
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(`${badFile}: Function ${name}: spec.worker.batchSize`);
    expect(invalid.stderr).toMatch(/fix: spec\.worker\.batchSize: use a value of at least 1/);

    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no workflow function/local/never-applied-${id}`);
    expect(missing.stderr).toContain('layer apply -f');

    await eventually(
      () => getFunctionStatus(client, { k8sNamespace: 'local', name }),
      (s) => s.counters.processed === ROWS && s.pendingRows === 0 && s.inFlightBatches === 0,
      30_000,
      'every row processed',
    );
    const rows = await store.scanPage({ namespace, limit: 100, attributes: ['tags', 'tags_v'] });
    expect(rows.rows).toHaveLength(ROWS);
    expect(rows.rows.every((r) => r.tags_v === 'v1' && Array.isArray(r.tags))).toBe(true);

    const status = await layer('function', 'status', name, '--json');
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as FunctionStatus;
    expect(s).toMatchObject({
      name,
      k8sNamespace: 'local',
      targetNamespaces: [namespace],
      pendingRows: 0,
      inFlightBatches: 0,
      counters: { processed: ROWS, deadLettered: 0 },
    });

    // Re-applying the same file updates the running workflow instead of starting another.
    const again = await layer('apply', '-f', file, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ action: 'updated' });
    // A confirmed update does not claim that no orchestrator is running (issue 28, item 13).
    const human = await layer('apply', '-f', file);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`function local/${name} updated`);
    expect(human.stdout).not.toContain('Nothing moves without an orchestrator worker');
    expect(human.stdout).toContain('Confirmed by the orchestrator on task queue');
  });

  it('refuses a second Function writing the same output attribute to the same store namespace (ADR 0070)', async () => {
    // The owner runs (applied in the first test or here); a second Function, in another
    // namespace and with a companion as its output, claims tags_v in the same store namespace.
    const owner = join(dir, 'owner.yaml');
    writeFileSync(owner, functionYaml());
    expect((await layer('apply', '-f', owner, '--json')).code).toBe(0);
    const second = `cli-second-${id}`;
    const file = join(dir, 'second.yaml');
    writeFileSync(
      file,
      functionYaml({ output: { attribute: 'tags_v', kind: 'tags', version: 'v1' } }).replace(
        `name: ${name}`,
        `name: ${second}\n  namespace: team-b`,
      ),
    );
    const refused = await layer('apply', '-f', file);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `${file}: Function team-b/${second}: output.attribute tags_v in store namespace ${namespace} is already written by Function local/${name}`,
    );
    expect(refused.stderr).toMatch(/fix: change spec.output.attribute or spec.targetNamespaces/);
    // Nothing was started for it.
    await expect(
      functionHandle(client, { k8sNamespace: 'team-b', name: second }).describe(),
    ).rejects.toThrow();
    // Replay with a filter naming an attribute the rows lack shows the store's reason and the
    // fix, not the SDK's "Activity task failed" (issue 28 item 13).
    const replay = await layer('function', 'replay', name, '--filter', '["no_such_attr","Eq","x"]');
    expect(replay.code).not.toBe(0);
    expect(replay.stderr).toMatch(new RegExp(`function local/${name}: .*no_such_attr`));
    expect(replay.stderr).not.toContain('Activity task failed');
    expect(replay.stderr).toMatch(
      /fix: check --filter: it may only name attributes the target namespaces have/,
    );
    // Re-applying the owner itself is never refused; another store namespace is free.
    expect((await layer('apply', '-f', owner, '--json')).code).toBe(0);
    const elsewhere = join(dir, 'elsewhere.yaml');
    writeFileSync(
      elsewhere,
      functionYaml({ targetNamespaces: [`${namespace}-other`] }).replace(`name: ${name}`, `name: ${second}`),
    );
    const free = await layer('apply', '-f', elsewhere, '--json');
    expect(free.stderr).toBe('');
    expect(free.code).toBe(0);
    await functionHandle(client, { k8sNamespace: 'local', name: second }).terminate('test done');
  });

  it('without an orchestrator worker, apply and status stop waiting and say what to start', async () => {
    const lonelyQueue = `layer-orchestrator-nobody-${id}`;
    const lonely = `cli-lonely-${id}`;
    const file = join(dir, 'lonely.yaml');
    writeFileSync(file, functionYaml().replace(`name: ${name}`, `name: ${lonely}`));
    const env = { LAYER_ORCHESTRATOR_TASK_QUEUE: lonelyQueue };
    const applied = await layerWith(env, 'apply', '--filename', file, '--timeout', '2');
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain(
      `workflow ${functionWorkflowId('local', lonely)} was not confirmed within 2s: no orchestrator worker answered on task queue ${lonelyQueue}`,
    );
    expect(applied.stderr).toMatch(/fix: start one with `layer orchestrator`/);
    // Temporal kept the start: the workflow exists and waits for a worker.
    const described = await functionHandle(client, { k8sNamespace: 'local', name: lonely }).describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.taskQueue).toBe(lonelyQueue);

    const status = await layerWith({ ...env, LAYER_CLI_TIMEOUT_SECONDS: '2' }, 'function', 'status', lonely);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/did not answer within 2s/);
    expect(status.stderr).toMatch(/start one with `layer orchestrator`/);
    await functionHandle(client, { k8sNamespace: 'local', name: lonely }).terminate('test done');
  });
});
