// What a Function's worker image imports. Pull: `runFunctionWorker({ handler })` polls the
// Function's task queue and runs batches through the handler. Push: `createPushServer(handler)`
// serves POST /run and GET /healthz. Either way the handler sees `{ id, inputs }` rows and
// returns one `{ id, value }` per row; the batch contract is contracts/function.ts.
// Over 400 lines on purpose: the one module a Function image imports, pull and push together.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import type { DataConverter } from '@temporalio/common';
import {
  claimProgressFrom,
  packClaimReport,
  type ClaimReport,
  type PackedClaimReport,
} from './contracts/claims.js';
import {
  RUN_FUNCTION_CLAIM_ACTIVITY,
  claimBatches,
  type FunctionClaimSpec,
  runBatchRequestSchema,
  type FunctionClaimInput,
  type BatchRow,
  type FunctionOutputSpec,
  type RowId,
} from './contracts/function.js';
import { WorkerEnv, functionTaskQueue } from './contracts/names.js';
import { ORCHESTRATOR_TASK_QUEUE } from './contracts/function.js';
import {
  RateLimitedError,
  workloadRateLimitGate,
  type RateLimitGate,
} from './claim-execution/rate-limit-gate.js';
import { classified, WorkerCallError } from './claim-execution/failures.js';
import { truncateErrorText } from './contracts/error-text.js';
import { runFunctionClaimWith } from './claim-execution/function-batch.js';
import { ClaimSpecCache, claimSpecLookupVia } from './claim-execution/claim-spec.js';
import { createStoreClient, type StoreClient } from './store/client.js';
import { DEFAULT_WORKER_CONCURRENCY, loadWorkerEnv, type WorkerSettings } from './env.js';
import {
  nativeConnectionOptions,
  withTemporalOverrides,
  workerDataConverter,
} from './temporal-connection.js';
import type { Listening } from './http-listen.js';
import { pushServer } from './push-server.js';
import { tracingWorkerOptions, withSpan } from './observe/tracing.js';
import { drainShutdownTimes, workerDrain } from './worker-drain.js';

/** The span of one handler call (pull: under the claim activity; push: under the /run POST). */
export const HANDLER_SPAN = 'FunctionHandler';

function handlerSpanAttributes(batchId: string, namespace: string, rows: number) {
  return { 'layer.batch_id': batchId, 'layer.namespace': namespace, 'layer.rows': rows };
}

export interface BatchContext {
  batchId: string;
  /** Turbopuffer namespace the rows come from. */
  namespace: string;
  output: FunctionOutputSpec;
  /** Aborted when the batch times out or is cancelled. */
  signal: AbortSignal;
}

/**
 * One output per input row: `{ id, value }`, or `{ id, error }` to refuse a row — that row alone
 * is dead-lettered with the message (no retries), and the others are written.
 */
export type FunctionOutput = { id: RowId; value: unknown } | { id: RowId; error: string };

export type FunctionHandler = (
  rows: BatchRow[],
  context: BatchContext,
) => Promise<FunctionOutput[]> | FunctionOutput[];

/** Extra environment a pull worker reads: where the store (the gateway, in a cluster) is. */
export const StoreEnv = { url: WorkerEnv.storeUrl, apiKey: WorkerEnv.storeApiKey } as const;

