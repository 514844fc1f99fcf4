// `npm run chaos`: proves "nothing lost" under every fault at once. One invocation runs the same
// work twice on real servers — first without faults (for the time ratio), then with them:
//   - a Function over --rows rows (default 100,000) whose spec changes to a new output version
//     mid-run, with known poison rows (a handler that always throws, one wrong-dimension output);
//   - a Pipeline over --docs documents (default 5,000), a tenth of them revised mid-run.
// Faults, on a seeded schedule for the whole faulty phase: SIGKILL of the orchestrator process and
// of each worker process (restarted after a random delay), SIGKILL + restart of the embedded store
// (`--data`), a restart of the Temporal dev server on its SQLite file (`--db-filename`), and a fault
// proxy in front of the store injecting 429 + Retry-After, 500s (before and after the write),
// connection resets and 2–10 s stalls at --fault-rate.
// The verdict compares values: every non-poison row carries exactly the value the handler
// computes at the final version, dead letters are exactly the poison rows with their error type,
// the proxy's write log shows no row written at a lower version after a higher one, and every
// Pipeline document has exactly its current chunks. Exits non-zero on any difference. The last
// line is JSON. Re-run a failing schedule with --seed.
//
// With --temporal cluster the run is on the production-shaped Temporal cluster (two temporal-server
// processes on PostgreSQL, src/dev/temporal-cluster.ts) instead of the dev server, and the schedule's
// Temporal faults become SIGKILL of one server process (started again after 1–10 s) and a
// PostgreSQL connection reset (pg_terminate_backend on every connection to the cluster's databases).
//
// With --store-lag the store runs the lag profile (src/store/lag-profile.ts, ADR 0098): writes past
// a small outstanding-write budget stay invisible until a slow indexer reaches them, and a store
// restart makes everything visible again (the model's state is not durable; its writes are). The
// seed is waited on until indexed; the JSON line gains `store_lag: true`.
//
// Usage: npm run chaos [-- --seed N] [--rows N] [--docs N] [--fault-rate R] [--kill-every-s S]
//                      [--timeout-min M] [--skip-fault-free] [--temporal dev|cluster] [--store-lag]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  getPipelineStatus,
  startOrUpdatePipeline,
  submitPipelineItems,
} from '../src/client/pipeline-client.js';
import { startOrUpdateFunction } from '../src/client/function-client.js';
import type { FunctionRuntimeSpec } from '../src/contracts/function.js';
import type { PipelineItem, PipelineRuntimeSpec } from '../src/contracts/pipeline.js';
import { freePorts, waitFor } from '../src/dev/net.js';
import { arg as harnessArg, loadText } from '../bench/harness.js';
import { startProcess, type ManagedProcess } from '../src/dev/process.js';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-server.js';
import {
  dropClusterDatabases,
  startTemporalCluster,
  type TemporalCluster,
} from '../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../src/dev/temporal-cluster-binaries.js';
import { terminateConnections } from '../src/dev/temporal-cluster-pg.js';
import { parseTemporalKind } from '../src/cli/commands/dev.js';
import { createStoreClient, type StoreClient } from '../src/store/client.js';
import { storeLagArgs, waitUntilIndexed } from '../src/store/lag-profile.js';
import { findRegressions, seededRandom, startFaultProxy, type FaultProxy } from './fault-proxy.js';
import {
  DIM,
  OUTPUT,
  chunksOf,
  functionValue,
  isThrowingPoison,
  isWrongDimension,
  itemText,
  poisonIds,
  versionNumber,
} from './work.js';

// ---- arguments ---------------------------------------------------------------------------------

/** Every chaos flag is a non-negative number (a fault rate is a fraction). */
const arg = (name: string, fallback: number) => harnessArg(name, fallback, 0, { integer: false });

