// `layer store serve` runs the embedded Turbopuffer-compatible store in the foreground;
// `layer store seed` fills a namespace with the deterministic product catalogue through the
// store client (so it works against any Turbopuffer-compatible URL).
import type { Command } from 'commander';
import { InvalidInputError } from '../../util/errors.js';
import { createStoreClient } from '../../store/client.js';
import { seedProducts } from '../../store/seed.js';
import { startStoreServer } from '../../store/server.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidInputError(flag, `expected an integer >= ${min}, got '${value}'`);
  return n;
}

interface StoreServeOptions {
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
    .action(async (opts: StoreServeOptions) => {
      const server = await startStoreServer({
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
        `store listening on ${server.url} (${opts.memory ? 'in memory' : `data in ${opts.data}`}, ${opts.key.length ? `${opts.key.length} key(s)` : 'open'})\n`,
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
