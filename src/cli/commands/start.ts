// `layer start` — what `npm start` runs: the main job on embedded defaults. It brings up the
// local Temporal dev server and the embedded store (left running, so a re-run resumes),
// seeds a product catalogue, applies the seed's tag-products Function, runs the orchestrator
// Worker and the example pull worker in this process, and shows progress until every row is
// tagged. Ctrl-C stops the workers cleanly; the workflow waits in Temporal for the next run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import {
  discoverFunctionNow,
  getFunctionStatus,
  startOrUpdateFunction,
} from '../../client/function-client.js';
import type { FunctionStatus } from '../../contracts/function.js';
import { functionTaskQueue } from '../../contracts/names.js';
import { devUp, endpointsOf } from '../../dev/environment.js';
import { devStateDir, packageRoot } from '../../dev/paths.js';
import { startStoreProcess } from '../../dev/store-process.js';
import { workFilter } from '../../engine/function-filters.js';
import { declareEngineAttributes } from '../../engine/engine-attributes.js';
import { runFunctionWorker } from '../../sdk/function-worker.js';
import { createStoreClient, type StoreClient } from '../../store/client.js';
import { generateProducts } from '../../store/seed.js';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker.js';
import { tagProducts } from '../../../examples/tag-products/handler.js';
import { InvalidInputError } from '../../util/errors.js';
import { startRoleTracing, tracingClientOptions } from '../../observe/tracing.js';
import { createProgressWriter } from '../progress.js';
import { parseFunctionDocuments, toLocalRuntimeSpec } from './apply.js';

const EXAMPLE_FUNCTION = join(packageRoot(), 'examples', 'tag-products', 'function.yaml');

interface StartOptions {
  rows: string;
  json?: boolean;
  stateDir: string;
}