const SEED = arg('seed', Math.floor(Math.random() * 2 ** 31));
const ROWS = arg('rows', 100_000);
const DOCS = arg('docs', 5_000);
const FAULT_RATE = arg('fault-rate', 0.05);
const KILL_EVERY_S = arg('kill-every-s', 8);
const TIMEOUT_MS = arg('timeout-min', 30) * 60_000;
const SKIP_FAULT_FREE = process.argv.includes('--skip-fault-free');
/** Start the store with the index-lag profile. */
const STORE_LAG = process.argv.includes('--store-lag');
const TEMPORAL_KIND = parseTemporalKind(
  process.argv.includes('--temporal') ? (process.argv[process.argv.indexOf('--temporal') + 1] ?? '') : 'dev',
);
const REVISED_DOCS = Math.floor(DOCS / 10);
const FINAL_VERSION = 'v2';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LAYER = join(ROOT, 'bin/layer.js');
const ORCHESTRATOR_QUEUE = `chaos-orchestrator-${SEED}`;
const FUNCTION_QUEUE = `chaos-function-workers-${SEED}`;
const PIPELINE_QUEUE = `chaos-pipeline-workers-${SEED}`;

const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries a call through server restarts (Temporal or the store may be down for a few seconds). */
async function retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 5 * 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 3_000)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await sleep(delay);
    }
  }
}

// ---- the servers and processes -----------------------------------------------------------------

/** The Temporal under test: the dev server, or the multi-host cluster on PostgreSQL. */
interface TemporalTarget {
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

interface Cluster {
  dir: string;
  temporal: TemporalTarget;
  /** Set with --temporal cluster: its hosts are kill targets, its databases get connection resets. */
  tcluster?: TemporalCluster;
  temporalPorts: [number, number];
  client: Client;
  connection: Connection;
  storePort: number;
  store: ManagedProcess;
  /** Talks to the store directly, past the proxy: the verdict's view. */
  direct: StoreClient;
  proxy: FaultProxy;
  procs: Map<string, ManagedProcess>;
  starters: Map<string, () => ManagedProcess>;
  kills: number;
  /** PostgreSQL connection resets (part of `kills`). */
  pgResets: number;
  /** Processes that ended on their own and were started again (as a Deployment would). */
  restarts: number;
  /** Set while the kill schedule is restarting a target, so the watchdog leaves it alone. */
  restarting: Set<string>;
}

function spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv, dir: string): ManagedProcess {
  return startProcess({
    name,
    command: process.execPath,
    args,
    logFile: join(dir, `${name}.log`),
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      LAYER_FROM_SOURCE: '1',
      LAYER_STATE_DIR: join(dir, 'no-dev'),
      ...env,
    },
    cwd: ROOT,
  });
}

function startStore(dir: string, port: number): ManagedProcess {
  return spawnNode(
    'store',
    [
      LAYER,
      'store',
      'serve',
      '--data',
      join(dir, 'store'),
      '--port',
      String(port),
      ...(STORE_LAG ? storeLagArgs() : []),
    ],
    {},
    dir,
  );
}

async function waitForStore(direct: StoreClient, proc: ManagedProcess): Promise<void> {
  await waitFor(
    'the embedded store',
    () =>
      direct.listNamespaces().then(
        () => true,
        () => false,
      ),
    {
      timeoutMs: 60_000,
      isAlive: proc.exitReason,
    },
  );
}

async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'layer-chaos-'));
  const [tPort, uiPort, storePort] = await freePorts(3);
  const temporalPorts: [number, number] = [tPort!, uiPort!];
  const tcluster = TEMPORAL_KIND === 'cluster' ? await startChaosTemporalCluster(dir) : undefined;
  const temporal: TemporalTarget = tcluster ?? (await startTemporal(dir, temporalPorts));
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const store = startStore(dir, storePort!);
  const direct = createStoreClient({
    baseUrl: `http://127.0.0.1:${storePort}`,
    apiKey: 'chaos',
    timeoutMs: 120_000,
  });
  await waitForStore(direct, store);
  const proxy = await startFaultProxy({
    target: { host: '127.0.0.1', port: storePort! },
    seed: SEED,
    rate: 0,
    versionAttribute: `${OUTPUT}_v`,
  });
  const common = { LAYER_STORE_URL: proxy.url, LAYER_STORE_API_KEY: 'chaos' };
  const starters = new Map<string, () => ManagedProcess>([
    [
      'orchestrator',
      () =>
        spawnNode(
          'orchestrator',
          [LAYER, 'orchestrator'],
          {
            ...common,
            TEMPORAL_ADDRESS: temporal.address,
            LAYER_ORCHESTRATOR_TASK_QUEUE: ORCHESTRATOR_QUEUE,
          },
          dir,
        ),
    ],
    ...[1, 2].map(
      (n) =>
        [
          `function-worker-${n}`,
          () =>
            spawnNode(
              `function-worker-${n}`,
              ['--import', 'tsx', join(ROOT, 'chaos/function-worker.ts')],
              {
                ...common,
                LAYER_TEMPORAL_ADDRESS: temporal.address,
                LAYER_TASK_QUEUE: FUNCTION_QUEUE,
                LAYER_WORKER_CONCURRENCY: '4',
                CHAOS_ROWS: String(ROWS),
              },
              dir,
            ),
        ] as [string, () => ManagedProcess],
    ),
    [
      'pipeline-worker',
      () =>
        spawnNode(
          'pipeline-worker',
          ['--import', 'tsx', join(ROOT, 'chaos/pipeline-worker.ts')],
          { ...common, LAYER_TEMPORAL_ADDRESS: temporal.address, LAYER_TASK_QUEUE: PIPELINE_QUEUE },
          dir,
        ),
    ],
  ]);
  const procs = new Map([...starters].map(([name, start]) => [name, start()]));
  return {
    dir,
    temporal,
    ...(tcluster ? { tcluster } : {}),
    temporalPorts,
    client,
    connection,
    storePort: storePort!,
    store,
    direct,
    proxy,
    procs,
    starters,
    kills: 0,
    pgResets: 0,
    restarts: 0,
    restarting: new Set(),
  };
}

