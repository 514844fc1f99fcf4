// What a person watching a run sees, on `layer operator` as the image runs it (a child process on
// the real apiserver, Temporal dev server, store and MinIO): /metrics during a real Function run
// passes promlint (the check `promtool check metrics` runs), its figures equal what the run did
// (rows processed = rows tagged), the Temporal SDK's worker metrics are in the same scrape, and the
// process's JSON logs carry workflow ids, run ids, the Function and batch ids — but none of the
// secret values the run used (store key, inbound keys, S3 keys, Temporal API key).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3DataConverter } from '../../../packages/worker/src/codec/s3-payload-codec.js';
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { resolvePromlint } from '../../../src/dev/binaries.js';
import { TEMPORAL_SDK_METRICS } from '../../../src/observe/metrics.js';
import { runFunctionWorker } from '../../../packages/worker/src/function-worker.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { s3Server, temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { range, readAll, seedRows, taggingHandler } from '../function/harness.js';
import { newS3Client } from '../pipeline/harness.js';
import {
  apiBaseOf,
  applyCr,
  eventually,
  operatorProcessSetup,
  startOperatorProcess,
  type OperatorProcess,
} from './harness.js';

const id = randomUUID().slice(0, 8);
// Known secret values: each must be used by the run and appear in no log line.
const STORE_KEY = `tpuf_obs_store_${randomUUID()}`;
const READ_KEY = `layer_obs_read_${randomUUID()}`;
const ADMIN_KEY = `layer_obs_admin_${randomUUID()}`;
const TEMPORAL_KEY = `temporal_obs_${randomUUID()}`;
const BUCKET = `obs-${id}`;
const PAYLOAD_THRESHOLD = 256;

let admin: KubeConfig;
let dir: string;
let ns: string;
let storeServer: StoreServer;
let store: StoreClient;
let operator: OperatorProcess | undefined;
let promlint: string;
const taskQueue = `layer-orchestrator-obs-${id}`;

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus text exposition (comments skipped). */
function samples(text: string): PromSample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[k!] = v!;
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

