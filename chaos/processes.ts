// The chaos run's processes: the Temporal under test (dev server or cluster), the embedded store
// behind the fault proxy, the orchestrator and worker processes, and the watchdog that restarts
// any that end on their own, as a Deployment would.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePorts, waitFor } from '../src/dev/net.js';
import { startProcess, type ManagedProcess } from '../src/dev/process.js';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-server.js';
import {
  dropClusterDatabases,
  startTemporalCluster,
  type TemporalCluster,
} from '../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../src/dev/temporal-cluster-binaries.js';
import { createStoreClient, type StoreClient } from '../packages/worker/src/store/client.js';
import { storeLagArgs } from '../src/store/lag-profile.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import {
  FUNCTION_QUEUE,
  LAYER,
  log,
  ORCHESTRATOR_QUEUE,
  PIPELINE_QUEUE,
  ROOT,
  ROWS,
  SEED,
  STORE_LAG,
  TEMPORAL_KIND,
} from './settings.js';
import { OUTPUT } from './work.js';

/** The Temporal under test: the dev server, or the multi-host cluster on PostgreSQL. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

export interface Cluster {
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

/** Where the Function workers log their handler calls (call-log.ts). */
export function callLogDir(dir: string): string {
  return join(dir, 'handler-calls');
}

export function startStore(dir: string, port: number): ManagedProcess {
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

export async function waitForStore(direct: StoreClient, proc: ManagedProcess): Promise<void> {
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

export async function startCluster(): Promise<Cluster> {
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
                CHAOS_CALL_LOG_DIR: callLogDir(dir),
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
export function startWatchdog(c: Cluster): { stop(): void } {
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

export function startTemporal(dir: string, [port, uiPort]: [number, number]): Promise<TemporalDevServer> {
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

export async function stopCluster(c: Cluster): Promise<void> {
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
export async function waitForPollers(c: Cluster): Promise<void> {
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