/**
 * Restarts any process that ended on its own — a worker whose Temporal connection gave up while
 * the server restarted, say — the way a Deployment's ReplicaSet would. Stops with the cluster.
 */
function startWatchdog(c: Cluster): { stop(): void } {
  const timer = setInterval(() => {
    for (const [name, proc] of c.procs) {
      if (c.restarting.has(name) || proc.exitReason() === undefined) continue;
      c.restarts += 1;
      log(`${name} ended on its own; restarting (${proc.exitReason()!.split('\n')[0]})`);
      c.procs.set(name, c.starters.get(name)!());
    }
    if (!c.restarting.has('store') && c.store.exitReason() !== undefined) {
      c.restarts += 1;
      log('store ended on its own; restarting');
      c.store = startStore(c.dir, c.storePort);
    }
  }, 1_000);
  return { stop: () => clearInterval(timer) };
}

function startTemporal(dir: string, [port, uiPort]: [number, number]): Promise<TemporalDevServer> {
  return startTemporalDevServer({
    log: () => undefined,
    dbFile: join(dir, 'temporal.sqlite'),
    logFile: join(dir, 'temporal.log'),
    port,
    uiPort,
  });
}

/** Two temporal-server hosts on PostgreSQL, on databases of their own (dropped at the end). */
async function startChaosTemporalCluster(dir: string): Promise<TemporalCluster> {
  return startTemporalCluster({
    log: (line) => log(line),
    stateDir: join(dir, 'temporal-cluster'),
    database: `layer_chaos_${SEED}`,
    hosts: 2,
    numHistoryShards: 16,
  });
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const p of c.procs.values()) await p.stop(5_000);
  await c.proxy.close();
  await c.store.stop(5_000);
  await c.connection.close();
  await c.temporal.stop();
  if (c.tcluster) {
    const { sqlTool } = await resolveTemporalServer(() => undefined);
    await dropClusterDatabases(
      sqlTool.path,
      c.tcluster.postgres,
      c.tcluster.database,
      c.tcluster.visibilityDatabase,
    );
  }
}