function valueOf(all: PromSample[], name: string, labels: Record<string, string>): number | undefined {
  return all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

beforeAll(async () => {
  let kubeconfigFile: string;
  ({ admin, ns, dir, kubeconfigFile } = await operatorProcessSetup('obs'));
  promlint = await resolvePromlint((l) => process.stderr.write(`[promlint] ${l}\n`));
  storeServer = await startStoreServer({ memory: true, apiKeys: [STORE_KEY] });
  store = createStoreClient({ baseUrl: storeServer.url, apiKey: STORE_KEY });
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'layer' },
      stringData: { 'vector-store-api-key': STORE_KEY, 'read-key': READ_KEY, 'admin-key': ADMIN_KEY },
    },
  });
  await applyCr(admin.makeApiClient(CustomObjectsApi), {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'VectorStore',
    metadata: { name: 'default', namespace: ns },
    spec: {
      endpoint: { url: storeServer.url, region: 'test' },
      credential: { secretRef: { name: 'layer', key: 'vector-store-api-key' } },
      inboundAuth: {
        mode: 'keys',
        keys: [
          { name: 'reader', scopes: ['read'], secretRef: { key: 'read-key' } },
          { name: 'admin', scopes: ['read', 'write', 'admin'], secretRef: { key: 'admin-key' } },
        ],
      },
    },
  });
  const s3 = s3Server();
  operator = await startOperatorProcess({
    KUBECONFIG: kubeconfigFile,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    // The dev server ignores the key; the SDK still sends it on every call.
    TEMPORAL_API_KEY: TEMPORAL_KEY,
    TEMPORAL_TLS: 'false',
    LAYER_ORCHESTRATOR_TASK_QUEUE: taskQueue,
    LAYER_STORE_URL: storeServer.url,
    LAYER_STORE_API_KEY: STORE_KEY,
    LAYER_VECTOR_STORE: `${ns}/default`,
    LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    LAYER_WATCH_NAMESPACES: ns,
    // Payloads over 256 bytes go to MinIO: the S3 keys are used all run long.
    LAYER_PAYLOAD_BUCKET: BUCKET,
    LAYER_PAYLOAD_THRESHOLD_BYTES: String(PAYLOAD_THRESHOLD),
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    // Everything the process can say, so the secret check covers the most text.
    LAYER_LOG_LEVEL: 'debug',
  });
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await storeServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('observe a Function run (layer operator child process)', () => {
  it('/metrics passes promlint and counts what the run did; logs are JSON with ids and no secret', async () => {
    const name = 'tag-products';
    const storeNs = `products-obs-${id}`;
    await seedRows(store, storeNs, range(1, 65));
    const seed = loadSeed('function');
    await applyCr(admin.makeApiClient(CustomObjectsApi), {
      ...seed,
      metadata: { name, namespace: ns },
      spec: { ...seed.spec, targetNamespaces: [storeNs] },
    });
    const apiBase = apiBaseOf(operator!.log());
    expect(apiBase).toBeDefined();
    const scrape = async (key?: string) =>
      fetch(`${apiBase}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});

    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const controller = new AbortController();
    const s3Client = newS3Client();
    const worker = runFunctionWorker({
      handler: taggingHandler(),
      taskQueue: functionTaskQueue(ns, name),
      temporal: {
        connection,
        namespace: temporalNamespace(),
        dataConverter: s3DataConverter({ bucket: BUCKET, thresholdBytes: PAYLOAD_THRESHOLD }, s3Client),
      },
      store,
      signal: controller.signal,
    });
    let text: string;
    try {
      const rows = await eventually(
        'every row tagged',
        async () => {
          const r = await readAll(store, storeNs, ['tags_v']);
          return r.length === 64 && r.every((x) => x.tags_v === 'v1') ? r : undefined;
        },
        120_000,
      );
      const tagged = rows.length;
      // The workflow's counters reach /metrics through its status query; pending rows fall to 0
      // at the count after the pass.
      const key = { namespace: ns, name };
      text = await eventually(
        'metrics of the finished run',
        async () => {
          const res = await scrape(READ_KEY);
          if (res.status !== 200) return undefined;
          const body = await res.text();
          const all = samples(body);
          return valueOf(all, 'layer_function_rows_processed_total', key) === tagged &&
            valueOf(all, 'layer_function_pending_rows', key) === 0
            ? body
            : undefined;
        },
        60_000,
      );
    } finally {
      controller.abort();
      await worker;
      await connection.close();
    }

    // Kept for a person to read (test artifact, not committed: .layer/ is ignored).
    mkdirSync(join('.layer', 'observe'), { recursive: true });
    writeFileSync(join('.layer', 'observe', 'metrics.txt'), text);
    // promlint = `promtool check metrics`: a strict parse (one HELP/TYPE per family, grouped
    // samples) and the naming rules (_total counters, base units, help text).
    const lint = spawnSync(promlint, [], { input: text, encoding: 'utf8' });
    expect({ status: lint.status, stdout: lint.stdout, stderr: lint.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
    const res = await scrape(READ_KEY);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect((await scrape()).status).toBe(401); // the same auth as before (ADR 0003)

    const all = samples(text);
    const key = { namespace: ns, name };
    // 64 rows in batches of 32, nothing failed.
    expect(valueOf(all, 'layer_function_rows_processed_total', key)).toBe(64);
    expect(valueOf(all, 'layer_function_batches_total', key)).toBe(2);
    expect(valueOf(all, 'layer_function_batch_duration_seconds_count', key)).toBe(2);
    expect(valueOf(all, 'layer_function_batch_duration_seconds_bucket', { ...key, le: '+Inf' })).toBe(2);
    expect(valueOf(all, 'layer_function_batch_rows_per_second_count', key)).toBe(2);
    expect(valueOf(all, 'layer_function_batches_failed_total', key)).toBe(0);
    expect(valueOf(all, 'layer_function_dead_lettered_rows', key)).toBe(0);
    expect(valueOf(all, 'layer_function_claims_lost_total', key)).toBe(0);
    expect(valueOf(all, 'layer_function_rows_superseded_total', key)).toBe(0);
    expect(valueOf(all, 'layer_function_in_flight_batches', key)).toBe(0);
    expect(valueOf(all, 'layer_udf_queue_depth', key)).toBe(0);
    expect(
      all.filter((s) => s.name === 'layer_function_batch_failures_total' && s.labels.name === name),
    ).toEqual([]);
    // Measured in this process: discovery scans of this Function, store calls, reconcile passes.
    expect(valueOf(all, 'layer_function_discovery_scan_duration_seconds_count', key)).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      valueOf(all, 'layer_store_request_duration_seconds_count', { operation: 'scanPage', status: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(valueOf(all, 'layer_reconcile_passes_total', { kind: 'Function' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(all, 'layer_reconcile_passes_total', { kind: 'VectorStore' })).toBeGreaterThanOrEqual(1);
    expect(
      valueOf(all, 'layer_reconcile_duration_seconds_count', { kind: 'Function' }),
    ).toBeGreaterThanOrEqual(1);
    // The Temporal SDK's worker metrics, from Core's exporter, in the same scrape.
    const families = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    expect(TEMPORAL_SDK_METRICS.map((m) => m.name).filter((n) => !families.has(n))).toEqual([]);
    expect(
      valueOf(all, 'temporal_worker_task_slots_available', {
        task_queue: taskQueue,
        worker_type: 'ActivityWorker',
      }),
    ).toBeGreaterThan(0);

    // Logs: only JSON lines; the SDK's records carry workflow and run ids, the workflow's own the
    // Function and its batch ids; no secret value anywhere.
    await operator!.stop();
    const log = operator!.log();
    writeFileSync(join('.layer', 'observe', 'operator.log'), log);
    const lines = log.split('\n').filter((l) => l.trim() !== '');
    const notJson = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    // Joined, so a failure prints the offending lines themselves.
    expect(notJson.join('\n')).toBe('');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const claim = records.find((r) => r.msg === 'claim finished' && r.function === `${ns}/${name}`);
    expect(claim).toMatchObject({
      workflowId: `function/${ns}/${name}`,
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      batchIds: expect.arrayContaining([expect.any(String)]),
    });
    const leaked = [STORE_KEY, READ_KEY, ADMIN_KEY, TEMPORAL_KEY, s3Server().secretAccessKey].filter(
      (secret) => log.includes(secret),
    );
    expect(leaked).toEqual([]);
  });
});
