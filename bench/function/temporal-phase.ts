// One Temporal phase of bench:function: a Function over a seeded namespace, its pull worker in
// this process, polled until every row is written (or --timeout-s), then its history and cost.
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { getFunctionStatus, startOrUpdateFunction } from '../../src/client/function-client.js';
import type { FunctionRuntimeSpec, FunctionStatus } from '../../src/contracts/function.js';
import { functionTaskQueue, functionWorkflowId } from '../../packages/worker/src/contracts/names.js';
import { runFunctionWorker, type FunctionHandler } from '../../packages/worker/src/function-worker.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { temporalCosts, type TemporalCosts } from '../temporal-costs.js';
import { loadText } from '../harness.js';
import { historyStats, type HistoryStats } from './history.js';
import {
  cpuReport,
  cpuSnapshot,
  formatTimings,
  timedStore,
  type CpuProbe,
  type StoreTimings,
} from './measure.js';
import {
  log,
  OUTPUT_VERSION,
  PHASE_TIMEOUT_S,
  round,
  SLOW_BATCH_MS,
  sleep,
  TEMPORAL_NAMESPACE,
} from './settings.js';

export function benchSpec(
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

export const noopHandler: FunctionHandler = (rows) => rows.map((r) => ({ id: r.id, value: ['bench'] }));
export const slowHandler: FunctionHandler = async (rows) => {
  await sleep(SLOW_BATCH_MS);
  return rows.map((r) => ({ id: r.id, value: ['bench'] }));
};

export interface TemporalPhaseResult {
  /** Status queries issued (billable actions not in history). */
  queries: number;
  /** CPU seconds of every Temporal server process over the phase. */
  serverCpuS: number;
  /** CPU seconds of each probed process over the phase, by probe name. */
  cpuByProcess: Record<string, number>;
  costs: TemporalCosts;
  rows: number;
  seconds: number;
  rowsPerS: number;
  status: FunctionStatus;
  history: HistoryStats;
  finished: boolean;
}

export /** Where a phase runs: the dev server or the cluster, with the processes whose CPU is reported. */
interface PhaseTarget {
  client: Client;
  workerConnection: NativeConnection;
  store: StoreClient;
  cpuProbes: CpuProbe[];
  /** CPU seconds so far of every Temporal server process (the dev server, or each cluster host). */
  serverCpu: () => number;
}

export async function runTemporalPhase(
  opts: PhaseTarget & {
    label: string;
    spec: FunctionRuntimeSpec;
    rows: number;
    handler: FunctionHandler;
    workerConcurrency: number;
    /**
     * After every row is written, keep the Function running until this holds (rows/s still counts
     * to the last row): the --store-lag phases wait for the store to index and a few passes more.
     */
    settle?: (status: FunctionStatus) => Promise<boolean>;
    /** Sees every status polled (the --store-lag phases track the record of unindexed writes). */
    onStatus?: (status: FunctionStatus) => void;
  },
): Promise<TemporalPhaseResult> {
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
  let cpuByProcess: Record<string, number> = {};
  let queries = 0;
  const started = performance.now();
  let status: FunctionStatus | undefined;
  let finished = false;
  let finishedAt: number | undefined;
  let processedAtFinish: number | undefined;
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
      if (status) opts.onStatus?.(status);
      if (status && status.counters.processed >= opts.rows) {
        finished = true;
        if (finishedAt === undefined) {
          finishedAt = performance.now();
          processedAtFinish = status.counters.processed;
        }
        if (!opts.settle || (await opts.settle(status))) break;
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
    cpuByProcess = Object.fromEntries(
      opts.cpuProbes.map((p) => [p.name, p.read() - (cpuBefore.get(p.name) ?? 0)]),
    );
    log(`  ${opts.label}: ${cpuReport(opts.cpuProbes, cpuBefore, seconds)}; load average ${loadText()}`);
    await client.workflow
      .getHandle(functionWorkflowId(spec.k8sNamespace, spec.name))
      .terminate('benchmark phase finished')
      .catch(() => undefined);
    controller.abort();
    await workerRun;
    log(`  ${opts.label}: pull worker's store calls (mean latency): ${formatTimings(timings)}`);
  }
  const seconds = ((finishedAt ?? performance.now()) - started) / 1000;
  const processed = processedAtFinish ?? status?.counters.processed ?? 0;
  if (!finished)
    log(`  ${opts.label}: NOT FINISHED after ${PHASE_TIMEOUT_S} s (${processed}/${opts.rows} rows)`);
  const history = await historyStats(client, functionWorkflowId(spec.k8sNamespace, spec.name));
  const costs = await temporalCosts(client, functionWorkflowId(spec.k8sNamespace, spec.name));
  return {
    queries,
    serverCpuS,
    cpuByProcess,
    costs,
    rows: processed,
    seconds,
    rowsPerS: processed / seconds,
    status: status!,
    history,
    finished,
  };
}
