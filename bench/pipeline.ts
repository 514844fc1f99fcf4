// Pipeline engine benchmark against a real Temporal dev server (child process) and the embedded
// store: a generated corpus (default 10k documents, 4 paragraphs each) is submitted to one
// Pipeline and chunked by an SDK pull worker (runPipelineWorker), batch 64, 8 batches in flight.
// Prints documents/s, chunks/s and history events per batch (summed over every continue-as-new
// run), then reads the target namespace back and counts missing and stale chunks. Then the same
// work without Temporal: a direct loop (pull items → process → write, batch 64, the same write
// code) into another namespace, for `documents_vs_direct`. A measuring script: it asserts no
// timing; run it with nothing else on the machine (it prints the 1-minute load average around
// each phase). Human-readable figures first; the last line is one JSON object.
//
// With --temporal cluster or --uuid-documents, extra Pipeline phases report what it cost Temporal (bench/temporal-costs.ts): history
// events, payload bytes and billable Temporal Cloud actions per 1,000 documents (1M for actions),
// and the server's CPU per 1M documents. `--uuid-documents N` adds a phase whose item keys are
// UUIDs (history_bytes_per_1k_rows_uuid). `--temporal cluster` runs the Pipeline phase (and the
// UUID one) again on the two-host cluster on PostgreSQL: the plain keys are then the cluster's,
// the dev server's carry a dev_ prefix, plus PostgreSQL's commits and rows written per 1,000
// documents and cluster_vs_dev_noop. Without --temporal, phases and keys are as before.
//
// Usage: npm run bench:pipeline [-- --documents N] [--chunks N] [--timeout-s S] [--uuid-documents N]
//                               [--temporal dev|cluster]
//
// Over 400 lines on purpose: one measuring script read top to bottom; the Temporal and direct
// phases share main's servers and corpus.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createPipelineActivities } from '../src/activities/pipeline-activities.js';
import {
  getPipelineStatus,
  startOrUpdatePipeline,
  submitPipelineItems,
} from '../src/client/pipeline-client.js';
import { ChunkAttr, type QueuedItem } from '../packages/worker/src/contracts/pipeline.js';
import { type PipelineRuntimeSpec } from '../src/contracts/pipeline.js';
import { pipelineTaskQueue, pipelineWorkflowId } from '../packages/worker/src/contracts/names.js';
import { startTemporalDevServer } from '../src/dev/temporal-server.js';
import { parseTemporalKind } from '../src/cli/commands/dev.js';
import { dropClusterDatabases, startTemporalCluster } from '../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../src/dev/temporal-cluster-binaries.js';
import { postgresWriteCounters, writeCountersDelta } from '../src/dev/temporal-cluster-pg.js';
import { uuidForId } from '../src/store/seed.js';
import type { StoreClient } from '../packages/worker/src/store/client.js';
import { cpuSeconds } from './proc.js';
import { costKeys, temporalCosts } from './temporal-costs.js';
import { chunkId, pipelineBatchStages } from '../packages/worker/src/claim-execution/pipeline-write.js';
import { runPipelineWorker } from '../packages/worker/src/pipeline-worker.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { arg } from './harness.js';
import { startStoreChild } from './servers.js';

const DOCUMENTS = arg('documents', 10_000);
const CHUNKS = arg('chunks', 4);
const TIMEOUT_S = arg('timeout-s', 900);
const BATCH = 64;
const IN_FLIGHT = 8;
const RUN_TAG = Date.now().toString(36);
const TEMPORAL_KIND = parseTemporalKind(
  process.argv.includes('--temporal') ? (process.argv[process.argv.indexOf('--temporal') + 1] ?? '') : 'dev',
);
const UUID_DOCUMENTS = process.argv.includes('--uuid-documents')
  ? arg('uuid-documents', 0)
  : TEMPORAL_KIND === 'cluster'
    ? Math.min(DOCUMENTS, 2_000)
    : 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A Temporal to run the Pipeline phase on, with the CPU of all its server processes. */
interface TemporalTarget {
  address: string;
  namespace: string;
  serverCpu(): number;
}

/**
 * One Pipeline over `documents` submitted items (keys doc-N, or UUIDs) on `target`, with its own
 * orchestrator Worker: the Temporal cost keys of that work (bench/temporal-costs.ts).
 */
