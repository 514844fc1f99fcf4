// The lag profile the benchmarks and the chaos run start the store with (`--store-lag`): the
// service's write path (docs/adr/0098) with thresholds scaled so a local run of ~100k rows
// feels it — writes outrun a slow indexer, pass the outstanding-write budget within seconds
// and stay invisible for a while. The seed is written through the same path, so a run waits
// for it to be indexed before starting its Function: the lag it measures is the Function's own.
import type { StoreClient } from '../../packages/worker/src/store/client.js';

/** `layer store serve` flags of the profile. Scaled from the service's 128 MiB / 2 GB; indexer rate ours. */
const STORE_LAG_PROFILE = {
  outstandingWriteBudget: '256KiB',
  backpressureLimit: '32MiB',
  indexMbPerSec: '0.5',
} as const;

export function storeLagArgs(): string[] {
  return [
    '--index-lag',
    '--outstanding-write-budget',
    STORE_LAG_PROFILE.outstandingWriteBudget,
    '--backpressure-limit',
    STORE_LAG_PROFILE.backpressureLimit,
    '--index-mb-per-sec',
    STORE_LAG_PROFILE.indexMbPerSec,
  ];
}

/**
 * Resolves once the namespace's metadata says its writes are indexed (`index.status`
 * up-to-date), polling; fails naming the namespace and the bytes still unindexed.
 */
export async function waitUntilIndexed(
  client: StoreClient,
  namespace: string,
  timeoutMs = 10 * 60_000,
  intervalMs = 500,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const md = await client.metadata(namespace);
    if (md.index?.status !== 'updating') return;
    if (Date.now() > deadline)
      throw new Error(
        `namespace ${namespace} still has ${md.index.unindexed_bytes ?? '?'} unindexed bytes after ${timeoutMs} ms; ` +
          'the store indexes too slowly for this run (raise --index-mb-per-sec)',
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
