// `layer store serve` runs the embedded Turbopuffer-compatible store in the foreground;
// `layer store seed` fills a namespace with the deterministic product catalogue through the
// store client (so it works against any Turbopuffer-compatible URL).
import type { Command } from 'commander';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { seedProducts } from '../../store/seed.js';
import { startStoreServer } from '../../store/server.js';
import { SERVICE_INDEX_LAG, type IndexLagOptions } from '../../store/storage/index-lag.js';
import type { WriteRateLimitOptions } from '../../store/storage/write-rate-limit.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidInputError(flag, `expected an integer >= ${min}, got '${value}'`);
  return n;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** `65536`, `64KiB`, `128MiB`, `2GB` → bytes (decimal KB/MB/GB as the service's docs write them). */
export function parseByteSize(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new InvalidInputError(flag, `expected a size such as 65536, 64KiB, 128MiB or 2GB, got '${value}'`);
  return Math.round(Number(m[1]) * unit);
}

function nonNegativeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidInputError(flag, `expected a number >= 0, got '${value}'`);
  return n;
}

/** The lag flags of `layer store serve` (sizes as typed on the command line). */
export interface IndexLagFlags {
  indexLag?: boolean;
  outstandingWriteBudget?: string;
  backpressureLimit?: string;
  indexMbPerSec?: string;
  writeRowsPerSec?: string;
  writeMbPerSec?: string;
}

/**
 * The lag model and rate limits the flags ask for; the service's numbers for what is left out.
 * A threshold flag without --index-lag is a mistake (it would silently do nothing), so it is refused.
 */