async function temporalCostPhase(
  target: TemporalTarget,
  store: StoreClient,
  label: string,
  documents: number,
  keyOf: (n: number) => string,
): Promise<{ keys: Record<string, number>; docsPerS: number }> {
  const connection = await Connection.connect({
    address: target.address,
    channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
  });
  const client = new Client({ connection, namespace: target.namespace });
  const native = await NativeConnection.connect({ address: target.address });
  const taskQueue = `layer-orchestrator-bench-${label}-${RUN_TAG}`;
  const orchestrator = await Worker.create({
    connection: native,
    namespace: target.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../src/workflows/pipeline-workflow.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
    }),
    activities: createPipelineActivities({ storeFor: () => store }),
  });
  const orchestratorRun = orchestrator.run();
  const name = `bench-${label}-${RUN_TAG}`;
  const spec: PipelineRuntimeSpec = {
    k8sNamespace: 'bench',
    name,
    targetNamespace: `bench-chunks-${label}-${RUN_TAG}`,
    worker: { dispatch: 'pull', batchSize: BATCH, timeoutSeconds: 60 },
    schedule: { leaseSeconds: 120, maxInFlightBatches: IN_FLIGHT, maxPendingItems: 5_000 },
  };
  const ref = { k8sNamespace: spec.k8sNamespace, name };
  const controller = new AbortController();
  const worker = runPipelineWorker({
    taskQueue: pipelineTaskQueue(ref.k8sNamespace, name),
    temporal: { connection: native, namespace: target.namespace },
    store,
    concurrency: IN_FLIGHT,
    signal: controller.signal,
    process: chunkItems,
  });
  try {
    await startOrUpdatePipeline(client, spec, { taskQueue });
    const cpuBefore = target.serverCpu();
    const started = Date.now();
    const items = Array.from({ length: documents }, (_, n) => ({ key: keyOf(n), payload: { n } }));
    await submitPipelineItems(client, ref, items, { chunkSize: 500, deadlineMs: TIMEOUT_S * 1000 });
    // Submissions are updates (in history); each status poll is a query (not in history).
    let queries = 1;
    let status = await getPipelineStatus(client, ref);
    const deadline = started + TIMEOUT_S * 1000;
    while (status.queue.done + status.queue.failed < documents && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      queries += 1;
      status = await getPipelineStatus(client, ref);
    }
    const elapsedS = (Date.now() - started) / 1000;
    const serverCpuS = target.serverCpu() - cpuBefore;
    const costs = await temporalCosts(client, pipelineWorkflowId(ref.k8sNamespace, name));
    const done = status.queue.done;
    log(`${label}: ${done} documents in ${elapsedS.toFixed(1)} s; ${load()} at end`);
    return {
      docsPerS: done / elapsedS,
      keys: {
        rows_per_s: round(done / elapsedS),
        temporal_server_cpu_s_per_1m_rows: round((serverCpuS / Math.max(1, done)) * 1e6),
        ...costKeys(costs, done, { queries }),
        temporal_queries: queries,
        actions_heartbeats_at_most: costs.heartbeats,
        ...Object.fromEntries(Object.entries(costs.actionsByKind).map(([k, v]) => [`actions_${k}`, v])),
      },
    };
  } finally {
    await client.workflow
      .getHandle(pipelineWorkflowId(ref.k8sNamespace, name))
      .terminate('benchmark phase finished')
      .catch(() => undefined);
    controller.abort();
    await worker;
    orchestrator.shutdown();
    await orchestratorRun;
    await native.close();
    await connection.close();
  }
}

