// `layer function status|pause|resume|discover-now|replay NAME`: control and observe one
// Function's workflow through the engine's client API. The workflow is found by its
// deterministic ID (function/<namespace>/<name>); a missing one says how to create it.
import type { Command } from 'commander';
import { ActivityFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  abortFunctionRollout,
  discoverFunctionNow,
  promoteFunctionRollout,
  getFunctionStatus,
  replayFunctionDeadLetters,
  setFunctionPaused,
  type FunctionRef,
} from '../../client/function-client.js';
import { type Config } from '../../config.js';
import { loadCliConfig } from '../config.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { InvalidInputError, LayerError } from '../../../packages/worker/src/util/errors.js';
import { formatStatus, startWatch, watchProgress } from '../function-status.js';
import { watchIntervalMs, watchOptions, watchStatusLoop, type WatchFlags } from '../watch.js';
import { connectTemporalClient, type TemporalClient } from '../temporal-connect.js';
import { cliTimeoutMs, isDeadlineExceeded } from '../errors.js';
import { LOCAL_K8S_NAMESPACE } from './apply.js';

/**
 * How long a query or update may wait for the orchestrator Worker before we say so: 10 s, or
 * $LAYER_CLI_TIMEOUT_SECONDS (a slow link to Temporal Cloud, or a test that wants the answer fast).
 */
/** Read when a command runs, so a bad value is reported by the CLI's error path, not at import. */
const callTimeoutMs = (): number => cliTimeoutMs(process.env);

/** The Function has no workflow in Temporal. */
export class FunctionNotFoundError extends LayerError {
  constructor(
    readonly workflowId: string,
    config: Config,
  ) {
    super(
      `no workflow ${workflowId} in Temporal namespace ${config.temporal.namespace} at ${config.temporal.address}`,
      'start it with `layer apply -f function.yaml` (and pass -n when the Function sets metadata.namespace; the default is local)',
    );
  }
}

/** Parse `--filter` JSON (a Turbopuffer filter) or fail naming the flag. */
export function parseFilterFlag(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(
      '--filter',
      `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      `give a Turbopuffer filter as JSON, e.g. --filter '["category", "Eq", "books"]'`,
    );
  }
}

const fmt = new Intl.NumberFormat('en-US');

interface FunctionFlags {
  namespace: string;
}

async function withFunction<T>(
  name: string,
  flags: FunctionFlags,
  fn: (t: TemporalClient, ref: FunctionRef, config: Config) => Promise<T>,
  /** The fix to print when an activity the request ran failed (its cause is printed). */
  activityHint?: string,
): Promise<T> {
  const config = loadCliConfig();
  const timeoutMs = callTimeoutMs(); // a bad LAYER_CLI_TIMEOUT_SECONDS fails before any connection
  const ref = { k8sNamespace: flags.namespace, name };
  const t = await connectTemporalClient(config);
  const deadline = Date.now() + timeoutMs;
  try {
    return await t.connection.withDeadline(deadline, () => fn(t, ref, config));
  } catch (err) {
    throw explain(err, ref, config, Date.now() >= deadline, activityHint);
  } finally {
    await t.close();
  }
}

/**
 * A failure in the words of what happened. `pastDeadline`: our own deadline had passed when the
 * call failed — gRPC then reports DEADLINE_EXCEEDED or, depending on timing, CANCELLED ("Call
 * cancelled", "Failed to query Workflow"); both mean nobody answered in time.
 */
function explain(
  err: unknown,
  ref: FunctionRef,
  config: Config,
  pastDeadline = false,
  activityHint?: string,
): unknown {
  if (
    err instanceof WorkflowNotFoundError ||
    (err instanceof Error && /workflow not found|not found for ID/i.test(err.message))
  ) {
    return new FunctionNotFoundError(functionWorkflowId(ref.k8sNamespace, ref.name), config);
  }
  // An activity the request ran failed (replay's store write, …): "Activity task failed" says
  // nothing, its cause (e.g. `store 400: unknown attribute …`) says what to change.
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ActivityFailure) {
    return new LayerError(
      `function ${ref.k8sNamespace}/${ref.name}: ${rootCause(err.cause).message}`,
      activityHint ?? `\`layer function status ${ref.name} -n ${ref.k8sNamespace}\` shows its phase`,
      { cause: err },
    );
  }
  // The workflow refused the request (promote with nothing to promote, …): its reason, not the SDK's.
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof Error) {
    return new LayerError(
      `function ${ref.k8sNamespace}/${ref.name}: ${err.cause.message}`,
      `\`layer function status ${ref.name} -n ${ref.k8sNamespace}\` shows its phase`,
      { cause: err },
    );
  }
  if (pastDeadline || isDeadlineExceeded(err)) {
    return new LayerError(
      `workflow ${functionWorkflowId(ref.k8sNamespace, ref.name)} did not answer within ${callTimeoutMs() / 1000}s`,
      `is an orchestrator worker running on task queue ${config.temporal.taskQueue}? start one with \`layer orchestrator\``,
      { cause: err },
    );
  }
  return err;
}

