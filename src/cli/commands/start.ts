// `layer start` — what `npm start` runs: the main job on embedded defaults. It brings up the
// local Temporal dev server and the embedded store (left running, so a re-run resumes),
// seeds a product catalogue, applies the seed's tag-products Function, runs the orchestrator
// Worker and the example pull worker in this process, and shows progress until every row is
// tagged. Ctrl-C, at any stage, stops what this process runs and ends with the one line of what
// is left (exit 0); the workflow waits in Temporal for the next run.
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
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { devUp, endpointsOf } from '../../dev/environment.js';
import { devStateDir, packageRoot } from '../../dev/paths.js';
import { startStoreProcess } from '../../dev/store-process.js';
import { workFilter } from '../../../packages/worker/src/claim-execution/function-filters.js';
import { declareEngineAttributes } from '../../activities/output-attributes.js';
import { runFunctionWorker } from '../../../packages/worker/src/function-worker.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { generateProducts } from '../../store/seed.js';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker.js';
import { tagProducts } from '../../../examples/tag-products/handler.js';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';
import { startRoleTracing } from '../../observe/tracing.js';
import { tracingClientOptions } from '../../../packages/worker/src/observe/tracing.js';
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
  interrupt: AbortSignal,
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
  for (let start = present + 1; start <= rows && !interrupt.aborted; start += 5000) {
    await store.upsertRows(namespace, generateProducts(Math.min(5000, rows - start + 1), 1, start));
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Ctrl-C (SIGINT) and SIGTERM, owned by `layer start` from its first moment: the first one asks
 * every stage to stop (see docs/adr/0079-ctrl-c-in-layer-start.md), later ones only say that it
 * is stopping. The Temporal runtime's own handler is off (`shutdownSignals: []`): it shut the
 * in-process orchestrator down while the CLI still waited on its Update or queried it.
 */
function interruptOnSignals(log: (line: string) => void): { signal: AbortSignal; release(): void } {
  const interrupt = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (interrupt.signal.aborted) {
      log(`${name}: already stopping (in-flight batches are being cancelled; they run again next time)`);
      return;
    }
    log(`${name}: stopping; what is left stays for the next run`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
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
      const interrupt = interruptOnSignals(log);
      try {
        await runStart(opts, rows, interrupt.signal, log);
      } finally {
        interrupt.release();
      }
    });
}