/** The cost keys on one target: integer-keyed documents, and UUID-keyed ones when asked. */
async function costsOn(
  target: TemporalTarget,
  store: StoreClient,
  label: string,
): Promise<{ keys: Record<string, number>; docsPerS: number }> {
  const plain = await temporalCostPhase(target, store, label, DOCUMENTS, (n) => `doc-${n}`);
  if (UUID_DOCUMENTS === 0) return plain;
  const uuid = await temporalCostPhase(target, store, `${label}-uuid`, UUID_DOCUMENTS, (n) =>
    uuidForId(n + 1),
  );
  return {
    docsPerS: plain.docsPerS,
    keys: { ...plain.keys, history_bytes_per_1k_rows_uuid: uuid.keys.history_bytes_per_1k_rows! },
  };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}`;

/** The worker's process(): each item's paragraphs become its chunks. */
const chunkItems = (items: QueuedItem[]) =>
  items.map((i) => ({
    itemKey: i.key,
    chunks: paragraphsOf((i.payload as { n: number }).n).map((text) => ({ text })),
  }));

/** The corpus: document n has CHUNKS paragraphs, deterministic from n. */
function paragraphsOf(n: number): string[] {
  return Array.from(
    { length: CHUNKS },
    (_, p) =>
      `document ${n} paragraph ${p}: ${'the quick brown fox jumps over the lazy dog '.repeat(2 + ((n + p) % 5))}`,
  );
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'layer-bench-pipeline-'));
  const temporal = await startTemporalDevServer({ log, logFile: join(dir, 'temporal.log') });
  // The store in its own process, as in production (and as bench:function runs it): the worker,
  // the orchestrator and the direct loop all reach it over HTTP.
  const { url: storeUrl, child: storeProcess } = await startStoreChild(['--memory'], { output: 'capture' });
  const store = createStoreClient({ baseUrl: storeUrl, apiKey: 'bench', timeoutMs: 120_000 });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const native = await NativeConnection.connect({ address: temporal.address });
  const taskQueue = `layer-orchestrator-bench-${RUN_TAG}`;
  const orchestrator = await Worker.create({
    connection: native,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../src/workflows/pipeline-workflow.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
    }),
    activities: createPipelineActivities({ storeFor: () => store }),
  });
  const orchestratorRun = orchestrator.run();

  const name = `bench-${RUN_TAG}`;
  const ns = `bench-chunks-${RUN_TAG}`;
  const spec: PipelineRuntimeSpec = {
    k8sNamespace: 'bench',
    name,
    targetNamespace: ns,
    worker: { dispatch: 'pull', batchSize: BATCH, timeoutSeconds: 60 },
    schedule: { leaseSeconds: 120, maxInFlightBatches: IN_FLIGHT, maxPendingItems: 5_000 },
  };
  const ref = { k8sNamespace: spec.k8sNamespace, name };
  const controller = new AbortController();
  const worker = runPipelineWorker({
    taskQueue: pipelineTaskQueue(ref.k8sNamespace, name),
    temporal: { connection: native, namespace: temporal.namespace },
    store,
    concurrency: IN_FLIGHT,
    signal: controller.signal,
    process: chunkItems,
  });

  await startOrUpdatePipeline(client, spec, { taskQueue });
  log(
    `${DOCUMENTS} documents × ${CHUNKS} chunks, batch ${BATCH}, ${IN_FLIGHT} in flight, ${availableParallelism()} cores`,
  );
  log(`pipeline phase: ${load()} at start`);
  const started = Date.now();
  const items = Array.from({ length: DOCUMENTS }, (_, n) => ({ key: `doc-${n}`, payload: { n } }));
  await submitPipelineItems(client, ref, items, { chunkSize: 500, deadlineMs: TIMEOUT_S * 1000 });
  log(`submitted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let status = await getPipelineStatus(client, ref);
  const deadline = started + TIMEOUT_S * 1000;
  while (status.queue.done + status.queue.failed < DOCUMENTS && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    status = await getPipelineStatus(client, ref);
  }
  const elapsedS = (Date.now() - started) / 1000;
  log(`pipeline phase: ${status.queue.done} documents in ${elapsedS.toFixed(1)} s; ${load()} at end`);

  // History events over every run of the workflow (continue-as-new chain).
  let events = 0;
  let runs = 0;
  const workflowId = pipelineWorkflowId(ref.k8sNamespace, name);
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs += 1;
    const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
    events += history.events?.length ?? 0;
  }

  // Read back: every expected chunk present, nothing else.
  const expected = new Set<string>();
  for (let n = 0; n < DOCUMENTS; n++)
    for (const text of paragraphsOf(n)) expected.add(chunkId(`doc-${n}`, { text }));
  let found = 0;
  let stale = 0;
  let afterId: unknown = null;
  do {
    const page = await store.scanPage({
      namespace: ns,
      afterId: afterId as never,
      limit: 10_000,
      attributes: [ChunkAttr.docId],
    });
    for (const r of page.rows) {
      if (expected.has(String(r.id))) found += 1;
      else stale += 1;
    }
    afterId = page.nextAfterId;
  } while (afterId !== null);

  controller.abort();
  await worker;

  // The same work without Temporal: pull a batch, process it, write it with the same code.
  const directNs = `bench-chunks-direct-${RUN_TAG}`;
  const stages = pipelineBatchStages(store, { targetNamespace: directNs, source: 'submit' }, async (b) =>
    chunkItems(b),
  );
  log(`direct loop: ${load()} at start`);
  const directStarted = Date.now();
  let directDone = 0;
  for (let n = 0; n < DOCUMENTS; n += BATCH) {
    const batch: QueuedItem[] = Array.from({ length: Math.min(BATCH, DOCUMENTS - n) }, (_, i) => ({
      key: `doc-${n + i}`,
      version: 'v1',
      payload: { n: n + i },
    }));
    const prepared = await stages.prepare(batch);
    await stages.finish(prepared, await stages.compute(prepared));
    directDone += batch.length;
  }
  const directS = (Date.now() - directStarted) / 1000;
  log(`direct loop: ${directDone} documents in ${directS.toFixed(1)} s; ${load()} at end`);

  // What the Pipeline costs Temporal: on the dev server, and with --temporal cluster on the cluster.
  // (Separate Pipelines from the phase above, so the figures of before are unchanged.)
  // Only when asked (--temporal cluster or --uuid-documents): the default run's phases are as before.
  const temporalPid = temporal.pid;
  const dev =
    TEMPORAL_KIND === 'cluster' || UUID_DOCUMENTS > 0
      ? await costsOn(
          {
            address: temporal.address,
            namespace: temporal.namespace,
            serverCpu: () => cpuSeconds(temporalPid),
          },
          store,
          'dev',
        )
      : undefined;
  let targetKeys: Record<string, number | string> = dev?.keys ?? {};
  if (dev && TEMPORAL_KIND === 'cluster') {
    const tcluster = await startTemporalCluster({
      log,
      stateDir: join(dir, 'temporal-cluster'),
      database: `layer_bench_pl_${RUN_TAG}`,
      hosts: 2,
      numHistoryShards: 16,
    });
    try {
      const databases = [tcluster.database, tcluster.visibilityDatabase];
      const pgBefore = await postgresWriteCounters(tcluster.postgres, databases);
      const onCluster = await costsOn(
        {
          address: tcluster.address,
          namespace: tcluster.namespace,
          serverCpu: () => tcluster.hosts.reduce((sum, h) => sum + h.cpuSeconds(), 0),
        },
        store,
        'cluster',
      );
      // PostgreSQL publishes a backend's statistics within about a second of its last commit.
      await new Promise((r) => setTimeout(r, 2_000));
      const pg = writeCountersDelta(pgBefore, await postgresWriteCounters(tcluster.postgres, databases));
      const docs = DOCUMENTS + UUID_DOCUMENTS;
      targetKeys = {
        ...onCluster.keys,
        postgres_commits_per_1k_rows: round((pg.commits / docs) * 1000),
        postgres_rows_written_per_1k_rows: round((pg.rowsWritten / docs) * 1000),
        ...Object.fromEntries(Object.entries(dev.keys).map(([k, v]) => [`dev_${k}`, v])),
        cluster_vs_dev_noop: round(onCluster.docsPerS / dev.docsPerS, 3),
      };
    } finally {
      await tcluster.stop();
      const { sqlTool } = await resolveTemporalServer(() => undefined);
      await dropClusterDatabases(
        sqlTool.path,
        tcluster.postgres,
        tcluster.database,
        tcluster.visibilityDatabase,
      );
    }
  }
  orchestrator.shutdown();
  await orchestratorRun;
  await native.close();
  await connection.close();
  storeProcess.kill('SIGTERM');
  await temporal.stop();
  rmSync(dir, { recursive: true, force: true });

  const c = status.counters;
  const result = {
    documents: DOCUMENTS,
    chunks_per_document: CHUNKS,
    documents_done: status.queue.done,
    documents_failed: status.queue.failed,
    chunks_written: c.chunksWritten,
    elapsed_s: Math.round(elapsedS * 10) / 10,
    documents_per_s: Math.round((status.queue.done / elapsedS) * 10) / 10,
    direct_documents_per_s: Math.round((directDone / directS) * 10) / 10,
    documents_vs_direct: Math.round((status.queue.done / elapsedS / (directDone / directS)) * 1000) / 1000,
    chunks_per_s: Math.round((c.chunksWritten / elapsedS) * 10) / 10,
    batches: c.batches,
    workflow_runs: runs,
    history_events: events,
    history_events_per_batch: c.batches ? Math.round((events / c.batches) * 100) / 100 : null,
    missing_chunks: expected.size - found,
    stale_chunks: stale,
    batch_size: BATCH,
    in_flight_batches: IN_FLIGHT,
    ...targetKeys,
    temporal: TEMPORAL_KIND,
    cores: availableParallelism(),
    load_avg_1m_end: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  console.log(`documents/s: ${result.documents_per_s}`);
  console.log(`chunks/s: ${result.chunks_per_s}`);
  console.log(
    `direct loop: ${result.direct_documents_per_s} documents/s; pipeline ÷ direct = ${result.documents_vs_direct}`,
  );
  console.log(
    `history events per batch: ${result.history_events_per_batch} (${events} events, ${c.batches} batches, ${runs} runs)`,
  );
  console.log(`read back: ${result.missing_chunks} missing, ${result.stale_chunks} stale`);
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