export interface RunFunctionWorkerOptions {
  handler: FunctionHandler;
  /** Default: $LAYER_TASK_QUEUE, else derived from $LAYER_WORKLOAD_NAMESPACE/$LAYER_WORKLOAD_NAME. */
  taskQueue?: string;
  /**
   * Claims this process runs at once; each runs its batches one after another, so this is also
   * the number of handler calls in progress. Default: $LAYER_WORKER_CONCURRENCY (the operator sets
   * it to the Function's maxInFlightBatches), else 4.
   */
  concurrency?: number;
  /** Default: $LAYER_TEMPORAL_ADDRESS (localhost:7233) and $LAYER_TEMPORAL_NAMESPACE (default). */
  temporal?: {
    address?: string;
    namespace?: string;
    connection?: NativeConnection;
    /** The orchestrator's data converter (e.g. the S3 payload codec), when it uses one. */
    dataConverter?: DataConverter;
  };
  /** Default: $LAYER_STORE_URL / $LAYER_STORE_API_KEY (falling back to $LAYER_API_URL / $LAYER_API_KEY). */
  store?: StoreClient | { url: string; apiKey?: string };
  /** Stops the worker (otherwise it runs until SIGINT/SIGTERM). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      reject(
        new WorkerCallError(
          `handler did not finish within ${timeoutMs / 1000}s (worker.timeoutSeconds)`,
          true,
        ),
      );
    }, timeoutMs);
  });
  return Promise.race([work(controller.signal), timeout]).finally(() => {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onAbort);
  });
}

async function callHandler(
  handler: FunctionHandler,
  rows: BatchRow[],
  context: Omit<BatchContext, 'signal'>,
  timeoutSeconds: number,
  parent?: AbortSignal,
) {
  return withSpan(HANDLER_SPAN, handlerSpanAttributes(context.batchId, context.namespace, rows.length), () =>
    withTimeout(
      async (signal) => {
        try {
          return await handler(rows, { ...context, signal });
        } catch (err) {
          // The handler's provider said 429: a Quota failure, and a shared rate limit slows down.
          if (err instanceof RateLimitedError)
            throw new WorkerCallError(
              `handler rate-limited: ${truncateErrorText(err.message)}`,
              'Quota',
              err.retryAfterMs,
            );
          throw new WorkerCallError(
            `handler failed: ${truncateErrorText(err instanceof Error ? err.message : String(err))}`,
            true,
          );
        }
      },
      timeoutSeconds * 1000,
      parent,
    ),
  );
}

export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (a direct loop, a test)
  }
}

function handlerCompute(handler: FunctionHandler, timeoutSeconds: number, signal?: AbortSignal) {
  return (request: { batchId: string; namespace: string; output: FunctionOutputSpec; rows: BatchRow[] }) =>
    callHandler(
      handler,
      request.rows,
      { batchId: request.batchId, namespace: request.namespace, output: request.output },
      timeoutSeconds,
      signal,
    );
}

/**
 * The claim activity a pull worker registers: runs the claim's batches one after another (read
 * rows, run the handler, validate, write back), heartbeating progress so a retried claim resumes
 * after its last finished batch. Once `stopTaking` aborts (the worker is stopping) a claim
 * finishes the batch in hand and returns what it finished; the rest goes back to the workflow.
 */
export function createFunctionClaimActivity(
  handler: FunctionHandler,
  store: StoreClient,
  /** A Temporal client for the Function's shared rate limit (spec.worker.rateLimit), if any. */
  rateLimitClient?: Client,
  stopTaking?: AbortSignal,
) {
  const specs = new ClaimSpecCache();
  return async (claim: FunctionClaimInput): Promise<ClaimReport | PackedClaimReport> =>
    classified(async () => {
      const ctx = currentContext();
      // The spec comes by fingerprint from the workflow, through the activity's own client.
      const input = await specs.resolve(
        claim,
        ctx?.info.workflowExecution?.workflowId,
        ctx
          ? (workflowId, fingerprint) => claimSpecLookupVia(ctx.client)(workflowId, fingerprint)
          : undefined,
      );
      const report = await runFunctionClaimWith(
        store,
        input,
        handlerCompute(handler, input.spec.worker.timeoutSeconds, ctx?.cancellationSignal),
        {
          resumeFrom: claimProgressFrom(ctx?.info.heartbeatDetails, input.claimId),
          attempt: ctx?.info.attempt,
          heartbeat: (progress) => ctx?.heartbeat(progress),
          signal: ctx?.cancellationSignal,
          stopTaking,
          rateLimit: functionRateLimitGate(rateLimitClient, input.spec, ORCHESTRATOR_TASK_QUEUE),
        },
      );
      return claim.packedReport
        ? packClaimReport(
            report,
            claimBatches(claim).map((b) => b.batchId),
          )
        : report;
    });
}

/** The gate of a Function's shared rate limit, when it declares one (and a client is at hand). */
export function functionRateLimitGate(
  client: Client | undefined,
  spec: FunctionClaimSpec,
  defaultTaskQueue: string,
): RateLimitGate | undefined {
  return workloadRateLimitGate(
    client,
    { kind: 'Function', k8sNamespace: spec.k8sNamespace, name: spec.name },
    spec.worker.rateLimit,
    defaultTaskQueue,
  );
}

/** $LAYER_WORKER_CONCURRENCY as a positive integer; a bad value is an error naming the variable. */
export function workerConcurrencyFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  return loadWorkerEnv({ [WorkerEnv.concurrency]: env[WorkerEnv.concurrency] }).concurrency;
}

/** The store client: options.store, else LAYER_STORE_URL (in a worker pod: the gateway). */
export function resolveStore(
  store: StoreClient | { url: string; apiKey?: string } | undefined,
  settings: WorkerSettings,
): StoreClient {
  if (store && 'scanPage' in store) return store;
  const url = store?.url ?? settings.store?.url;
  if (!url) throw new Error(`set ${StoreEnv.url} (the store or gateway URL) or pass options.store`);
  const apiKey = store?.apiKey ?? settings.store?.apiKey;
  return createStoreClient({ baseUrl: url, ...(apiKey ? { apiKey } : {}) });
}

function resolveTaskQueue(opts: RunFunctionWorkerOptions, settings: WorkerSettings): string {
  if (opts.taskQueue) return opts.taskQueue;
  const w = settings.workload;
  if (w.taskQueue) return w.taskQueue;
  if (w.k8sNamespace && w.name) return functionTaskQueue(w.k8sNamespace, w.name);
  throw new Error(
    `set ${WorkerEnv.taskQueue} (or ${WorkerEnv.workloadNamespace} and ${WorkerEnv.workloadName}), or pass options.taskQueue`,
  );
}

