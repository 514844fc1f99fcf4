// bench:function --store-lag's comparison (issue 24 item 4, docs/adr/0110): the same Function
// over --rows rows twice, first against a second store without the lag model, then against the
// run's lag-profile store, each with its own orchestrator child. Discovery runs every 2 s, and
// after the last row each Function keeps running until the store has indexed its writes and two
// more passes have found nothing: that is when rows the store did not show yet would be handed out
// again. A counting no-op handler gives the handler calls per row; the Function's status gives the
// largest record of unindexed writes it carried.
import type { FunctionStatus } from '../../src/contracts/function.js';
import type { FunctionHandler } from '../../packages/worker/src/function-worker.js';
import { createStoreClient, type StoreClient } from '../../packages/worker/src/store/client.js';
import { startStoreChild } from '../servers.js';
import { seed, startOrchestrator, stopChild, track } from './processes.js';
import { log, NOOP_BATCH, NOOP_IN_FLIGHT, round, ROWS, RUN_TAG } from './settings.js';
import { benchSpec, runTemporalPhase, type PhaseTarget } from './temporal-phase.js';

/** Discovery interval of both phases: passes come often enough to meet unindexed writes. */
const LAG_DISCOVERY_INTERVAL_S = 2;

export interface LagRun {
  rowsPerS: number;
  /** Rows passed to the handler beyond the first call of each row. */
  duplicateHandlerCalls: number;
  /** Largest record of unindexed writes the Function carried (bytes of JSON), 0 when never any. */
  maxRecordBytes: number;
  finished: boolean;
}

/** One Function over a fresh namespace of `store`, run until indexed and two quiet passes after. */
async function runSettledPhase(
  target: PhaseTarget,
  label: string,
  storeUrl: string,
  address: string,
  bundleFile: string,
): Promise<LagRun> {
  const namespace = `bench-fn-${label}-${RUN_TAG}`;
  await seed(target.store, { namespace, rows: ROWS });
  const calls = new Map<string, number>();
  const handler: FunctionHandler = (rows) =>
    rows.map((r) => {
      calls.set(String(r.id), (calls.get(String(r.id)) ?? 0) + 1);
      return { id: r.id, value: ['bench'] };
    });
  const spec = benchSpec(`${label}-${RUN_TAG}`, namespace, NOOP_BATCH, NOOP_IN_FLIGHT);
  spec.schedule.discoveryIntervalSeconds = LAG_DISCOVERY_INTERVAL_S;
  let maxRecordBytes = 0;
  let passesWhenIndexed: number | undefined;
  const orchestrator = await startOrchestrator(address, storeUrl, bundleFile);
  try {
    const phase = await runTemporalPhase({
      ...target,
      label,
      spec,
      rows: ROWS,
      handler,
      workerConcurrency: NOOP_IN_FLIGHT,
      onStatus: (s) => {
        maxRecordBytes = Math.max(maxRecordBytes, s.unindexedWrites?.bytes ?? 0);
      },
      settle: async (s: FunctionStatus) => {
        if (passesWhenIndexed === undefined && !s.unindexedWrites && (await indexed(target.store, namespace)))
          passesWhenIndexed = s.counters.discoveries;
        return passesWhenIndexed !== undefined && s.counters.discoveries >= passesWhenIndexed + 2;
      },
    });
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    return {
      rowsPerS: phase.rowsPerS,
      duplicateHandlerCalls: total - calls.size,
      maxRecordBytes,
      finished: phase.finished,
    };
  } finally {
    await stopChild(orchestrator.child);
  }
}

async function indexed(store: StoreClient, namespace: string): Promise<boolean> {
  return (await store.metadata(namespace)).index?.status !== 'updating';
}

/** Both runs; the JSON keys of --store-lag. */
export async function runLagComparison(opts: {
  /** The lag-profile store's target (the run's own store). */
  target: PhaseTarget;
  storeUrl: string;
  temporalAddress: string;
  bundleFile: string;
}): Promise<Record<string, number | boolean>> {
  log(
    `\nphase 6: ${ROWS} rows, discovery every ${LAG_DISCOVERY_INTERVAL_S} s, until indexed and two quiet passes — ` +
      'a store without the lag model, then the lag-profile store',
  );
  const plainChild = await startStoreChild(['--memory'], { output: 'capture' });
  track(plainChild.child, 'store without lag');
  const plainStore = createStoreClient({ baseUrl: plainChild.url, apiKey: 'bench', timeoutMs: 300_000 });
  let noLag: LagRun;
  try {
    noLag = await runSettledPhase(
      { ...opts.target, store: plainStore, cpuProbes: [] },
      'no-lag',
      plainChild.url,
      opts.temporalAddress,
      opts.bundleFile,
    );
  } finally {
    await stopChild(plainChild.child);
  }
  // CPU is not reported here: the run's probes watch the first orchestrator child, not these.
  const lag = await runSettledPhase(
    { ...opts.target, cpuProbes: [] },
    'lag',
    opts.storeUrl,
    opts.temporalAddress,
    opts.bundleFile,
  );
  log(
    `  without lag: ${round(noLag.rowsPerS)} rows/s, ${noLag.duplicateHandlerCalls} rows computed twice; ` +
      `with lag: ${round(lag.rowsPerS)} rows/s, ${lag.duplicateHandlerCalls} rows computed twice, ` +
      `largest record of unindexed writes ${lag.maxRecordBytes} bytes`,
  );
  return {
    rows_per_s_lag: round(lag.rowsPerS),
    rows_per_s_no_lag: round(noLag.rowsPerS),
    lag_vs_no_lag: round(lag.rowsPerS / Math.max(1e-9, noLag.rowsPerS), 3),
    duplicate_handler_calls: lag.duplicateHandlerCalls,
    duplicate_handler_calls_no_lag: noLag.duplicateHandlerCalls,
    unindexed_writes_max_bytes: lag.maxRecordBytes,
    lag_finished: lag.finished && noLag.finished,
  };
}