export function lagOptionsFromFlags(flags: IndexLagFlags): {
  indexLag?: IndexLagOptions;
  writeRateLimit?: WriteRateLimitOptions;
} {
  const out: { indexLag?: IndexLagOptions; writeRateLimit?: WriteRateLimitOptions } = {};
  const tuned = (['outstandingWriteBudget', 'backpressureLimit', 'indexMbPerSec'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (!flags.indexLag && tuned.length > 0)
    throw new InvalidInputError(
      '--index-lag',
      `--${tuned[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} tunes the index-lag model; add --index-lag to turn it on`,
    );
  if (flags.indexLag) {
    out.indexLag = {
      outstandingWriteBudgetBytes:
        flags.outstandingWriteBudget !== undefined
          ? parseByteSize('--outstanding-write-budget', flags.outstandingWriteBudget)
          : SERVICE_INDEX_LAG.outstandingWriteBudgetBytes,
      backpressureBytes:
        flags.backpressureLimit !== undefined
          ? parseByteSize('--backpressure-limit', flags.backpressureLimit)
          : SERVICE_INDEX_LAG.backpressureBytes,
      indexBytesPerSecond:
        flags.indexMbPerSec !== undefined
          ? Math.round(nonNegativeNumber('--index-mb-per-sec', flags.indexMbPerSec) * 1e6)
          : SERVICE_INDEX_LAG.indexBytesPerSecond,
    };
  }
  if (flags.writeRowsPerSec !== undefined || flags.writeMbPerSec !== undefined) {
    out.writeRateLimit = {
      ...(flags.writeRowsPerSec !== undefined
        ? { rowsPerSecond: nonNegativeNumber('--write-rows-per-sec', flags.writeRowsPerSec) }
        : {}),
      ...(flags.writeMbPerSec !== undefined
        ? { bytesPerSecond: Math.round(nonNegativeNumber('--write-mb-per-sec', flags.writeMbPerSec) * 1e6) }
        : {}),
    };
  }
  return out;
}

interface StoreServeOptions extends IndexLagFlags {
  data: string;
  memory?: boolean;
  port: string;
  host: string;
  key: string[];
  checkpointBytes?: string;
  rowCache?: string;
  annThreshold?: string;
}

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('the embedded Turbopuffer-compatible store');

  store
    .command('serve')
    .description('serve the Turbopuffer v2 HTTP API from a local data directory (or memory)')
    .option('--data <dir>', 'data directory (created if missing)', '.layer/store')
    .option('--memory', 'keep everything in memory; nothing survives a restart')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--key <key>', 'accepted bearer key (repeatable); none means open', collect, [] as string[])
    .option('--checkpoint-bytes <n>', 'checkpoint a namespace once its write-ahead log outgrows n bytes')
    .option('--row-cache <n>', 'decoded rows cached per namespace (rows themselves stay on disk)')
    .option('--ann-threshold <n>', 'rows from which unfiltered ANN queries use an HNSW index (default 10000)')
    .option(
      '--index-lag',
      "model the service's indexing lag: writes past the outstanding-write budget stay invisible to queries until indexed, and past the backpressure limit writes get 429",
    )
    .option(
      '--outstanding-write-budget <size>',
      'with --index-lag: unindexed bytes queries still see (default 128MiB)',
    )
    .option(
      '--backpressure-limit <size>',
      'with --index-lag: unindexed bytes past which writes get 429 (default 2GB)',
    )
    .option(
      '--index-mb-per-sec <n>',
      'with --index-lag: indexer throughput per namespace in MB/s, 0 pauses it (default 32)',
    )
    .option(
      '--write-rows-per-sec <n>',
      'per-namespace write limit in rows/s, answered with 429 + Retry-After (service: 10000)',
    )
    .option(
      '--write-mb-per-sec <n>',
      'per-namespace write limit in MB/s, answered with 429 + Retry-After (service: 32)',
    )
    .action(async (opts: StoreServeOptions) => {
      const lag = lagOptionsFromFlags(opts);
      const server = await startStoreServer({
        ...lag,
        ...(opts.memory ? { memory: true } : { dataDir: opts.data }),
        port: positiveInt('--port', opts.port),
        host: opts.host,
        apiKeys: opts.key,
        ...(opts.checkpointBytes !== undefined
          ? { minSnapshotWalBytes: positiveInt('--checkpoint-bytes', opts.checkpointBytes) }
          : {}),
        ...(opts.rowCache !== undefined ? { rowCacheRows: positiveInt('--row-cache', opts.rowCache) } : {}),
        ...(opts.annThreshold !== undefined
          ? { annThreshold: positiveInt('--ann-threshold', opts.annThreshold) }
          : {}),
      });
      process.stdout.write(
        `store listening on ${server.url} (${opts.memory ? 'in memory' : `data in ${opts.data}`}, ${opts.key.length ? `${opts.key.length} key(s)` : 'open'}${describeLag(lag)})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  store
    .command('seed')
    .description('upsert a deterministic sample product catalogue into a namespace')
    .requiredOption('--url <url>', 'store base URL, e.g. http://127.0.0.1:8787')
    .requiredOption('--namespace <name>', 'namespace to write')
    .requiredOption('--rows <n>', 'number of products')
    .option('--seed <s>', 'PRNG seed; the same seed gives the same rows', '1')
    .option('--key <key>', 'bearer key', 'open')
    .action(async (opts: { url: string; namespace: string; rows: string; seed: string; key: string }) => {
      const rows = positiveInt('--rows', opts.rows);
      const client = createStoreClient({ baseUrl: opts.url, apiKey: opts.key });
      const started = Date.now();
      await seedProducts(client, { namespace: opts.namespace, rows, seed: positiveInt('--seed', opts.seed) });
      process.stdout.write(`seeded ${rows} products into ${opts.namespace} in ${Date.now() - started} ms\n`);
    });
}

function describeLag(lag: ReturnType<typeof lagOptionsFromFlags>): string {
  const parts: string[] = [];
  if (lag.indexLag)
    parts.push(
      `index lag: budget ${lag.indexLag.outstandingWriteBudgetBytes} B, backpressure ${lag.indexLag.backpressureBytes} B, indexer ${lag.indexLag.indexBytesPerSecond} B/s`,
    );
  if (lag.writeRateLimit)
    parts.push(
      `write limit: ${lag.writeRateLimit.rowsPerSecond ?? '∞'} rows/s, ${lag.writeRateLimit.bytesPerSecond ?? '∞'} B/s`,
    );
  return parts.length ? `; ${parts.join('; ')}` : '';
}