/** The Temporal options both pull workers take (a Pipeline's may also bring its client). */
export interface PullWorkerTemporal {
  address?: string;
  namespace?: string;
  connection?: NativeConnection;
  client?: Client;
  dataConverter?: DataConverter;
}

/**
 * What a pull worker (Function or Pipeline) runs on: its connection (opts.temporal's, else its
 * own), the client its shared rate limit asks for permits through, and a Worker that polls
 * `taskQueue` for `activities` and drains on SIGTERM. The caller runs, stops and closes them.
 */
export async function createClaimWorker(
  settings: WorkerSettings,
  opts: { temporal?: PullWorkerTemporal; concurrency?: number; tuning?: Partial<WorkerOptions> },
  taskQueue: string,
  activities: (client: Client, stopTaking: AbortSignal) => WorkerOptions['activities'],
) {
  const temporal = withTemporalOverrides(settings.temporal, opts.temporal);
  const connection =
    opts.temporal?.connection ?? (await NativeConnection.connect(nativeConnectionOptions(temporal)));
  const concurrency = opts.concurrency ?? settings.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  // The orchestrator's S3 payload codec, when it uses one (same variables as its config).
  const dataConverter = opts.temporal?.dataConverter ?? workerDataConverter(settings);
  // Asks a shared rate limit's limiter for permits, over the worker's own connection.
  const client =
    opts.temporal?.client ??
    new Client({ connection, namespace: temporal.namespace, ...(dataConverter ? { dataConverter } : {}) });
  // SIGTERM drains: claims finish the batch in hand and hand the rest back (docs/adr/0103).
  const drain = workerDrain();
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    activities: activities(client, drain.signal),
    ...(dataConverter ? { dataConverter } : {}),
    // Tracing on (startTracing): each claim runs in a span under the workflow's.
    ...tracingWorkerOptions({ workflows: false }),
    maxConcurrentActivityTaskExecutions: concurrency,
    // A pull worker only runs activities; its pollers scale with the batches it may hold.
    maxConcurrentActivityTaskPolls: Math.max(2, Math.min(concurrency, 8)),
    // In-flight claims run on for the drain window instead of being cancelled at once.
    ...drainShutdownTimes(settings.timeoutSeconds),
    ...opts.tuning,
  }).catch((err: unknown) => {
    drain.dispose();
    throw err;
  });
  return { temporal, connection, dataConverter, drain, worker };
}

/**
 * Runs a pull worker until `signal` aborts or the process gets SIGINT/SIGTERM.
 *
 * @example
 * await runFunctionWorker({ handler: async (rows) => rows.map((r) => ({ id: r.id, value: tag(r.inputs.title) })) });
 */
export async function runFunctionWorker(opts: RunFunctionWorkerOptions): Promise<void> {
  const settings = loadWorkerEnv(opts.env ?? process.env);
  const store = resolveStore(opts.store, settings);
  const taskQueue = resolveTaskQueue(opts, settings);
  const { connection, drain, worker } = await createClaimWorker(
    settings,
    opts,
    taskQueue,
    (client, stopTaking) => ({
      [RUN_FUNCTION_CLAIM_ACTIVITY]: createFunctionClaimActivity(opts.handler, store, client, stopTaking),
    }),
  );
  // The Temporal runtime's own SIGINT/SIGTERM handler may have started the shutdown already; a
  // second shutdown() throws from inside this event listener and would crash the process.
  const stop = () => {
    drain.start();
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const running = worker.run();
    // An abort while Worker.create was still connecting fired before the listener existed
    // (`layer start` Ctrl-C'd while starting: the run then never ended). run() is RUNNING now.
    if (opts.signal?.aborted) stop();
    await running;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    drain.dispose();
    if (!opts.temporal?.connection) await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Push

/** A push worker's HTTP server, with listen/close. */
export type PushServer = Listening;

/**
 * An HTTP push worker: POST /run with a batch → `{ outputs }`; GET /healthz → 200 (the
 * readiness probe). A malformed request gets 400 naming the field; a handler error 500.
 */
export function createPushServer(
  handler: FunctionHandler,
  options: { timeoutSeconds?: number } = {},
): PushServer {
  return pushServer(
    '/run',
    async (body, req, signal) => {
      let parsed;
      try {
        parsed = runBatchRequestSchema.safeParse(JSON.parse(body));
      } catch {
        return { status: 400, body: { error: 'body is not JSON' } };
      }
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          status: 400,
          body: { error: `invalid batch: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` },
        };
      }
      const batch = parsed.data;
      // Under the orchestrator's span when the POST carries a traceparent.
      const outputs = await withSpan(
        HANDLER_SPAN,
        handlerSpanAttributes(batch.batchId, batch.namespace, batch.rows.length),
        async () => {
          const run = handler(batch.rows, {
            batchId: batch.batchId,
            namespace: batch.namespace,
            output: batch.output,
            signal,
          });
          return options.timeoutSeconds
            ? await withTimeout(async () => run, options.timeoutSeconds * 1000)
            : await run;
        },
        req.headers,
      );
      return { status: 200, body: { outputs } };
    },
    truncateErrorText,
  );
}