/** Until every queue has a poller: the processes are up (tsx compiled, workflows bundled). */
async function waitForPollers(c: Cluster): Promise<void> {
  const queues: [string, number][] = [
    [ORCHESTRATOR_QUEUE, 1], // workflow task queue
    [ORCHESTRATOR_QUEUE, 2], // activity task queue
    [FUNCTION_QUEUE, 2],
    [PIPELINE_QUEUE, 2],
  ];
  for (const [name, taskQueueType] of queues) {
    await waitFor(
      `pollers on ${name}`,
      async () => {
        const res = await c.client.workflowService.describeTaskQueue({
          namespace: c.temporal.namespace,
          taskQueue: { name },
          taskQueueType,
        });
        return (res.pollers ?? []).length > 0;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
  }
}

// ---- the fault schedule ------------------------------------------------------------------------

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Kills one target at a time, on a seeded schedule, until stopped; every kill is restarted. */
function startKilling(c: Cluster, random: () => number): { stop(): Promise<void> } {
  let running = true;
  const temporalTargets = c.tcluster
    ? [...c.tcluster.hosts.map((h) => `temporal-${h.name}`), 'postgres-connections']
    : ['temporal'];
  const targets = [...c.starters.keys(), 'store', ...temporalTargets];
  let round: string[] = [];
  const loop = (async () => {
    while (running) {
      await sleep(KILL_EVERY_S * 1000 * (0.5 + random()));
      if (!running) break;
      // Every target once per round, in a seeded order, so no process escapes the schedule.
      if (round.length === 0) round = shuffled(targets, random);
      const target = round.pop()!;
      const host = c.tcluster?.hosts.find((h) => target === `temporal-${h.name}`);
      // A Temporal server host stays down 1–10 s (issue 22); everything else 0.5–5 s.
      const downMs = host ? 1_000 + Math.floor(random() * 9_000) : 500 + Math.floor(random() * 4_500);
      c.kills += 1;
      if (target === 'postgres-connections') {
        const ended = await terminateConnections(c.tcluster!.postgres, [
          c.tcluster!.database,
          c.tcluster!.visibilityDatabase,
        ]).catch((err: Error) => {
          log(`pg_terminate_backend failed: ${err.message}`);
          return 0;
        });
        c.pgResets += 1;
        log(`kill #${c.kills}: reset ${ended} PostgreSQL connections to ${c.tcluster!.database}*`);
        continue;
      }
      log(`kill #${c.kills}: ${target} (back in ${downMs} ms)`);
      c.restarting.add(target);
      try {
        if (host) {
          await host.kill('SIGKILL');
          await sleep(downMs);
          await host.restart();
        } else if (target === 'temporal') {
          await c.temporal.stop();
          await sleep(downMs);
          c.temporal = await startTemporal(c.dir, c.temporalPorts);
        } else if (target === 'store') {
          process.kill(c.store.pid, 'SIGKILL');
          await sleep(downMs);
          c.store = startStore(c.dir, c.storePort);
          await waitForStore(c.direct, c.store);
        } else {
          process.kill(c.procs.get(target)!.pid, 'SIGKILL');
          await sleep(downMs);
          c.procs.set(target, c.starters.get(target)!());
        }
      } catch (err) {
        log(`restarting ${target} failed: ${(err as Error).message}`);
        throw err;
      } finally {
        c.restarting.delete(target);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

// ---- one phase: the whole work, with or without faults -------------------------------------------

interface PhaseResult {
  seconds: number;
  rows: number;
  rows_wrong: number;
  rows_missing: number;
  dead_letters_expected: number;
  dead_letters_actual: number;
  dead_letters_wrong: number;
  regressions: number;
  docs: number;
  docs_wrong: number;
  problems: string[];
}

function functionSpec(name: string, namespace: string, version: string): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'chaos',
    name,
    generation: versionNumber(version),
    targetNamespaces: [namespace],
    inputs: ['id'],
    output: { attribute: OUTPUT, kind: 'embedding', version, dim: DIM },
    worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 30, taskQueue: FUNCTION_QUEUE },
    schedule: { discoveryIntervalSeconds: 2, leaseSeconds: 30, maxInFlightBatches: 8, maxConcurrentScans: 1 },
    retry: { maxAttempts: 5, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
    paused: false,
  };
}

function pipelineSpec(name: string, namespace: string): PipelineRuntimeSpec {
  return {
    k8sNamespace: 'chaos',
    name,
    targetNamespace: namespace,
    worker: { dispatch: 'pull', batchSize: 32, timeoutSeconds: 30, taskQueue: PIPELINE_QUEUE },
    schedule: { leaseSeconds: 30, maxInFlightBatches: 8, maxPendingItems: 20_000 },
    retry: { maxAttempts: 8, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
  };
}

const docKey = (i: number) => `doc-${i}`;
const items = (from: number, to: number, revision: number): PipelineItem[] =>
  Array.from({ length: to - from }, (_, i) => ({
    key: docKey(from + i),
    payload: { text: itemText(docKey(from + i), revision) },
  }));

async function readAll(direct: StoreClient, namespace: string, attributes: string[]) {
  const out: Record<string, unknown>[] = [];
  let afterId: unknown = null;
  do {
    const page = await direct.scanPage({ namespace, afterId: afterId as never, limit: 10_000, attributes });
    out.push(...(page.rows as Record<string, unknown>[]));
    afterId = page.nextAfterId;
  } while (afterId !== null);
  return out;
}

async function runPhase(c: Cluster, label: string, faults: boolean): Promise<PhaseResult> {
  const random = seededRandom(SEED ^ (faults ? 0x5eed : 0x0f0f));
  const fnNamespace = `chaos-rows-${label}-${SEED}`;
  const docNamespace = `chaos-docs-${label}-${SEED}`;
  const fnName = `chaos-fn-${label}-${SEED}`;
  const pipeName = `chaos-pipe-${label}-${SEED}`;
  log(`${label}: seeding ${ROWS} rows`);
  for (let i = 1; i <= ROWS; i += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, ROWS - i + 1) }, (_, k) => ({
      id: i + k,
      title: `row ${i + k}`,
    }));
    await c.direct.upsertRows(fnNamespace, rows as never);
  }
  if (STORE_LAG) await waitUntilIndexed(c.direct, fnNamespace);
  const started = Date.now();
  const killer = faults ? startKilling(c, random) : undefined;
  if (faults) c.proxy.setRate(FAULT_RATE);
  const poison = new Set(poisonIds(ROWS));
  const revision = new Map<string, number>();
  try {
    await retrying('start the Function', () =>
      startOrUpdateFunction(c.client, functionSpec(fnName, fnNamespace, 'v1'), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    const pipeRef = { k8sNamespace: 'chaos', name: pipeName };
    await retrying('start the Pipeline', () =>
      startOrUpdatePipeline(c.client, pipelineSpec(pipeName, docNamespace), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    for (let i = 0; i < DOCS; i += 500) {
      const part = items(i, Math.min(DOCS, i + 500), 1);
      await retrying('submit items', () => submitPipelineItems(c.client, pipeRef, part));
      for (const it of part) revision.set(it.key, 1);
    }
    log(`${label}: Function and Pipeline started, ${DOCS} items submitted`);

    // Mid-run: the spec changes to the final version once 40% of the rows are done, and a tenth
    // of the documents are revised.
    await waitUntil(
      `${label}: 40% of rows at v1`,
      async () => (await c.direct.countRows(fnNamespace, [`${OUTPUT}_v`, 'Eq', 'v1'] as never)) >= ROWS * 0.4,
      started,
    );
    await retrying('change the Function spec', () =>
      startOrUpdateFunction(c.client, functionSpec(fnName, fnNamespace, FINAL_VERSION), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    log(`${label}: Function spec changed to ${FINAL_VERSION}`);
    const revised = items(0, REVISED_DOCS, 2);
    await retrying('submit revised items', () => submitPipelineItems(c.client, pipeRef, revised));
    for (const it of revised) revision.set(it.key, 2);
    log(`${label}: ${REVISED_DOCS} documents revised`);

    const expectedDone = ROWS - poison.size;
    await waitUntil(
      `${label}: every row at ${FINAL_VERSION} and every poison row dead-lettered`,
      async () =>
        (await c.direct.countRows(fnNamespace, [`${OUTPUT}_v`, 'Eq', FINAL_VERSION] as never)) >=
          expectedDone &&
        (await c.direct.countRows(fnNamespace, [`${OUTPUT}_error`, 'NotEq', null] as never)) >= poison.size,
      started,
    );
    await waitUntil(
      `${label}: the Pipeline queue drained`,
      async () => {
        const s = await getPipelineStatus(c.client, pipeRef);
        return s.queue.pending === 0 && s.queue.inFlight === 0;
      },
      started,
    );
  } finally {
    c.proxy.setRate(0);
    await killer?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  log(`${label}: work finished in ${seconds.toFixed(1)} s; verifying`);
  return { seconds, ...(await verdict(c, fnNamespace, docNamespace, poison, revision)) };
}

async function waitUntil(what: string, done: () => Promise<boolean>, startedMs: number): Promise<void> {
  let last = 0;
  while (!(await done().catch(() => false))) {
    if (Date.now() - startedMs > TIMEOUT_MS)
      throw new Error(`timed out after ${TIMEOUT_MS / 60_000} min waiting for ${what}`);
    if (Date.now() - last > 30_000) {
      log(`waiting for ${what}`);
      last = Date.now();
    }
    await sleep(1_000);
  }
}

// ---- the verdict -------------------------------------------------------------------------------

async function verdict(
  c: Cluster,
  fnNamespace: string,
  docNamespace: string,
  poison: Set<number>,
  revision: Map<string, number>,
): Promise<Omit<PhaseResult, 'seconds'>> {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const rows = await retrying('read rows', () =>
    readAll(c.direct, fnNamespace, [OUTPUT, `${OUTPUT}_v`, `${OUTPUT}_error`]),
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  let rowsWrong = 0;
  let rowsMissing = 0;
  let deadActual = 0;
  let deadWrong = 0;
  for (let id = 1; id <= ROWS; id++) {
    const row = byId.get(id);
    const error = row?.[`${OUTPUT}_error`];
    if (error != null) deadActual += 1;
    if (poison.has(id)) {
      const parsed =
        error == null ? undefined : (JSON.parse(String(error)) as { type?: string; message?: string });
      const expectedType = isWrongDimension(id, ROWS) ? 'InvalidWorkerOutput' : 'HandlerFailed';
      const expectedText = isWrongDimension(id, ROWS) ? 'output.dim is 4' : `chaos poison row ${id}`;
      if (!parsed || parsed.type !== expectedType || !String(parsed.message).includes(expectedText)) {
        deadWrong += 1;
        note(`poison row ${id}: expected a ${expectedType} dead letter, got ${String(error)}`);
      }
      if (row?.[OUTPUT] != null) {
        rowsWrong += 1;
        note(`poison row ${id} carries a value ${JSON.stringify(row[OUTPUT])}`);
      }
      continue;
    }
    if (!row || row[`${OUTPUT}_v`] == null) {
      rowsMissing += 1;
      note(`row ${id}: no output`);
      continue;
    }
    if (error != null) {
      deadWrong += 1;
      note(`row ${id} is not poison but was dead-lettered: ${String(error)}`);
    }
    const expected = functionValue(id, FINAL_VERSION);
    const actual = row[OUTPUT] as number[] | undefined;
    if (row[`${OUTPUT}_v`] !== FINAL_VERSION || JSON.stringify(actual) !== JSON.stringify(expected)) {
      rowsWrong += 1;
      note(
        `row ${id}: ${OUTPUT}=${JSON.stringify(actual)} @${String(row[`${OUTPUT}_v`])}, expected ${JSON.stringify(expected)} @${FINAL_VERSION}`,
      );
    }
  }
  const regressions = findRegressions(
    c.proxy.writes.filter((w) => w.namespace === fnNamespace),
    versionNumber,
  );
  if (regressions > 0) note(`${regressions} row writes at a lower version after a higher one`);

  // Every document has exactly the chunks of its current revision, and nothing else is there.
  const chunks = await retrying('read chunks', () => readAll(c.direct, docNamespace, ['text', 'source_key']));
  const got = new Map<string, string[]>();
  for (const ch of chunks) {
    const key = String(ch.source_key);
    got.set(key, [...(got.get(key) ?? []), String(ch.text)]);
  }
  let docsWrong = 0;
  for (const [key, rev] of revision) {
    const expected = chunksOf(itemText(key, rev)).sort();
    const actual = (got.get(key) ?? []).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      docsWrong += 1;
      note(
        `document ${key}: chunks ${JSON.stringify(actual)}, expected revision ${rev}: ${JSON.stringify(expected)}`,
      );
    }
    got.delete(key);
  }
  for (const key of got.keys()) {
    docsWrong += 1;
    note(`chunks for unknown document ${key}`);
  }
  return {
    rows: ROWS,
    rows_wrong: rowsWrong,
    rows_missing: rowsMissing,
    dead_letters_expected: poison.size,
    dead_letters_actual: deadActual,
    dead_letters_wrong: deadWrong,
    regressions,
    docs: revision.size,
    docs_wrong: docsWrong,
    problems,
  };
}

function passed(r: PhaseResult): boolean {
  return (
    r.rows_wrong === 0 &&
    r.rows_missing === 0 &&
    r.regressions === 0 &&
    r.dead_letters_wrong === 0 &&
    r.dead_letters_actual === r.dead_letters_expected &&
    r.docs_wrong === 0
  );
}

// ---- main --------------------------------------------------------------------------------------

const poisonCheck = poisonIds(ROWS);
log(
  `seed ${SEED}: ${ROWS} rows (${poisonCheck.length} poison: ${poisonCheck.filter((id) => isThrowingPoison(id, ROWS)).length} throwing, ` +
    `1 wrong dimension), ${DOCS} documents (${REVISED_DOCS} revised), fault rate ${FAULT_RATE}, a kill every ~${KILL_EVERY_S} s; ` +
    `load average ${loadText(' ')}`,
);
const cluster = await startCluster();
const watchdog = startWatchdog(cluster);
let exitCode = 1;
try {
  await waitForPollers(cluster);
  log('every process is polling');
  const faultFree = SKIP_FAULT_FREE ? undefined : await runPhase(cluster, 'calm', false);
  if (faultFree && !passed(faultFree)) log(`fault-free phase FAILED: ${faultFree.problems.join('; ')}`);
  const chaos = await runPhase(cluster, 'chaos', true);
  const faults = cluster.proxy.faults;
  const faultsInjected =
    faults.quota + faults['error-before'] + faults['error-after'] + faults.reset + faults.stall;
  const ok = passed(chaos) && (!faultFree || passed(faultFree));
  for (const p of chaos.problems) log(`problem: ${p}`);
  process.stdout.write(
    [
      `seed:                ${SEED}`,
      `fault-free:          ${faultFree ? `${faultFree.seconds.toFixed(1)} s` : 'skipped'}`,
      `with faults:         ${chaos.seconds.toFixed(1)} s (${faultFree ? (chaos.seconds / faultFree.seconds).toFixed(2) : '-'}×)`,
      `proxy faults:        ${faultsInjected} of ${faultsInjected + faults.none} store requests (429 ${faults.quota}, 500 before ${faults['error-before']}, 500 after ${faults['error-after']}, reset ${faults.reset}, stall ${faults.stall})`,
      `process kills:       ${cluster.kills} (${cluster.pgResets} of them PostgreSQL connection resets; and ${cluster.restarts} restarts of processes that ended on their own)`,
      `temporal:            ${cluster.tcluster ? `cluster of ${cluster.tcluster.hosts.length} hosts on PostgreSQL` : 'dev server'}`,
      `rows:                ${chaos.rows}: ${chaos.rows_wrong} wrong, ${chaos.rows_missing} missing, ${chaos.regressions} regressions`,
      `dead letters:        ${chaos.dead_letters_actual} of ${chaos.dead_letters_expected} expected (${chaos.dead_letters_wrong} wrong)`,
      `documents:           ${chaos.docs}: ${chaos.docs_wrong} wrong`,
      `load average:        ${loadText(' ')}`,
      `verdict:             ${ok ? 'PASS' : 'FAIL'}`,
      '',
    ].join('\n'),
  );
  process.stdout.write(
    `${JSON.stringify({
      seed: SEED,
      ...(STORE_LAG ? { store_lag: true } : {}),
      faults_injected: faultsInjected,
      kills: cluster.kills,
      postgres_resets: cluster.pgResets,
      temporal: TEMPORAL_KIND,
      restarts: cluster.restarts,
      rows: chaos.rows,
      rows_wrong: chaos.rows_wrong,
      rows_missing: chaos.rows_missing,
      dead_letters_expected: chaos.dead_letters_expected,
      dead_letters_actual: chaos.dead_letters_actual,
      regressions: chaos.regressions,
      docs: chaos.docs,
      docs_wrong: chaos.docs_wrong,
      seconds: Math.round(chaos.seconds * 10) / 10,
      seconds_fault_free: faultFree ? Math.round(faultFree.seconds * 10) / 10 : null,
      passed: ok,
    })}\n`,
  );
  exitCode = ok ? 0 : 1;
} catch (err) {
  log(`chaos run aborted: ${(err as Error).stack ?? String(err)}`);
  log(`logs kept in ${cluster.dir}`);
} finally {
  watchdog.stop();
  await stopCluster(cluster).catch(() => undefined);
  if (exitCode === 0) rmSync(cluster.dir, { recursive: true, force: true });
}
process.exit(exitCode);
