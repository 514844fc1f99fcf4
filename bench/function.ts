// Function engine benchmark, in one run, against a real Temporal dev server and the embedded
// store (each in its own child process), with the orchestrator Worker in a third child process
// so its peak RSS and CPU are its own:
//   1. no-op pull worker (a constant tag per row), batchSize 64            → noop_rows_per_s
//   2. a fixed 100 ms-per-batch pull worker, 4 batches in flight, batch 32  → worker_bound_efficiency
//      (achieved rows/s ÷ the ideal 4 × 32 / 0.1 s = 1280 rows/s)
//   3. the same work as phase 1 without Temporal: a direct loop scan page → handler → patch through
//      the same store client and the same batch core (the pull SDK's batch function), batch 64
//                                                                          → direct_rows_per_s
// plus Temporal history events per batch and per 1,000 rows (summed over every continue-as-new run,
// with a breakdown by event type), rows per dispatch (claim), the slow phase's worker idle fraction
// (1 − Σ batch time on the worker ÷ slots × phase time, from the claim results in history) and the
// orchestrator's peak RSS (`orchestrator_rss_1m_mb` too when --rows is 1,000,000 or more). A
// measuring script: it asserts no timing. Run it with nothing else on the machine; it prints the
// 1-minute load average around each phase. Human-readable figures first; the last line is JSON.
//
// Every no-op phase also reports what it cost Temporal (bench/temporal-costs.ts): history events,
// payload bytes per 1,000 rows, billable Temporal Cloud actions per 1M rows, and the server's CPU
// per 1M rows. `--uuid-rows N` adds a no-op phase over a namespace keyed by UUIDs
// (history_bytes_per_1k_rows_uuid). `--temporal cluster` then runs the no-op phase (integer and
// UUID ids) again on the production-shaped cluster (two temporal-server hosts on PostgreSQL, started
// for this run on databases of its own): the plain keys are then the cluster's figures, the dev
// server's carry a dev_ prefix, plus PostgreSQL's commits and rows written per 1,000 rows and
// cluster_vs_dev_noop. Without --temporal the phases and keys of before are unchanged.
//
// `--store-lag` starts the store with the lag profile (src/store/lag-profile.ts, ADR 0098): writes
// past a small outstanding-write budget stay invisible until a slow indexer reaches them. Each
// seed is waited on until indexed, so only the Function's own writes lag; the JSON line gains
// `store_lag: true`. Without it the store, the phases and the keys are those of before.
//
// Usage: npm run bench:function [-- --rows N] [--slow-rows N] [--noop-in-flight N] [--timeout-s S]
//                               [--uuid-rows N] [--temporal dev|cluster] [--store-lag]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { getFunctionStatus, startOrUpdateFunction } from '../src/client/function-client.js';
import type { ClaimReport, PackedClaimReport } from '../src/contracts/claims.js';
import {
  ORCHESTRATOR_TASK_QUEUE,
  RUN_FUNCTION_CLAIM_ACTIVITY,
  type FunctionRuntimeSpec,
  type FunctionStatus,
} from '../src/contracts/function.js';
import { functionTaskQueue, functionWorkflowId } from '../src/contracts/names.js';
import { workFilter } from '../src/engine/function-filters.js';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-server.js';
import { runFunctionWorker, type FunctionHandler } from '../src/sdk/function-worker.js';
import { runFunctionBatchWith } from '../packages/worker/src/engine/function-batch.js';
import { createStoreClient, type StoreClient } from '../src/store/client.js';
import { seedProducts, type SeedOptions } from '../src/store/seed.js';
import { storeLagArgs, waitUntilIndexed } from '../src/store/lag-profile.js';
import { parseTemporalKind } from '../src/cli/commands/dev.js';
import {
  dropClusterDatabases,
  startTemporalCluster,
  type TemporalCluster,
} from '../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../src/dev/temporal-cluster-binaries.js';
import { postgresWriteCounters, writeCountersDelta } from '../src/dev/temporal-cluster-pg.js';
import { costKeys, temporalCosts, type TemporalCosts } from './temporal-costs.js';
import { bundleOrchestratorWorkflows } from '../src/workers/orchestrator-worker.js';
import { cpuSeconds, procStatusMb } from './proc.js';
import { arg, childProcesses, load1, loadText, textArg } from './harness.js';
import { startStoreChild, waitForPollers } from './servers.js';

