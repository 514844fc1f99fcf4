// bench:function's Temporal cost keys (history, payload bytes, billable actions, server CPU per
// row) and phase 4 (--temporal cluster): the no-op phase again on a two-host cluster on PostgreSQL.
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import {
  dropClusterDatabases,
  startTemporalCluster,
  type TemporalCluster,
} from '../../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../../src/dev/temporal-cluster-binaries.js';
import { postgresWriteCounters, writeCountersDelta } from '../../src/dev/temporal-cluster-pg.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { cpuSeconds } from '../proc.js';
import { costKeys } from '../temporal-costs.js';
import type { CpuProbe } from './measure.js';
import { seed, startOrchestrator, stopChild } from './processes.js';
import {
  log,
  NOOP_BATCH,
  NOOP_IN_FLIGHT,
  round,
  ROWS,
  RUN_TAG,
  sleep,
  TEMPORAL_NAMESPACE,
  UUID_ROWS,
} from './settings.js';
import { benchSpec, noopHandler, runTemporalPhase, type TemporalPhaseResult } from './temporal-phase.js';

/** Probe name → key prefix of the processes whose CPU per 1M rows is printed. */
const PROCESS_KEYS: Record<string, string> = {
  orchestrator: 'orchestrator',
  store: 'store',
  'bench+pull worker': 'pull_worker',
};

/** The per-row Temporal cost keys of a no-op phase (and the UUID one's history bytes). */
export function temporalKeys(
  noop: TemporalPhaseResult,
  uuid: TemporalPhaseResult | undefined,
): Record<string, number> {
  return {
    rows_per_s: round(noop.rowsPerS),
    temporal_server_cpu_s_per_1m_rows: round((noop.serverCpuS / Math.max(1, noop.rows)) * 1e6, 1),
    // The other processes' CPU per 1M rows (orchestrator, store, worker: the capacity plan's inputs).
    ...Object.fromEntries(
      Object.entries(noop.cpuByProcess)
        .filter(([name]) => PROCESS_KEYS[name])
        .map(([name, s]) => [
          `${PROCESS_KEYS[name]}_cpu_s_per_1m_rows`,
          round((s / Math.max(1, noop.rows)) * 1e6, 1),
        ]),
    ),
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
export async function runClusterPhases(ctx: {
  workDir: string;
  bundleFile: string;
  storeUrl: string;
  /** The store process, whose CPU the plan needs. */
  storePid: number | undefined;
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
    { name: 'store', read: () => cpuSeconds(ctx.storePid) },
    {
      name: 'bench+pull worker',
      read: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
    },
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
