// bench:function phase 3: the no-op work of phase 1 without Temporal — a direct loop scan page →
// handler → patch through the same store client and the pull SDK's batch function, batch 64.
import { runFunctionBatchWith } from '../../packages/worker/src/claim-execution/function-batch.js';
import type { FunctionRuntimeSpec } from '../../src/contracts/function.js';
import { workFilter } from '../../packages/worker/src/claim-execution/function-filters.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { loadText } from '../harness.js';
import {
  cpuReport,
  cpuSnapshot,
  formatTimings,
  timedStore,
  type CpuProbe,
  type StoreTimings,
} from './measure.js';
import { DIRECT_BATCH, log, round, ROWS, RUN_TAG } from './settings.js';
import { benchSpec, noopHandler } from './temporal-phase.js';

export interface DirectPhase {
  rows: number;
  seconds: number;
  rowsPerS: number;
  batches: number;
}

/** Phase 3: scan page → handler → patch, no Temporal, with the pull SDK's batch function. */
async function runDirectLoop(
  store: StoreClient,
  namespace: string,
  spec: FunctionRuntimeSpec,
  cpuProbes: CpuProbe[],
): Promise<DirectPhase> {
  const timings: StoreTimings = new Map();
  store = timedStore(store, timings);
  // The pull SDK's batch stages (read, compute, write back) with the handler called in-process.
  const runBatch = (input: Parameters<typeof runFunctionBatchWith>[1]) =>
    runFunctionBatchWith(store, input, async (request) => noopHandler(request.rows, {} as never));
  const filter = workFilter(spec.output, spec.filter);
  // The engine declares its attributes before the first filtered scan; so do we.
  await store.write(namespace, { schema: { tags_v: 'string', tags_error: 'string' } } as never);
  const cpuBefore = cpuSnapshot(cpuProbes);
  const started = performance.now();
  let written = 0;
  let batches = 0;
  let afterId: string | number | null = null;
  do {
    const page = await store.scanPage({
      namespace,
      filter: filter as never,
      afterId,
      limit: DIRECT_BATCH,
      attributes: false,
    });
    afterId = page.nextAfterId as string | number | null;
    if (page.rows.length === 0) break;
    batches += 1;
    const res = await runBatch({
      batchId: `direct-${batches}`,
      spec,
      namespace,
      ids: page.rows.map((r) => r.id as string | number),
    });
    written += res.written;
  } while (afterId !== null);
  const seconds = (performance.now() - started) / 1000;
  log(`  direct: ${cpuReport(cpuProbes, cpuBefore, seconds)}; load average ${loadText()}`);
  log(`  direct: store calls (mean latency): ${formatTimings(timings)}`);
  return { rows: written, seconds, rowsPerS: written / seconds, batches };
}

/** Phase 3 over `namespace` (seeded with --rows), printed. */
export async function runDirectPhase(
  store: StoreClient,
  namespace: string,
  cpuProbes: CpuProbe[],
): Promise<DirectPhase> {
  log(`\nphase 3: direct loop (scan → handler → patch, no Temporal), batch ${DIRECT_BATCH}, ${ROWS} rows`);
  const direct = await runDirectLoop(
    store,
    namespace,
    benchSpec(`direct-${RUN_TAG}`, namespace, DIRECT_BATCH, 1),
    cpuProbes,
  );
  log(
    `  direct: ${direct.rows} rows in ${round(direct.seconds, 1)} s = ${round(direct.rowsPerS)} rows/s ` +
      `(${direct.batches} batches, ${round((direct.seconds * 1000) / Math.max(1, direct.batches), 1)} ms each)`,
  );
  return direct;
}