const ROWS = arg('rows', 100_000);
/** Start the store with the index-lag profile (--store-lag). */
const STORE_LAG = process.argv.includes('--store-lag');
/** The slow phase runs at ~1,280 rows/s: 100k rows is enough to measure it, at any --rows. */
const SLOW_ROWS = arg('slow-rows', Math.min(ROWS, 100_000));
const NOOP_BATCH = 64;
/** Batches in flight for the no-op phase: the seed Function's default (maxInFlightBatches 8). */
const NOOP_IN_FLIGHT = arg('noop-in-flight', 8);
const SLOW_BATCH = 32;
const SLOW_IN_FLIGHT = 4;
const SLOW_BATCH_MS = 100;
const IDEAL_SLOW_ROWS_PER_S = (SLOW_IN_FLIGHT * SLOW_BATCH) / (SLOW_BATCH_MS / 1000);
const DIRECT_BATCH = 64;
/** Give up on a phase after this long (reported, never silently shortened). */
const PHASE_TIMEOUT_S = arg('timeout-s', 900);
const OUTPUT_VERSION = 'bench-v1';
const TEMPORAL_NAMESPACE = 'default';
const TEMPORAL_KIND = parseTemporalKind(textArg('temporal') ?? 'dev');
/** Rows of the UUID-keyed no-op phase: only with --uuid-rows or --temporal cluster. */
const UUID_ROWS = process.argv.includes('--uuid-rows')
  ? arg('uuid-rows', 0)
  : TEMPORAL_KIND === 'cluster'
    ? Math.min(ROWS, 10_000)
    : 0;
const RUN_TAG = Date.now().toString(36);

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- child processes ------------------------------------------------------------------------

let temporal: TemporalDevServer | undefined;
const { track, stopChild, killAll: killChildren } = childProcesses(log, async () => temporal?.stop());

/** Seeds a namespace; under --store-lag also waits until the store has indexed the seed. */
async function seed(store: StoreClient, opts: SeedOptions): Promise<void> {
  await seedProducts(store, opts);
  if (STORE_LAG) await waitUntilIndexed(store, opts.namespace);
}

async function startStore(): Promise<{ url: string; child: ChildProcess }> {
  const store = await startStoreChild(['--memory', ...(STORE_LAG ? storeLagArgs() : [])], {
    output: 'capture',
  });
  track(store.child, 'store');
  return store;
}

async function startOrchestrator(
  address: string,
  storeUrl: string,
  bundleFile: string,
): Promise<{ child: ChildProcess; finalLine: Promise<string> }> {
  const entry = fileURLToPath(new URL('./orchestrator-process.ts', import.meta.url));
  const child = track(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        entry,
        '--temporal',
        address,
        '--namespace',
        TEMPORAL_NAMESPACE,
        '--store',
        storeUrl,
        '--bundle',
        bundleFile,
      ],
      // stdin stays open: the child stops itself when it closes (the bench died).
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
    'orchestrator',
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  const finalLine = new Promise<string>((resolve) =>
    child.once('exit', () => resolve(out.trim().split('\n').pop() ?? '')),
  );
  // Ready when Temporal sees it poll (not when it says so on stdout).
  await waitForPollers(address, TEMPORAL_NAMESPACE, ORCHESTRATOR_TASK_QUEUE, child, 'orchestrator');
  return { child, finalLine };
}

/** Wraps a store client so every call's count and latency are recorded by method name. */
type StoreTimings = Map<string, { calls: number; ms: number }>;
function timedStore(store: StoreClient, timings: StoreTimings): StoreClient {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
        } finally {
          const entry = timings.get(String(prop)) ?? { calls: 0, ms: 0 };
          entry.calls += 1;
          entry.ms += performance.now() - t;
          timings.set(String(prop), entry);
        }
      };
    },
  });
}

function formatTimings(timings: StoreTimings): string {
  return [...timings.entries()]
    .map(([name, { calls, ms }]) => `${name} ${calls}× ${round(ms / Math.max(1, calls), 1)} ms`)
    .join(', ');
}

interface CpuProbe {
  name: string;
  read: () => number;
}

function cpuSnapshot(probes: CpuProbe[]): Map<string, number> {
  return new Map(probes.map((p) => [p.name, p.read()]));
}

function cpuReport(probes: CpuProbe[], before: Map<string, number>, wallS: number): string {
  const parts = probes.map((p) => {
    const used = p.read() - (before.get(p.name) ?? 0);
    return `${p.name} ${round(used, 1)} s (${round((used / wallS) * 100)}%)`;
  });
  return `CPU over ${round(wallS, 1)} s wall: ${parts.join(', ')}`;
}

// ---- Temporal history -----------------------------------------------------------------------

interface HistoryStats {
  runs: number;
  events: number;
  /** Events of the longest run (Temporal's limits are per run). */
  maxRunEvents: number;
  /** Σ of the batches' worker time (ms), from the claim results. */
  batchWorkMs: number;
  handlerBatches: number;
  byType: Record<string, number>;
  activitiesByType: Record<string, number>;
  batchActivities: number;
  /** Batch activity latencies in ms (means): scheduled→started, started→completed. */
  batchScheduleToStartMs: number;
  batchStartToCloseMs: number;
  discoverScheduleToCloseMs: number;
}

type HistoryEvent = NonNullable<History['events']>[number];

/** The claim activity: one dispatch, several handler batches (docs/adr/0011). */
const CLAIM_ACTIVITY = RUN_FUNCTION_CLAIM_ACTIVITY;

