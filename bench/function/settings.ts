// bench:function's settings: every flag it reads (bench/harness.ts's reader), the fixed batch
// shapes of its phases, and the small helpers every phase module prints with.
import { parseTemporalKind } from '../../src/cli/commands/dev.js';
import { arg, textArg } from '../harness.js';

export const ROWS = arg('rows', 100_000);
/** Start the store with the index-lag profile (--store-lag). */
export const STORE_LAG = process.argv.includes('--store-lag');
/** The slow phase runs at ~1,280 rows/s: 100k rows is enough to measure it, at any --rows. */
export const SLOW_ROWS = arg('slow-rows', Math.min(ROWS, 100_000));
export const NOOP_BATCH = 64;
/** Batches in flight for the no-op phase: the seed Function's default (maxInFlightBatches 8). */
export const NOOP_IN_FLIGHT = arg('noop-in-flight', 8);
export const SLOW_BATCH = 32;
export const SLOW_IN_FLIGHT = 4;
export const SLOW_BATCH_MS = 100;
export const IDEAL_SLOW_ROWS_PER_S = (SLOW_IN_FLIGHT * SLOW_BATCH) / (SLOW_BATCH_MS / 1000);
export const DIRECT_BATCH = 64;
/** Alternating no-op/direct pairs whose median ratio is noop_vs_direct_median3 (1: the main pair only). */
export const MEDIAN_RUNS = arg('median-runs', 3);
/** Give up on a phase after this long (reported, never silently shortened). */
export const PHASE_TIMEOUT_S = arg('timeout-s', 900);
export const OUTPUT_VERSION = 'bench-v1';
export const TEMPORAL_NAMESPACE = 'default';
export const TEMPORAL_KIND = parseTemporalKind(textArg('temporal') ?? 'dev');
/** Rows of the UUID-keyed no-op phase: only with --uuid-rows or --temporal cluster. */
export const UUID_ROWS = process.argv.includes('--uuid-rows')
  ? arg('uuid-rows', 0)
  : TEMPORAL_KIND === 'cluster'
    ? Math.min(ROWS, 10_000)
    : 0;
export const RUN_TAG = Date.now().toString(36);

export const log = (s: string): void => void process.stdout.write(`${s}\n`);
export const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