/** The innermost cause of a failure chain (what the store or worker said). */
function rootCause(err: Error): Error {
  let e = err;
  for (let depth = 0; e.cause instanceof Error && depth < 10; depth++) e = e.cause;
  return e;
}

async function watchStatus(
  name: string,
  flags: FunctionFlags & { json?: boolean; intervalMs: number },
): Promise<void> {
  const config = loadCliConfig();
  const ref = { k8sNamespace: flags.namespace, name };
  await watchStatusLoop({
    timeoutMs: callTimeoutMs(), // a bad LAYER_CLI_TIMEOUT_SECONDS fails before any connection
    temporal: await connectTemporalClient(config),
    status: (t) => getFunctionStatus(t.client, ref),
    explain: (err, pastDeadline) => explain(err, ref, config, pastDeadline),
    start: startWatch,
    progress: watchProgress,
    workflowId: functionWorkflowId(ref.k8sNamespace, name),
    json: flags.json,
    intervalMs: flags.intervalMs,
  });
}

export function registerFunctionCommands(program: Command): void {
  const fn = program.command('function').description("observe and control a Function's workflow");
  const nsOption = [
    '-n, --namespace <namespace>',
    'Kubernetes namespace of the Function',
    LOCAL_K8S_NAMESPACE,
  ] as const;

  const status = fn
    .command('status')
    .description('phase, pending rows, in-flight batches and counters; --watch shows a live progress bar')
    .argument('<name>', 'Function name')
    .option(...nsOption);
  watchOptions(status, 'rows').action(async (name: string, flags: FunctionFlags & WatchFlags) => {
    if (flags.watch) return watchStatus(name, { ...flags, intervalMs: watchIntervalMs(flags.interval) });
    const s = await withFunction(name, flags, (t, ref) => getFunctionStatus(t.client, ref));
    process.stdout.write((flags.json ? JSON.stringify(s) : formatStatus(s)) + '\n');
  });

  // The requests that take only the name: each prints what happened after the Function's name.
  const request = (
    command: string,
    description: string,
    run: (t: TemporalClient, ref: FunctionRef) => Promise<string>,
  ) =>
    fn
      .command(command)
      .description(description)
      .argument('<name>', 'Function name')
      .option(...nsOption)
      .action(async (name: string, flags: FunctionFlags) => {
        const happened = await withFunction(name, flags, run);
        process.stdout.write(`function ${flags.namespace}/${name}${happened}\n`);
      });
  request('pause', 'stop dispatching batches (in-flight batches finish)', (t, ref) =>
    setFunctionPaused(t.client, ref, true).then(() => ' paused'),
  );
  request('resume', 'dispatch again (and run a discovery pass now)', (t, ref) =>
    setFunctionPaused(t.client, ref, false).then(() => ' resumed'),
  );
  request(
    'promote',
    'continue a canary rollout: backfill every row at the new output version',
    async (t, ref) => `: promoted, running output version ${await promoteFunctionRollout(t.client, ref)}`,
  );
  request(
    'abort',
    'abort a canary rollout: back to the version the rows carry, canary attribute removed',
    async (t, ref) =>
      `: rollout aborted, running output version ${await abortFunctionRollout(t.client, ref)}`,
  );
  request('discover-now', 'start a discovery pass now instead of at the next interval', (t, ref) =>
    discoverFunctionNow(t.client, ref).then(() => ': discovery requested'),
  );

  fn.command('replay')
    .description('clear dead-lettered rows (optionally only those matching --filter) so they run again')
    .argument('<name>', 'Function name')
    .option(...nsOption)
    .option('--filter <json>', 'Turbopuffer filter (JSON) limiting which dead-lettered rows are replayed')
    .action(async (name: string, flags: FunctionFlags & { filter?: string }) => {
      const filter = parseFilterFlag(flags.filter);
      const cleared = await withFunction(
        name,
        flags,
        (t, ref) => replayFunctionDeadLetters(t.client, ref, filter),
        filter === undefined
          ? undefined
          : 'check --filter: it may only name attributes the target namespaces have, e.g. \'["category","Eq","shoes"]\'',
      );
      process.stdout.write(
        `function ${flags.namespace}/${name}: ${fmt.format(cleared)} dead-lettered rows cleared for replay\n`,
      );
    });

  fn.command('plan')
    .description(
      'count the rows a Function would process now (per target namespace) and estimate duration and worker-hours; writes nothing',
    )
    .requiredOption('-f, --filename <file>', 'the Function manifest (YAML)')
    .option('--rows-per-second <n>', 'rows/s of one worker call, when no push worker is reachable to sample')
    .option(
      '--push-url <url>',
      "a push worker's base URL to time a sample batch on (default: the manifest's)",
    )
    .option('--sample <rows>', 'rows in the sample batch (at most the batch size)', '32')
    .option(
      '--cost-per-hour <n>',
      "one worker replica's hourly cost, for an estimated cost (the pool's costPerHour in a cluster)",
    )
    .option('--json', 'print one JSON object')
    .action(
      async (flags: {
        filename: string;
        rowsPerSecond?: string;
        pushUrl?: string;
        sample: string;
        costPerHour?: string;
        json?: boolean;
      }) => {
        const { readFile } = await import('node:fs/promises');
        const { parseFunctionDocuments, toLocalRuntimeSpec, PUSH_URL_ANNOTATION } =
          await import('./apply.js');
        const { createStoreClient } = await import('../../../packages/worker/src/store/client.js');
        const plan = await import('./function-plan.js');
        const given = flags.rowsPerSecond === undefined ? undefined : Number(flags.rowsPerSecond);
        if (given !== undefined && !(Number.isFinite(given) && given > 0))
          throw new InvalidInputError(
            '--rows-per-second',
            `expected a positive number, got '${flags.rowsPerSecond}'`,
            'e.g. --rows-per-second 50 (rows one worker call handles per second)',
          );
        const costPerHour = flags.costPerHour === undefined ? undefined : Number(flags.costPerHour);
        if (costPerHour !== undefined && !(Number.isFinite(costPerHour) && costPerHour >= 0))
          throw new InvalidInputError(
            '--cost-per-hour',
            `expected a number ≥ 0, got '${flags.costPerHour}'`,
            'e.g. --cost-per-hour 0.34 (what one worker replica costs per hour)',
          );
        const sampleRows = Number(flags.sample);
        if (!Number.isInteger(sampleRows) || sampleRows < 1)
          throw new InvalidInputError(
            '--sample',
            `expected a whole number ≥ 1, got '${flags.sample}'`,
            'e.g. --sample 32',
          );
        let text: string;
        try {
          text = await readFile(flags.filename, 'utf8');
        } catch (err) {
          throw new LayerError(
            `cannot read ${flags.filename}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
            'pass the path of a Function manifest with -f',
          );
        }
        const config = loadCliConfig();
        const store = createStoreClient({
          baseUrl: config.store.url,
          ...(config.store.apiKey ? { apiKey: config.store.apiKey } : {}),
        });
        const docs = parseFunctionDocuments(text, flags.filename, 'plan');
        if (docs.length === 0)
          throw new LayerError(
            `${flags.filename} holds no Function`,
            'pass a Function manifest (kind: Function) with -f',
          );
        const out: unknown[] = [];
        for (const doc of docs) {
          const pushUrl = flags.pushUrl ?? doc.fn.metadata.annotations?.[PUSH_URL_ANNOTATION];
          // Counting does not depend on dispatch: a push Function without a URL is planned as pull.
          const countable =
            doc.fn.spec.worker.dispatch === 'push' && !pushUrl
              ? {
                  ...doc,
                  fn: {
                    ...doc.fn,
                    spec: { ...doc.fn.spec, worker: { ...doc.fn.spec.worker, dispatch: 'pull' as const } },
                  },
                }
              : doc;
          const spec = toLocalRuntimeSpec(countable, pushUrl ? { pushUrl } : {});
          let counts: Record<string, number>;
          try {
            counts = await plan.countPlannedRows(store, spec, { missingNamespace: 'throw' });
          } catch (err) {
            throw plan.planStoreError(err, config.store.url, spec.targetNamespaces);
          }
          const sampled =
            spec.worker.dispatch === 'push' && spec.worker.pushUrl && given === undefined
              ? await plan.samplePushWorker(store, spec, spec.worker.pushUrl, sampleRows)
              : null;
          const rate = sampled
            ? { ...sampled, source: 'sample' as const }
            : given !== undefined
              ? { rowsPerSecondPerCall: given, source: 'given' as const }
              : null;
          const missing =
            doc.fn.spec.worker.dispatch === 'pull'
              ? 'a pull worker cannot be sampled from here: pass --rows-per-second (rows one worker call handles per second)'
              : 'no push worker URL (or no rows to sample): pass --push-url or --rows-per-second';
          const p = plan.estimateFromCounts(
            spec,
            doc.fn.spec.scaling?.replicas?.max ?? 1,
            counts,
            rate,
            missing,
            costPerHour,
          );
          out.push(p);
          if (!flags.json) process.stdout.write(`${plan.formatPlan(p)}\n`);
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out)}\n`);
      },
    );
}
