// bench:function's repeat pairs: single runs of the sequential direct loop swing ±30 % on this
// 2-core box (two idle runs of one clone gave 0.74× and 1.05× for the same no-op rate), so the
// no-op/direct ratio is also given as the median of --median-runs (default 3) alternating pairs:
// the main run's pair, then further no-op → direct pairs on fresh namespaces with a fresh
// orchestrator child. Key: noop_vs_direct_median3 (the name keeps the issue's; it is the median
// of however many pairs ran).
import type { CpuProbe } from './measure.js';
import { runDirectPhase } from './direct.js';
import { seed, startOrchestrator, stopChild } from './processes.js';
import { log, NOOP_BATCH, NOOP_IN_FLIGHT, round, ROWS, RUN_TAG } from './settings.js';
import { benchSpec, noopHandler, runTemporalPhase, type PhaseTarget } from './temporal-phase.js';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs pairs 2..runs and returns every pair's no-op ÷ direct ratio, the first one given. */
export async function runRepeatPairs(opts: {
  runs: number;
  firstRatio: number;
  target: PhaseTarget;
  cpuProbes: CpuProbe[];
  temporalAddress: string;
  storeUrl: string;
  bundleFile: string;
}): Promise<number[]> {
  const ratios = [opts.firstRatio];
  if (opts.runs <= 1) return ratios;
  const orchestrator = await startOrchestrator(opts.temporalAddress, opts.storeUrl, opts.bundleFile);
  try {
    for (let pair = 2; pair <= opts.runs; pair++) {
      const noopNs = `bench-fn-noop-${RUN_TAG}-p${pair}`;
      const directNs = `bench-fn-direct-${RUN_TAG}-p${pair}`;
      await seed(opts.target.store, { namespace: noopNs, rows: ROWS });
      await seed(opts.target.store, { namespace: directNs, rows: ROWS });
      log(`\nrepeat pair ${pair} of ${opts.runs}: no-op then direct, ${ROWS} rows each`);
      const noop = await runTemporalPhase({
        ...opts.target,
        label: `noop-p${pair}`,
        spec: benchSpec(`noop-p${pair}-${RUN_TAG}`, noopNs, NOOP_BATCH, NOOP_IN_FLIGHT),
        rows: ROWS,
        handler: noopHandler,
        workerConcurrency: NOOP_IN_FLIGHT,
      });
      const direct = await runDirectPhase(opts.target.store, directNs, opts.cpuProbes);
      ratios.push(noop.rowsPerS / direct.rowsPerS);
      log(
        `  pair ${pair}: no-op ${round(noop.rowsPerS)} rows/s vs direct ${round(direct.rowsPerS)} rows/s = ` +
          `${round(ratios[ratios.length - 1]!, 2)}×`,
      );
    }
  } finally {
    await stopChild(orchestrator.child);
  }
  return ratios;
}