/** A claim's result payload (JSON) from history. */
function claimResult(data: Uint8Array | null | undefined): ClaimReport | PackedClaimReport | undefined {
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as ClaimReport | PackedClaimReport;
  } catch {
    return undefined;
  }
}

/** `activityTaskScheduledEventAttributes` → `ActivityTaskScheduled`. */
function eventTypeName(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (value && key.endsWith('EventAttributes')) {
      const name = key.slice(0, -'EventAttributes'.length);
      return name[0]!.toUpperCase() + name.slice(1);
    }
  }
  return `EventType${String(event.eventType)}`;
}

/** Every run of the workflow (following continue-as-new back from the latest run). */
async function historyStats(client: Client, workflowId: string): Promise<HistoryStats> {
  const stats: HistoryStats = {
    runs: 0,
    events: 0,
    maxRunEvents: 0,
    batchWorkMs: 0,
    handlerBatches: 0,
    byType: {},
    activitiesByType: {},
    batchActivities: 0,
    batchScheduleToStartMs: 0,
    batchStartToCloseMs: 0,
    discoverScheduleToCloseMs: 0,
  };
  let scheduleToStart = 0;
  let startToClose = 0;
  let discoverTotal = 0;
  let discoverCount = 0;
  let runId: string | undefined = undefined;
  const seen = new Set<string>();
  for (;;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const thisRun = started?.originalExecutionRunId ?? runId ?? 'latest';
    if (seen.has(thisRun)) break;
    seen.add(thisRun);
    stats.runs += 1;
    stats.events += events.length;
    stats.maxRunEvents = Math.max(stats.maxRunEvents, events.length);
    const scheduled = new Map<string, { type: string; at: number }>();
    const startedAt = new Map<string, number>();
    for (const event of events) {
      const type = eventTypeName(event);
      stats.byType[type] = (stats.byType[type] ?? 0) + 1;
      const at = tsToMs(event.eventTime);
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) {
        const activity = event.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
        stats.activitiesByType[activity] = (stats.activitiesByType[activity] ?? 0) + 1;
        scheduled.set(id, { type: activity, at });
      } else if (event.activityTaskStartedEventAttributes) {
        startedAt.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at);
      } else if (event.activityTaskCompletedEventAttributes) {
        const sid = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const s = scheduled.get(sid);
        const st = startedAt.get(sid);
        if (s?.type === CLAIM_ACTIVITY && st !== undefined) {
          stats.batchActivities += 1;
          scheduleToStart += st - s.at;
          startToClose += at - st;
          const result = claimResult(event.activityTaskCompletedEventAttributes.result?.payloads?.[0]?.data);
          // Current claims come back packed (docs/adr/0100): one ms per finished batch.
          const batchMs =
            result && 'outcomes' in result ? result.outcomes.map((o) => o.ms) : (result?.ms ?? []);
          for (const ms of batchMs) {
            stats.handlerBatches += 1;
            stats.batchWorkMs += ms;
          }
        } else if (s?.type === 'discoverRows') {
          discoverTotal += at - s.at;
          discoverCount += 1;
        }
      }
    }
    const previous: string | null | undefined = started?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  const batches = stats.activitiesByType[CLAIM_ACTIVITY] ?? 0;
  if (stats.batchActivities > 0) {
    stats.batchScheduleToStartMs = round(scheduleToStart / stats.batchActivities, 1);
    stats.batchStartToCloseMs = round(startToClose / stats.batchActivities, 1);
  }
  if (discoverCount > 0) stats.discoverScheduleToCloseMs = round(discoverTotal / discoverCount, 1);
  stats.batchActivities = batches;
  return stats;
}

function formatBreakdown(stats: HistoryStats): string[] {
  const batches = Math.max(1, stats.handlerBatches);
  const lines = Object.entries(stats.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `    ${type.padEnd(36)} ${String(n).padStart(7)}  ${round(n / batches, 2)} / batch`);
  const acts = Object.entries(stats.activitiesByType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  return [...lines, `    activities scheduled: ${acts}`];
}

// ---- phases ---------------------------------------------------------------------------------

function benchSpec(
  name: string,
  namespace: string,
  batchSize: number,
  inFlight: number,
): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'bench',
    name,
    generation: 1,
    targetNamespaces: [namespace],
    inputs: ['id', 'title'],
    output: { attribute: 'tags', kind: 'tags', version: OUTPUT_VERSION },
    // The seed Function's filter, at this bench's version.
    filter: [
      'Or',
      [
        ['tags_v', 'NotEq', OUTPUT_VERSION],
        ['tags_v', 'Eq', null],
      ],
    ],
    worker: { dispatch: 'pull', batchSize, timeoutSeconds: 30 },
    schedule: {
      // One pass covers the namespace; no second pass starts during the phase.
      discoveryIntervalSeconds: 300,
      leaseSeconds: 120,
      maxInFlightBatches: inFlight,
      maxConcurrentScans: 1,
    },
    retry: { maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 10 },
    paused: false,
  };
}

