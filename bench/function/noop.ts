// bench:function phase 1 (a no-op pull worker: a constant tag per row) and phase 2b (the same over
// UUID-keyed rows: what id size does to history bytes).
import { procStatusMb } from '../proc.js';
import { formatBreakdown } from './history.js';
import { seed } from './processes.js';
import { log, NOOP_BATCH, NOOP_IN_FLIGHT, round, ROWS, RUN_TAG, UUID_ROWS } from './settings.js';
import {
  benchSpec,
  noopHandler,
  runTemporalPhase,
  type PhaseTarget,
  type TemporalPhaseResult,
} from './temporal-phase.js';

export interface NoopPhase {
  noop: TemporalPhaseResult;
  eventsPerBatch: number;
  eventsPer1k: number;
  rowsPerDispatch: number;
}

/** Phase 1 over `namespace` (seeded with --rows), printed with its history breakdown. */
export async function runNoopPhase(
  target: PhaseTarget,
  namespace: string,
  orchestratorPid: number | undefined,
): Promise<NoopPhase> {
  log(`\nphase 1: no-op pull worker, batch ${NOOP_BATCH}, ${NOOP_IN_FLIGHT} in flight, ${ROWS} rows`);
  const noopSpec = benchSpec(`noop-${RUN_TAG}`, namespace, NOOP_BATCH, NOOP_IN_FLIGHT);
  const noop = await runTemporalPhase({
    ...target,
    label: 'noop',
    spec: noopSpec,
    rows: ROWS,
    handler: noopHandler,
    workerConcurrency: NOOP_IN_FLIGHT,
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
  return { noop, eventsPerBatch: noopEventsPerBatch, eventsPer1k: noopEventsPer1k, rowsPerDispatch };
}

/** Phase 2b (--uuid-rows, or --temporal cluster): undefined when there are no UUID rows. */
export async function runUuidPhase(target: PhaseTarget): Promise<TemporalPhaseResult | undefined> {
  if (UUID_ROWS <= 0) return undefined;
  log(`\nphase 2b: no-op pull worker over ${UUID_ROWS} UUID-keyed rows`);
  const uuidNs = `bench-fn-uuid-${RUN_TAG}`;
  await seed(target.store, { namespace: uuidNs, rows: UUID_ROWS, idKind: 'uuid' });
  return runTemporalPhase({
    ...target,
    label: 'noop-uuid',
    spec: benchSpec(`noop-uuid-${RUN_TAG}`, uuidNs, NOOP_BATCH, NOOP_IN_FLIGHT),
    rows: UUID_ROWS,
    handler: noopHandler,
    workerConcurrency: NOOP_IN_FLIGHT,
  });
}