async function runStart(
  opts: StartOptions,
  rows: number,
  interrupt: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const started = Date.now();
  const [sourced] = parseFunctionDocuments(readFileSync(EXAMPLE_FUNCTION, 'utf8'), EXAMPLE_FUNCTION);
  const spec = toLocalRuntimeSpec(sourced!);
  const namespace = spec.targetNamespaces[0]!;

  // The servers are detached (their own process group: a terminal's Ctrl-C never reaches
  // them) and are let finish starting, so state.json records them and nothing is orphaned; a
  // start that fails because of the interrupt (a `go build` of the Temporal CLI in our group)
  // is a stop, not an error.
  log(`bringing up the local servers (state in ${opts.stateDir})`);
  let state;
  try {
    state = await devUp({ stateDir: opts.stateDir, kube: false, log, startStore: startStoreProcess });
  } catch (err) {
    if (!interrupt.aborted) throw err;
    return printStopped({ seconds: since(started), left: `all ${rows}` });
  }
  const endpoints = endpointsOf(state, opts.stateDir);
  const store = createStoreClient({ baseUrl: endpoints.storeUrl! });
  /** What is left to tag, from the store (the one source that outlives every worker). */
  const leftInStore = async (fallback: number | string) => {
    try {
      const present = (await store.exists(namespace)) ? await store.countRows(namespace) : 0;
      const untagged =
        present > 0 ? await store.countRows(namespace, workFilter(spec.output, spec.filter) as never) : 0;
      return untagged + Math.max(0, rows - present);
    } catch {
      return fallback;
    }
  };
  if (interrupt.aborted)
    return printStopped({ seconds: since(started), left: await leftInStore(`all ${rows}`) });
  await ensureCatalogue(store, namespace, rows, log, interrupt);

  // Counted before any worker starts, so a store problem fails fast with nothing to clean up.
  await declareEngineAttributes(store, namespace, spec.output, spec.filter);
  const total = await store.countRows(namespace);
  const pendingAtStart = await store.countRows(namespace, workFilter(spec.output, spec.filter) as never);
  if (interrupt.aborted)
    return printStopped({ seconds: since(started), left: await leftInStore(pendingAtStart) });

  log('starting the orchestrator and the tag-products pull worker in this process');
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
  // Stop taking work first: the pull worker stops polling and its claims in flight finish the
  // batch in hand and hand the rest back (docs/adr/0103), which run next time; then the
  // orchestrator, whose workflow task records those claims; then the
  // connections. Only then is what is left read — from the store, not from the workflow,
  // whose worker is gone by now.
  const stopAll = async () => {
    stopWorkers.abort();
    await Promise.allSettled([pullRun]);
    if (orchestrator.getState() === 'RUNNING') orchestrator.shutdown();
    await Promise.allSettled([orchestratorRun]);
    await native.close();
    await connection.close();
    await stopTracing();
  };
  /** A Temporal call the interrupt cancels; undefined when it did (or it failed after it). */
  const unlessInterrupted = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await client.withAbortSignal(interrupt, call);
    } catch (err) {
      if (interrupt.aborted) return undefined;
      throw err;
    }
  };
  let pending = pendingAtStart;
  let status: FunctionStatus | undefined;
  try {
    if (!interrupt.aborted) log(`applying Function ${spec.k8sNamespace}/${spec.name}`);
    await unlessInterrupted(async () => {
      if (interrupt.aborted) return;
      await startOrUpdateFunction(client, spec);
      // An equal spec is a no-op for a running workflow, which would find rows this run just
      // seeded only at its next discovery interval (300 s in the example): look now.
      await discoverFunctionNow(client, spec);
    });
    if (!interrupt.aborted) {
      log(
        `Function ${spec.k8sNamespace}/${spec.name} applied; ${pendingAtStart} of ${total} rows to tag. Temporal UI: ${endpoints.temporalUiUrl}`,
      );
      const bar = createProgressWriter(process.stderr, { intervalMs: 2000 });
      while (!interrupt.aborted) {
        pending = await store.countRows(namespace, workFilter(spec.output, spec.filter) as never);
        status = (await unlessInterrupted(() => getFunctionStatus(client, spec))) ?? status;
        if (interrupt.aborted) break;
        const done = total - pending - (status?.counters.deadLettered ?? 0);
        const elapsedMs = Date.now() - started;
        bar.update({
          done,
          total,
          rowsPerSecond: elapsedMs > 0 ? ((pendingAtStart - pending) / elapsedMs) * 1000 : 0,
          elapsedMs,
        });
        if (pending === 0 && status?.inFlightBatches === 0) break;
        await pause(250, interrupt);
      }
      bar.finish();
    }
  } finally {
    await stopAll();
  }
  const seconds = since(started);
  if (interrupt.aborted) {
    printStopped({ seconds, left: await leftInStore(pending) });
    printWhere(endpoints, spec);
    return;
  }
  const deadLettered = status?.counters.deadLettered ?? 0;
  const summary = {
    rows: total,
    processed: total - pending - deadLettered,
    failed: status?.counters.failedBatches ?? 0,
    deadLettered,
    seconds,
  };
  process.stdout.write(
    `Tagged ${summary.processed} of ${total} rows in ${seconds}s (${summary.deadLettered} dead-lettered, ${summary.failed} failed batches).\n`,
  );
  printWhere(endpoints, spec);
  if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
}

function since(started: number): number {
  return Math.round((Date.now() - started) / 100) / 10;
}

/** The one line an interrupted run ends with, whatever stage the Ctrl-C came in. */
function printStopped({ seconds, left }: { seconds: number; left: number | string }): void {
  process.stdout.write(`Stopped after ${seconds}s with ${left} rows still to tag; run again to resume.\n`);
}

function printWhere(
  endpoints: ReturnType<typeof endpointsOf>,
  spec: { k8sNamespace: string; name: string },
): void {
  process.stdout.write(
    `Temporal UI: ${endpoints.temporalUiUrl}/namespaces/${endpoints.temporalNamespace}/workflows — the Function is workflow function/${spec.k8sNamespace}/${spec.name}\n` +
      `Servers keep running in the background; stop them with: node bin/layer.js dev down\n`,
  );
}