const noopHandler: FunctionHandler = (rows) => rows.map((r) => ({ id: r.id, value: ['bench'] }));
const slowHandler: FunctionHandler = async (rows) => {
  await sleep(SLOW_BATCH_MS);
  return rows.map((r) => ({ id: r.id, value: ['bench'] }));
};

interface TemporalPhaseResult {
  /** Status queries issued (billable actions not in history). */
  queries: number;
  /** CPU seconds of every Temporal server process over the phase. */
  serverCpuS: number;
  costs: TemporalCosts;
  rows: number;
  seconds: number;
  rowsPerS: number;
  status: FunctionStatus;
  history: HistoryStats;
  finished: boolean;
}

async function runTemporalPhase(opts: {
  label: string;
  client: Client;
  workerConnection: NativeConnection;
  store: StoreClient;
  spec: FunctionRuntimeSpec;
  rows: number;
  handler: FunctionHandler;
  workerConcurrency: number;
  cpuProbes: CpuProbe[];
  /** CPU seconds so far of every Temporal server process (the dev server, or each cluster host). */
  serverCpu: () => number;
}): Promise<TemporalPhaseResult> {
  const { spec, client } = opts;
  const ref = { k8sNamespace: spec.k8sNamespace, name: spec.name };
  const controller = new AbortController();
  const timings: StoreTimings = new Map();
  const workerRun = runFunctionWorker({
    handler: opts.handler,
    taskQueue: functionTaskQueue(spec.k8sNamespace, spec.name),
    concurrency: opts.workerConcurrency,
    temporal: { connection: opts.workerConnection, namespace: TEMPORAL_NAMESPACE },
    store: timedStore(opts.store, timings),
    signal: controller.signal,
  });
  // Let the pull worker start polling before the clock starts.
  await sleep(500);
  log(`  ${opts.label}: machine load average ${loadText()} at start`);
  const cpuBefore = cpuSnapshot(opts.cpuProbes);
  const serverCpuBefore = opts.serverCpu();
  let serverCpuS = 0;
  let queries = 0;
  const started = performance.now();
  let status: FunctionStatus | undefined;
  let finished = false;
  let lastReport = started;
  try {
    await startOrUpdateFunction(client, spec);
    const deadline = started + PHASE_TIMEOUT_S * 1000;
    while (performance.now() < deadline) {
      try {
        queries += 1;
        status = await getFunctionStatus(client, ref);
      } catch {
        // The first workflow task may not have run yet.
      }
      if (status && status.counters.processed >= opts.rows) {
        finished = true;
        break;
      }
      if (performance.now() - lastReport >= 10_000) {
        lastReport = performance.now();
        const s = (lastReport - started) / 1000;
        const done = status?.counters.processed ?? 0;
        log(`  ${opts.label}: ${done}/${opts.rows} rows after ${round(s)} s (${round(done / s)} rows/s)`);
      }
      // Each poll is a query task on the orchestrator: keep it cheap next to the work measured.
      await sleep(250);
    }
  } finally {
    const seconds = (performance.now() - started) / 1000;
    serverCpuS = opts.serverCpu() - serverCpuBefore;
    log(`  ${opts.label}: ${cpuReport(opts.cpuProbes, cpuBefore, seconds)}; load average ${loadText()}`);
    await client.workflow
      .getHandle(functionWorkflowId(spec.k8sNamespace, spec.name))
      .terminate('benchmark phase finished')
      .catch(() => undefined);
    controller.abort();
    await workerRun;
    log(`  ${opts.label}: pull worker's store calls (mean latency): ${formatTimings(timings)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  const processed = status?.counters.processed ?? 0;
  if (!finished)
    log(`  ${opts.label}: NOT FINISHED after ${PHASE_TIMEOUT_S} s (${processed}/${opts.rows} rows)`);
  const history = await historyStats(client, functionWorkflowId(spec.k8sNamespace, spec.name));
  const costs = await temporalCosts(client, functionWorkflowId(spec.k8sNamespace, spec.name));
  return {
    queries,
    serverCpuS,
    costs,
    rows: processed,
    seconds,
    rowsPerS: processed / seconds,
    status: status!,
    history,
    finished,
  };
}

/** Phase 3: scan page → handler → patch, no Temporal, with the pull SDK's batch function. */
async function runDirectLoop(
  store: StoreClient,
  namespace: string,
  spec: FunctionRuntimeSpec,
  cpuProbes: CpuProbe[],
): Promise<{ rows: number; seconds: number; rowsPerS: number; batches: number }> {
  const timings: StoreTimings = new Map();
  store = timedStore(store, timings);
  // The pull SDK's batch stages (read, compute, write back) with the handler called in-process.
  const runBatch = (input: Parameters<typeof runFunctionBatchWith>[1]) =>
    runFunctionBatchWith(store, input, async (request) => noopHandler(request.rows, {} as never));
  const filter = workFilter(spec.output, spec.filter);
  // The engine declares its attributes before the first filtered scan; so do we.
  await store.write(namespace, { schema: { tags_v: 'string', tags_error: 'string' } } as never);
  const cpuBefore = cpuSnapshot(cpuProbes);
  const started = performance.now();
  let written = 0;
  let batches = 0;
  let afterId: string | number | null = null;
  do {
    const page = await store.scanPage({
      namespace,
      filter: filter as never,
      afterId,
      limit: DIRECT_BATCH,
      attributes: false,
    });
    afterId = page.nextAfterId as string | number | null;
    if (page.rows.length === 0) break;
    batches += 1;
    const res = await runBatch({
      batchId: `direct-${batches}`,
      spec,
      namespace,
      ids: page.rows.map((r) => r.id as string | number),
    });
    written += res.written;
  } while (afterId !== null);
  const seconds = (performance.now() - started) / 1000;
  log(`  direct: ${cpuReport(cpuProbes, cpuBefore, seconds)}; load average ${loadText()}`);
  log(`  direct: store calls (mean latency): ${formatTimings(timings)}`);
  return { rows: written, seconds, rowsPerS: written / seconds, batches };
}

// ---- Temporal cost keys and the cluster phases ------------------------------------------------

/** The per-row Temporal cost keys of a no-op phase (and the UUID one's history bytes). */
function temporalKeys(
  noop: TemporalPhaseResult,
  uuid: TemporalPhaseResult | undefined,
): Record<string, number> {
  return {
    rows_per_s: round(noop.rowsPerS),
    temporal_server_cpu_s_per_1m_rows: round((noop.serverCpuS / Math.max(1, noop.rows)) * 1e6, 1),
    ...costKeys(noop.costs, noop.rows, { queries: noop.queries }),
    ...(uuid
      ? {
          history_bytes_per_1k_rows_uuid: costKeys(uuid.costs, uuid.rows, { queries: uuid.queries })
            .history_bytes_per_1k_rows!,
        }
      : {}),
    temporal_queries: noop.queries,
    // Billed, not in history: bounded from the claims' durations (bench/temporal-costs.ts).
    actions_heartbeats_at_most: noop.costs.heartbeats,
    ...Object.fromEntries(Object.entries(noop.costs.actionsByKind).map(([k, v]) => [`actions_${k}`, v])),
  };
}

/**
 * Phase 4 (--temporal cluster): a cluster of its own (fresh databases, dropped after), an
 * orchestrator child pointed at it, and the no-op phase over integer and UUID ids, with the
 * servers' CPU from /proc and PostgreSQL's write counters around the integer phase.
 */
async function runClusterPhases(ctx: {
  workDir: string;
  bundleFile: string;
  storeUrl: string;
  store: StoreClient;
  closers: (() => Promise<void>)[];
}): Promise<Record<string, number>> {
  const tcluster: TemporalCluster = await startTemporalCluster({
    log: (s) => log(`  ${s}`),
    stateDir: join(ctx.workDir, 'temporal-cluster'),
    database: `layer_bench_${RUN_TAG}`,
    hosts: 2,
    numHistoryShards: 16,
  });
  ctx.closers.push(async () => {
    await tcluster.stop();
    const { sqlTool } = await resolveTemporalServer(() => undefined);
    await dropClusterDatabases(
      sqlTool.path,
      tcluster.postgres,
      tcluster.database,
      tcluster.visibilityDatabase,
    );
  });
  const orchestrator = await startOrchestrator(tcluster.address, ctx.storeUrl, ctx.bundleFile);
  ctx.closers.push(() => stopChild(orchestrator.child));
  const connection = await Connection.connect({
    address: tcluster.address,
    channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
  });
  ctx.closers.push(() => connection.close());
  const client = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
  const workerConnection = await NativeConnection.connect({ address: tcluster.address });
  ctx.closers.push(() => workerConnection.close());
  const serverCpu = () => tcluster.hosts.reduce((sum, h) => sum + h.cpuSeconds(), 0);
  const cpuProbes: CpuProbe[] = [
    { name: 'orchestrator', read: () => cpuSeconds(orchestrator.child.pid) },
    { name: 'temporal cluster', read: serverCpu },
  ];
  const ns = `bench-fn-cluster-${RUN_TAG}`;
  await seed(ctx.store, { namespace: ns, rows: ROWS });
  const databases = [tcluster.database, tcluster.visibilityDatabase];
  const pgBefore = await postgresWriteCounters(tcluster.postgres, databases);
  const noop = await runTemporalPhase({
    label: 'cluster-noop',
    client,
    workerConnection,
    store: ctx.store,
    spec: benchSpec(`cluster-noop-${RUN_TAG}`, ns, NOOP_BATCH, NOOP_IN_FLIGHT),
    rows: ROWS,
    handler: noopHandler,
    workerConcurrency: NOOP_IN_FLIGHT,
    cpuProbes,
    serverCpu,
  });
  // PostgreSQL publishes a backend's statistics within about a second of its last commit.
  await sleep(2_000);
  const pg = writeCountersDelta(pgBefore, await postgresWriteCounters(tcluster.postgres, databases));
  let uuid: TemporalPhaseResult | undefined;
  if (UUID_ROWS > 0) {
    const uuidNs = `bench-fn-cluster-uuid-${RUN_TAG}`;
    await seed(ctx.store, { namespace: uuidNs, rows: UUID_ROWS, idKind: 'uuid' });
    uuid = await runTemporalPhase({
      label: 'cluster-noop-uuid',
      client,
      workerConnection,
      store: ctx.store,
      spec: benchSpec(`cluster-noop-uuid-${RUN_TAG}`, uuidNs, NOOP_BATCH, NOOP_IN_FLIGHT),
      rows: UUID_ROWS,
      handler: noopHandler,
      workerConcurrency: NOOP_IN_FLIGHT,
      cpuProbes,
      serverCpu,
    });
  }
  const keys = {
    ...temporalKeys(noop, uuid),
    postgres_commits_per_1k_rows: round((pg.commits / Math.max(1, noop.rows)) * 1000, 1),
    postgres_rows_written_per_1k_rows: round((pg.rowsWritten / Math.max(1, noop.rows)) * 1000, 1),
    cluster_hosts: tcluster.hosts.length,
  };
  log(`  cluster: ${noop.rows} rows at ${round(noop.rowsPerS)} rows/s; ${JSON.stringify(keys)}`);
  return keys;
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  // The SDK's INFO lines (worker state changes) would drown the figures.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const workDir = mkdtempSync(join(tmpdir(), 'layer-bench-function-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    log(
      `bench:function — ${ROWS} rows (no-op, batch ${NOOP_BATCH}, ${NOOP_IN_FLIGHT} in flight), ` +
        `${SLOW_ROWS} rows (${SLOW_BATCH_MS} ms/batch, batch ${SLOW_BATCH}, ${SLOW_IN_FLIGHT} in flight), ` +
        `direct loop batch ${DIRECT_BATCH}`,
    );
    let t = performance.now();
    const [server, storeProc, bundle] = await Promise.all([
      startTemporalDevServer({ log: (s: string) => log(`  ${s}`) }),
      startStore(),
      bundleOrchestratorWorkflows(),
    ]);
    temporal = server;
    closers.push(() => server.stop());
    closers.push(() => stopChild(storeProc.child));
    const bundleFile = join(workDir, 'workflow-bundle.js');
    writeFileSync(bundleFile, bundle.code);
    log(
      `temporal ${server.address} (UI ${server.uiUrl}), store ${storeProc.url}; ` +
        `started in ${round((performance.now() - t) / 1000, 1)} s`,
    );

    const store = createStoreClient({ baseUrl: storeProc.url, apiKey: 'bench', timeoutMs: 300_000 });
    const ns = {
      noop: `bench-fn-noop-${RUN_TAG}`,
      slow: `bench-fn-slow-${RUN_TAG}`,
      direct: `bench-fn-direct-${RUN_TAG}`,
    };
    t = performance.now();
    await seed(store, { namespace: ns.noop, rows: ROWS });
    await seed(store, { namespace: ns.slow, rows: SLOW_ROWS });
    await seed(store, { namespace: ns.direct, rows: ROWS });
    const seeded = 2 * ROWS + SLOW_ROWS;
    const seedS = (performance.now() - t) / 1000;
    log(`seeded ${seeded} rows in 3 namespaces in ${round(seedS, 1)} s (${round(seeded / seedS)} rows/s)`);

    const orchestrator = await startOrchestrator(server.address, storeProc.url, bundleFile);
    closers.push(() => stopChild(orchestrator.child));
    const orchestratorPid = orchestrator.child.pid;
    log(
      `orchestrator worker pid ${orchestratorPid}: RSS ${procStatusMb(orchestratorPid, 'VmRSS')} MB at idle`,
    );

    // A history page of 1,000 claim events (each with up to 4,096 ids) can pass gRPC's 4 MB default.
    const connection = await Connection.connect({
      address: server.address,
      channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
    const workerConnection = await NativeConnection.connect({ address: server.address });
    closers.push(() => workerConnection.close());

    const cpuProbes: CpuProbe[] = [
      { name: 'orchestrator', read: () => cpuSeconds(orchestratorPid) },
      { name: 'temporal', read: () => cpuSeconds(server.pid) },
      { name: 'store', read: () => cpuSeconds(storeProc.child.pid) },
      {
        name: 'bench+pull worker',
        read: () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1e6;
        },
      },
    ];

    // Phase 1: no-op pull worker.
    log(`\nphase 1: no-op pull worker, batch ${NOOP_BATCH}, ${NOOP_IN_FLIGHT} in flight, ${ROWS} rows`);
    const noopSpec = benchSpec(`noop-${RUN_TAG}`, ns.noop, NOOP_BATCH, NOOP_IN_FLIGHT);
    const noop = await runTemporalPhase({
      label: 'noop',
      client,
      workerConnection,
      store,
      spec: noopSpec,
      rows: ROWS,
      handler: noopHandler,
      workerConcurrency: NOOP_IN_FLIGHT,
      cpuProbes,
      serverCpu: () => cpuSeconds(server.pid),
    });
    const rssAfterNoop = procStatusMb(orchestratorPid, 'VmHWM');
    const noopEventsPerBatch = noop.history.events / Math.max(1, noop.history.handlerBatches);
    const noopEventsPer1k = (noop.history.events / Math.max(1, noop.rows)) * 1000;
    const rowsPerDispatch = noop.rows / Math.max(1, noop.history.batchActivities);
    log(
      `  no-op: ${noop.rows} rows in ${round(noop.seconds, 1)} s = ${round(noop.rowsPerS)} rows/s; ` +
        `${noop.history.handlerBatches} batches in ${noop.history.batchActivities} claims ` +
        `(${round(rowsPerDispatch)} rows per dispatch) in ${noop.history.runs} runs; ` +
        `${noop.history.events} history events = ${round(noopEventsPerBatch, 2)} per batch, ` +
        `${round(noopEventsPer1k, 1)} per 1,000 rows; largest run ${noop.history.maxRunEvents} events`,
    );
    log(
      `  claim activity: ${noop.history.batchScheduleToStartMs} ms scheduled→started, ` +
        `${noop.history.batchStartToCloseMs} ms started→completed; discoverRows ` +
        `${noop.history.discoverScheduleToCloseMs} ms scheduled→completed`,
    );
    log(`  history events by type (all runs):`);
    for (const line of formatBreakdown(noop.history)) log(line);
    log(`  orchestrator peak RSS so far ${rssAfterNoop} MB`);

    // Phase 2: 100 ms-per-batch pull worker.
    log(
      `\nphase 2: ${SLOW_BATCH_MS} ms-per-batch pull worker, batch ${SLOW_BATCH}, ${SLOW_IN_FLIGHT} in flight, ` +
        `${SLOW_ROWS} rows (ideal ${IDEAL_SLOW_ROWS_PER_S} rows/s)`,
    );
    const slowSpec = benchSpec(`slow-${RUN_TAG}`, ns.slow, SLOW_BATCH, SLOW_IN_FLIGHT);
    const slow = await runTemporalPhase({
      label: 'slow',
      client,
      workerConnection,
      store,
      spec: slowSpec,
      rows: SLOW_ROWS,
      handler: slowHandler,
      workerConcurrency: SLOW_IN_FLIGHT,
      cpuProbes,
      serverCpu: () => cpuSeconds(server.pid),
    });
    const efficiency = slow.rowsPerS / IDEAL_SLOW_ROWS_PER_S;
    const slowEventsPerBatch = slow.history.events / Math.max(1, slow.history.handlerBatches);
    // Slot time with no batch: 1 − Σ batch time (read, handler, write) ÷ (slots × phase time).
    const workerIdleFraction = Math.max(
      0,
      1 - slow.history.batchWorkMs / (SLOW_IN_FLIGHT * slow.seconds * 1000),
    );
    log(
      `  100 ms worker: ${slow.rows} rows in ${round(slow.seconds, 1)} s = ${round(slow.rowsPerS)} rows/s ` +
        `= ${round(efficiency * 100, 1)}% of ideal; worker slots idle ${round(workerIdleFraction * 100, 1)}% ` +
        `of the time; ${slow.history.handlerBatches} batches in ${slow.history.batchActivities} claims in ` +
        `${slow.history.runs} runs; ${round(slowEventsPerBatch, 2)} history events per batch`,
    );
    log(
      `  claim activity: ${slow.history.batchScheduleToStartMs} ms scheduled→started, ` +
        `${slow.history.batchStartToCloseMs} ms started→completed; discoverRows ` +
        `${slow.history.discoverScheduleToCloseMs} ms scheduled→completed`,
    );
    log(`  history events by type (all runs):`);
    for (const line of formatBreakdown(slow.history)) log(line);

    // The same no-op work over UUID-keyed rows: what id size does to history bytes.
    let uuidPhase: TemporalPhaseResult | undefined;
    if (UUID_ROWS > 0) {
      log(`\nphase 2b: no-op pull worker over ${UUID_ROWS} UUID-keyed rows`);
      const uuidNs = `bench-fn-uuid-${RUN_TAG}`;
      await seed(store, { namespace: uuidNs, rows: UUID_ROWS, idKind: 'uuid' });
      uuidPhase = await runTemporalPhase({
        label: 'noop-uuid',
        client,
        workerConnection,
        store,
        spec: benchSpec(`noop-uuid-${RUN_TAG}`, uuidNs, NOOP_BATCH, NOOP_IN_FLIGHT),
        rows: UUID_ROWS,
        handler: noopHandler,
        workerConcurrency: NOOP_IN_FLIGHT,
        cpuProbes,
        serverCpu: () => cpuSeconds(server.pid),
      });
    }

    const orchestratorPeakMb = procStatusMb(orchestratorPid, 'VmHWM');
    await stopChild(orchestrator.child);
    const childReport = await orchestrator.finalLine;
    log(`  orchestrator peak RSS ${orchestratorPeakMb} MB (/proc VmHWM); child's own report: ${childReport}`);

    // Phase 3: the same no-op work without Temporal.
    log(`\nphase 3: direct loop (scan → handler → patch, no Temporal), batch ${DIRECT_BATCH}, ${ROWS} rows`);
    const direct = await runDirectLoop(
      store,
      ns.direct,
      benchSpec(`direct-${RUN_TAG}`, ns.direct, DIRECT_BATCH, 1),
      cpuProbes,
    );
    log(
      `  direct: ${direct.rows} rows in ${round(direct.seconds, 1)} s = ${round(direct.rowsPerS)} rows/s ` +
        `(${direct.batches} batches, ${round((direct.seconds * 1000) / Math.max(1, direct.batches), 1)} ms each)`,
    );

    const devKeys = temporalKeys(noop, uuidPhase);
    log(`  dev server costs: ${JSON.stringify(devKeys)}`);
    let targetKeys: Record<string, number | boolean> = devKeys;
    if (TEMPORAL_KIND === 'cluster') {
      log(`\nphase 4: the no-op phase again on a two-host Temporal cluster on PostgreSQL`);
      const clusterKeys = await runClusterPhases({
        workDir,
        bundleFile,
        storeUrl: storeProc.url,
        store,
        closers,
      });
      targetKeys = {
        ...clusterKeys,
        ...Object.fromEntries(Object.entries(devKeys).map(([k, v]) => [`dev_${k}`, v])),
        cluster_vs_dev_noop: round(Number(clusterKeys.rows_per_s) / Math.max(1e-9, noop.rowsPerS), 3),
      };
    }

    const noopVsDirect = noop.rowsPerS / direct.rowsPerS;
    log(
      `\nsummary: no-op ${round(noop.rowsPerS)} rows/s vs direct ${round(direct.rowsPerS)} rows/s = ` +
        `${round(noopVsDirect, 2)}×; 100 ms worker at ${round(efficiency * 100, 1)}% of ideal; ` +
        `${round(noopEventsPerBatch, 2)} history events per batch; orchestrator peak RSS ${orchestratorPeakMb} MB; ` +
        `store peak RSS ${procStatusMb(storeProc.child.pid, 'VmHWM')} MB`,
    );
    log(
      JSON.stringify({
        rows: ROWS,
        ...(STORE_LAG ? { store_lag: true } : {}),
        slow_rows: SLOW_ROWS,
        noop_batch_size: NOOP_BATCH,
        noop_max_in_flight: NOOP_IN_FLIGHT,
        slow_batch_size: SLOW_BATCH,
        slow_max_in_flight: SLOW_IN_FLIGHT,
        slow_batch_ms: SLOW_BATCH_MS,
        direct_batch_size: DIRECT_BATCH,
        noop_rows_per_s: round(noop.rowsPerS),
        noop_seconds: round(noop.seconds, 1),
        noop_finished: noop.finished,
        direct_rows_per_s: round(direct.rowsPerS),
        noop_vs_direct: round(noopVsDirect, 3),
        slow_rows_per_s: round(slow.rowsPerS),
        slow_ideal_rows_per_s: IDEAL_SLOW_ROWS_PER_S,
        slow_finished: slow.finished,
        worker_bound_efficiency: round(efficiency, 3),
        worker_idle_fraction: round(workerIdleFraction, 3),
        history_events_per_batch: round(noopEventsPerBatch, 2),
        history_events_per_batch_slow: round(slowEventsPerBatch, 2),
        history_events_per_1k_rows: round(noopEventsPer1k, 1),
        history_max_run_events: noop.history.maxRunEvents,
        history_runs: noop.history.runs,
        history_events: noop.history.events,
        batches: noop.history.handlerBatches,
        dispatches: noop.history.batchActivities,
        rows_per_dispatch: round(rowsPerDispatch),
        orchestrator_peak_rss_mb: orchestratorPeakMb,
        ...(ROWS >= 1_000_000 ? { orchestrator_rss_1m_mb: orchestratorPeakMb } : {}),
        ...targetKeys,
        temporal: TEMPORAL_KIND,
        cpus: availableParallelism(),
        load_avg_1m_end: load1(),
      }),
    );
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    killChildren();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