/** Adds catalogue rows up to `rows` (ids 1..rows), never rewriting rows that exist (they may be tagged). */
export async function ensureCatalogue(
  store: StoreClient,
  namespace: string,
  rows: number,
  log: (l: string) => void,
): Promise<void> {
  let present = 0;
  if (await store.exists(namespace)) {
    const last = await store.query(namespace, {
      rank_by: ['id', 'desc'],
      limit: 1,
      include_attributes: false,
    });
    present = Number(last.rows?.[0]?.id ?? 0);
  }
  if (present > rows)
    log(
      `the store already holds ${present} rows in ${namespace} from an earlier run (more than --rows ${rows}); ` +
        'they are kept (some may be tagged). To start over with fewer: layer dev down --purge, then npm start again',
    );
  if (present >= rows) return;
  log(`seeding ${rows - present} product rows into ${namespace}`);
  for (let start = present + 1; start <= rows; start += 5000) {
    await store.upsertRows(namespace, generateProducts(Math.min(5000, rows - start + 1), 1, start));
  }
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the demo on embedded defaults: tag a seeded product catalogue with the tag-products Function',
    )
    .option('--rows <n>', 'catalogue size', '10000')
    .option('--json', 'end with one JSON line {rows, processed, failed, deadLettered, seconds}')
    .option('--state-dir <dir>', 'where state, data and logs live', devStateDir())
    .action(async (opts: StartOptions) => {
      const rows = Number(opts.rows);
      if (!Number.isInteger(rows) || rows < 1)
        throw new InvalidInputError(
          '--rows',
          `${JSON.stringify(opts.rows)} is not a positive whole number`,
          'e.g. --rows 10000',
        );
      const log = (line: string) => process.stderr.write(`${line}\n`);
      Runtime.install({ logger: new DefaultLogger('WARN') });

      const state = await devUp({ stateDir: opts.stateDir, kube: false, log, startStore: startStoreProcess });
      const endpoints = endpointsOf(state, opts.stateDir);
      const store = createStoreClient({ baseUrl: endpoints.storeUrl! });
      const [sourced] = parseFunctionDocuments(readFileSync(EXAMPLE_FUNCTION, 'utf8'), EXAMPLE_FUNCTION);
      const spec = toLocalRuntimeSpec(sourced!);
      const namespace = spec.targetNamespaces[0]!;
      await ensureCatalogue(store, namespace, rows, log);

      // Counted before any worker starts, so a store problem fails fast with nothing to clean up.
      await declareEngineAttributes(store, namespace, spec.output);
      const total = await store.countRows(namespace);
      const pendingAtStart = await store.countRows(namespace, workFilter(spec.output, spec.filter) as never);

      const stopTracing = await startRoleTracing('start', (line) => log(line));
      const connection = await Connection.connect({ address: endpoints.temporalAddress });
      const client = new Client({
        connection,
        namespace: endpoints.temporalNamespace,
        ...tracingClientOptions(),
      });
      const native = await NativeConnection.connect({ address: endpoints.temporalAddress });
      const orchestrator = await createOrchestratorWorker({
        connection: native,
        namespace: endpoints.temporalNamespace,
        storeFor: () => store,
      });
      const stopWorkers = new AbortController();
      const orchestratorRun = orchestrator.run();
      const pullRun = runFunctionWorker({
        handler: tagProducts,
        taskQueue: functionTaskQueue(spec.k8sNamespace, spec.name),
        concurrency: spec.schedule.maxInFlightBatches,
        temporal: { connection: native, namespace: endpoints.temporalNamespace },
        store,
        signal: stopWorkers.signal,
      });
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const stopAll = async () => {
        stopWorkers.abort();
        if (orchestrator.getState() === 'RUNNING') orchestrator.shutdown();
        await Promise.allSettled([orchestratorRun, pullRun]);
        await native.close();
        await connection.close();
        await stopTracing();
      };
      const started = Date.now();
      let pending = pendingAtStart;
      let status: FunctionStatus | undefined;
      try {
        await startOrUpdateFunction(client, spec);
        // An equal spec is a no-op for a running workflow, which would find rows this run just
        // seeded only at its next discovery interval (300 s in the example): look now.
        await discoverFunctionNow(client, spec);
        log(
          `Function ${spec.k8sNamespace}/${spec.name} applied; ${pendingAtStart} of ${total} rows to tag. Temporal UI: ${endpoints.temporalUiUrl}`,
        );
        const bar = createProgressWriter(process.stderr, { intervalMs: 2000 });
        while (!interrupted) {
          pending = await store.countRows(namespace, workFilter(spec.output, spec.filter) as never);
          status = await getFunctionStatus(client, spec);
          const done = total - pending - status.counters.deadLettered;
          const elapsedMs = Date.now() - started;
          bar.update({
            done,
            total,
            rowsPerSecond: elapsedMs > 0 ? ((pendingAtStart - pending) / elapsedMs) * 1000 : 0,
            elapsedMs,
          });
          if (pending === 0 && status.inFlightBatches === 0) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        bar.finish();
      } finally {
        await stopAll();
      }
      // The last poll may predate the signal by a slow status query: once the workers have
      // stopped, what is left is what the store says now (the store keeps running).
      if (interrupted)
        pending = await store
          .countRows(namespace, workFilter(spec.output, spec.filter) as never)
          .catch(() => pending);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const deadLettered = status?.counters.deadLettered ?? 0;
      const summary = {
        rows: total,
        processed: total - pending - deadLettered,
        failed: status?.counters.failedBatches ?? 0,
        deadLettered,
        seconds,
      };
      process.stdout.write(
        interrupted
          ? `Stopped after ${seconds}s with ${pending} rows still to tag; run again to resume.\n`
          : `Tagged ${summary.processed} of ${total} rows in ${seconds}s (${summary.deadLettered} dead-lettered, ${summary.failed} failed batches).\n`,
      );
      process.stdout.write(
        `Temporal UI: ${endpoints.temporalUiUrl}/namespaces/${endpoints.temporalNamespace}/workflows — the Function is workflow function/${spec.k8sNamespace}/${spec.name}\n` +
          `Servers keep running in the background; stop them with: node bin/layer.js dev down\n`,
      );
      if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
    });
}
