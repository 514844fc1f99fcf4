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
// `store_lag: true` and phase 6 (bench/function/lag.ts, ADR 0110): the same Function with passes
// every 2 s against a store without lag and against the lag store, run until indexed —
// rows_per_s_lag and rows_per_s_no_lag, duplicate_handler_calls (rows the handler computed more
// than once, target 0) and unindexed_writes_max_bytes (the largest record of unindexed writes the
// workflow carried). Without it the store, the phases and the keys are those of before.
//
// Also: an idle Function's cost per discovery pass (idle_actions_per_pass, …: 10,000 Functions at
// rest are a capacity question of their own), the median of --median-runs alternating no-op/direct
// pairs (noop_vs_direct_median3), and the orchestrator's, store's and pull worker's CPU per 1M rows
// beside the server's. docs/scale.md turns these keys into a capacity plan (bench/capacity-plan.ts).
//
// Usage: npm run bench:function [-- --rows N] [--slow-rows N] [--noop-in-flight N] [--timeout-s S]
//                               [--uuid-rows N] [--temporal dev|cluster] [--median-runs N] [--idle-seconds S] [--store-lag]
//
// The phases live in bench/function/ (settings, processes, temporal-phase, noop, slow, direct,
// cluster); this file runs them in order and prints the summary and the JSON line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startTemporalDevServer } from '../src/dev/temporal-server.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { bundleOrchestratorWorkflows } from '../src/workers/orchestrator-worker.js';
import { load1 } from './harness.js';
import { cpuSeconds, procStatusMb } from './proc.js';
import { runClusterPhases, temporalKeys } from './function/cluster.js';
import { runDirectPhase } from './function/direct.js';
import type { CpuProbe } from './function/measure.js';
import { runIdlePhase } from './function/idle.js';
import { runLagComparison } from './function/lag.js';
import { median, runRepeatPairs } from './function/median.js';
import { runNoopPhase, runUuidPhase } from './function/noop.js';
import {
  killChildren,
  seed,
  startOrchestrator,
  startStore,
  stopChild,
  stopOnSignal,
} from './function/processes.js';
import {
  DIRECT_BATCH,
  IDEAL_SLOW_ROWS_PER_S,
  MEDIAN_RUNS,
  log,
  NOOP_BATCH,
  NOOP_IN_FLIGHT,
  round,
  ROWS,
  RUN_TAG,
  SLOW_BATCH,
  SLOW_BATCH_MS,
  SLOW_IN_FLIGHT,
  SLOW_ROWS,
  STORE_LAG,
  TEMPORAL_KIND,
  TEMPORAL_NAMESPACE,
} from './function/settings.js';
import { runSlowPhase } from './function/slow.js';
import type { PhaseTarget } from './function/temporal-phase.js';

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
    stopOnSignal(server);
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

    const devServer: PhaseTarget = {
      client,
      workerConnection,
      store,
      cpuProbes,
      serverCpu: () => cpuSeconds(server.pid),
    };
    const {
      noop,
      eventsPerBatch: noopEventsPerBatch,
      eventsPer1k: noopEventsPer1k,
      rowsPerDispatch,
    } = await runNoopPhase(devServer, ns.noop, orchestratorPid);

    const {
      slow,
      efficiency,
      eventsPerBatch: slowEventsPerBatch,
      workerIdleFraction,
    } = await runSlowPhase(devServer, ns.slow);
    const uuidPhase = await runUuidPhase(devServer);
    const idle = await runIdlePhase(devServer, ns.noop);

    const orchestratorPeakMb = procStatusMb(orchestratorPid, 'VmHWM');
    await stopChild(orchestrator.child);
    const childReport = await orchestrator.finalLine;
    log(`  orchestrator peak RSS ${orchestratorPeakMb} MB (/proc VmHWM); child's own report: ${childReport}`);

    const direct = await runDirectPhase(store, ns.direct, cpuProbes);

    const devKeys = temporalKeys(noop, uuidPhase);
    log(`  dev server costs: ${JSON.stringify(devKeys)}`);
    let targetKeys: Record<string, number | boolean> = devKeys;
    if (TEMPORAL_KIND === 'cluster') {
      log(`\nphase 4: the no-op phase again on a two-host Temporal cluster on PostgreSQL`);
      const clusterKeys = await runClusterPhases({
        workDir,
        bundleFile,
        storeUrl: storeProc.url,
        storePid: storeProc.child.pid,
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
    const ratios = await runRepeatPairs({
      runs: MEDIAN_RUNS,
      firstRatio: noopVsDirect,
      target: devServer,
      cpuProbes,
      temporalAddress: server.address,
      storeUrl: storeProc.url,
      bundleFile,
    });
    const noopVsDirectMedian = median(ratios);
    const lagKeys = STORE_LAG
      ? await runLagComparison({
          target: devServer,
          storeUrl: storeProc.url,
          temporalAddress: server.address,
          bundleFile,
        })
      : {};
    log(
      `no-op ÷ direct over ${ratios.length} alternating pairs: ${ratios.map((r) => round(r, 2)).join(', ')} ` +
        `(median ${round(noopVsDirectMedian, 2)}×)`,
    );
    log(
      `\nsummary: no-op ${round(noop.rowsPerS)} rows/s vs direct ${round(direct.rowsPerS)} rows/s = ` +
        `${round(noopVsDirect, 2)}×; 100 ms worker at ${round(efficiency * 100, 1)}% of ideal; ` +
        `${round(noopEventsPerBatch, 2)} history events per batch; orchestrator peak RSS ${orchestratorPeakMb} MB; ` +
        `store peak RSS ${procStatusMb(storeProc.child.pid, 'VmHWM')} MB`,
    );
    log(
      JSON.stringify({
        rows: ROWS,
        ...(STORE_LAG ? { store_lag: true, ...lagKeys } : {}),
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
        noop_vs_direct_median3: round(noopVsDirectMedian, 3),
        idle_actions_per_pass: idle.actionsPerPass,
        idle_history_events_per_pass: idle.eventsPerPass,
        idle_history_bytes_per_pass: idle.historyBytesPerPass,
        noop_vs_direct_pairs: ratios.map((r) => round(r, 3)),
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
