// Shared set-up for Pipeline engine tests: the real Temporal dev server and MinIO (global
// setup), an embedded store over HTTP, an orchestrator Worker on this file's own task queue
// with the Function and Pipeline activities, and pull workers built from the SDK.
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import {
  bundleOrchestratorWorkflows,
  createOrchestratorWorker,
} from '../../../src/workers/orchestrator-worker.js';
import type { PipelineItem } from '../../../packages/worker/src/contracts/pipeline.js';
import type { PipelineRuntimeSpec, PipelineStatus } from '../../../src/contracts/pipeline.js';
import { ChunkAttr } from '../../../packages/worker/src/contracts/pipeline.js';
import {
  getPipelineStatus,
  startOrUpdatePipeline,
  type PipelineRef,
} from '../../../src/client/pipeline-client.js';
import {
  runPipelineWorker,
  type RunPipelineWorkerOptions,
} from '../../../packages/worker/src/pipeline-worker.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { s3Server, temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { eventually as pollUntil } from '../../helpers/eventually.js';
import { perFile } from '../../helpers/per-file.js';

export interface PipelineHarness {
  taskQueue: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  storeServer: StoreServer;
  store: StoreClient;
  s3: S3Client;
  orchestrator: Worker;
  close(): Promise<void>;
}

export function newS3Client(): S3Client {
  const s = s3Server();
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
  });
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** One pipeline harness for the test file: started before its first test, closed after its last. */
export function pipelineHarnessPerFile(opts: { dataConverter?: DataConverter } = {}): PipelineHarness {
  return perFile(() => startPipelineHarness(opts));
}

export async function startPipelineHarness(
  opts: { dataConverter?: DataConverter } = {},
): Promise<PipelineHarness> {
  const storeServer = await startStoreServer({ memory: true });
  const store = createStoreClient({ baseUrl: storeServer.url, apiKey: 'test' });
  const s3 = newS3Client();
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({
    connection,
    namespace: temporalNamespace(),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = `layer-orchestrator-pl-test-${randomUUID().slice(0, 8)}`;
  // The production wiring: the orchestrator worker and workflow bundle `layer orchestrator` runs.
  const orchestrator = await createOrchestratorWorker({
    connection: nativeConnection,
    namespace: temporalNamespace(),
    taskQueue,
    workflowBundle: await bundleOrchestratorWorkflows(),
    storeFor: () => store,
    s3For: () => s3,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  const run = orchestrator.run();
  return {
    taskQueue,
    client,
    connection,
    nativeConnection,
    storeServer,
    store,
    s3,
    orchestrator,
    close: async () => {
      if (orchestrator.getState() === 'RUNNING') orchestrator.shutdown();
      await run;
      await nativeConnection.close();
      await connection.close();
      await storeServer.close();
      s3.destroy();
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function pipelineSpec(
  name: string,
  targetNamespace: string,
  overrides: Partial<PipelineRuntimeSpec> = {},
): PipelineRuntimeSpec {
  return {
    k8sNamespace: 'test',
    name,
    generation: 1,
    targetNamespace,
    worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 20 },
    schedule: { leaseSeconds: 20, maxInFlightBatches: 4, maxPendingItems: 10_000 },
    retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    paused: false,
    ...overrides,
  };
}

export function startPipeline(h: PipelineHarness, spec: PipelineRuntimeSpec, batchesPerRun?: number) {
  return startOrUpdatePipeline(h.client, spec, { taskQueue: h.taskQueue, batchesPerRun });
}

export interface RunningWorker {
  stop(): Promise<void>;
}

export function startWorker<T extends PipelineItem>(
  h: PipelineHarness,
  spec: PipelineRuntimeSpec,
  opts: Omit<RunPipelineWorkerOptions<T>, 'signal'>,
): RunningWorker {
  const controller = new AbortController();
  const run = runPipelineWorker<T>({
    taskQueue: `layer-pl.${spec.k8sNamespace}.${spec.name}`,
    pipeline: { k8sNamespace: spec.k8sNamespace, name: spec.name },
    temporal: { connection: h.nativeConnection, namespace: temporalNamespace(), client: h.client },
    store: h.store,
    s3: h.s3,
    ...opts,
    signal: controller.signal,
  });
  return {
    stop: async () => {
      controller.abort();
      await run;
    },
  };
}

/** The shared poller with this harness's default timeout (30 s). */
export function eventually<T>(
  fn: () => Promise<T>,
  predicate: (v: T) => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  return pollUntil(fn, predicate, timeoutMs, what);
}

export function statusOf(h: PipelineHarness, ref: PipelineRef): Promise<PipelineStatus> {
  return getPipelineStatus(h.client, ref);
}

export interface ChunkRecord {
  id: string;
  doc_id: string;
  doc_version: string;
  position: number;
  text: string;
  source_key: string;
  source_version: string;
}

/** Every chunk row of the namespace, ordered by id. */
export async function readChunks(store: StoreClient, namespace: string): Promise<ChunkRecord[]> {
  const out: ChunkRecord[] = [];
  let afterId: unknown = null;
  if (!(await store.exists(namespace))) return out;
  do {
    const page = await store.scanPage({
      namespace,
      afterId: afterId as never,
      limit: 1000,
      attributes: [
        ChunkAttr.docId,
        ChunkAttr.docVersion,
        ChunkAttr.position,
        ChunkAttr.text,
        ChunkAttr.sourceKey,
        ChunkAttr.sourceVersion,
      ],
    });
    out.push(...(page.rows as unknown as ChunkRecord[]));
    afterId = page.nextAfterId;
  } while (afterId !== null);
  return out;
}

/** doc_id → chunk texts in position order. */
export function byDocument(chunks: ChunkRecord[]): Record<string, string[]> {
  const out: Record<string, ChunkRecord[]> = {};
  for (const c of chunks) (out[c.doc_id] ??= []).push(c);
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, v.sort((a, b) => a.position - b.position).map((c) => c.text)]),
  );
}
