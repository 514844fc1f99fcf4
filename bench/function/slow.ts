// bench:function phase 2: a fixed 100 ms-per-batch pull worker, 4 batches in flight, batch 32 —
// how close the engine keeps a slow worker to its ideal rate, and how long its slots sit idle.
import { formatBreakdown } from './history.js';
import {
  IDEAL_SLOW_ROWS_PER_S,
  log,
  round,
  RUN_TAG,
  SLOW_BATCH,
  SLOW_BATCH_MS,
  SLOW_IN_FLIGHT,
  SLOW_ROWS,
} from './settings.js';
import {
  benchSpec,
  runTemporalPhase,
  slowHandler,
  type PhaseTarget,
  type TemporalPhaseResult,
} from './temporal-phase.js';

export interface SlowPhase {
  slow: TemporalPhaseResult;
  /** Achieved rows/s ÷ the ideal in-flight × batch ÷ batch time. */
  efficiency: number;
  eventsPerBatch: number;
  workerIdleFraction: number;
}

/** Phase 2 over `namespace` (seeded with --slow-rows), printed with its history breakdown. */
export async function runSlowPhase(target: PhaseTarget, namespace: string): Promise<SlowPhase> {
  log(
    `\nphase 2: ${SLOW_BATCH_MS} ms-per-batch pull worker, batch ${SLOW_BATCH}, ${SLOW_IN_FLIGHT} in flight, ` +
      `${SLOW_ROWS} rows (ideal ${IDEAL_SLOW_ROWS_PER_S} rows/s)`,
  );
  const slowSpec = benchSpec(`slow-${RUN_TAG}`, namespace, SLOW_BATCH, SLOW_IN_FLIGHT);
  const slow = await runTemporalPhase({
    ...target,
    label: 'slow',
    spec: slowSpec,
    rows: SLOW_ROWS,
    handler: slowHandler,
    workerConcurrency: SLOW_IN_FLIGHT,
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
  return { slow, efficiency, eventsPerBatch: slowEventsPerBatch, workerIdleFraction };
}
