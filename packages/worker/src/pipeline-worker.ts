// What a Pipeline's worker image imports. `runPipelineWorker({ process, pull?, ack? })` polls
// the Pipeline's task queue and runs batches: `process(items)` returns documents with chunks,
// which the SDK writes to the target namespace (ADR 0030) before reporting the batch done.
// With `pull`, the worker also owns a source (SQS, Kafka, a partner API): pulled items are
// submitted to the Pipeline's workflow (durable from then on, idempotent by key and version)
// and `ack` is called only once the workflow reports them done — after their documents were
// written. A worker killed at any point therefore loses nothing: un-acked items come back
// from the source and are deduplicated.
// Over 400 lines on purpose: the one module a Pipeline image imports, its public entry point.
import { Client, Connection } from '@temporalio/client';
import type { Context } from '@temporalio/activity';
import type { WorkerOptions } from '@temporalio/worker';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { claimProgressFrom, type ClaimReport } from './contracts/claims.js';
import {
  RUN_PIPELINE_CLAIM_ACTIVITY,
  type PipelineClaimInput,
  itemIdentity,
  itemVersion,
  type PipelineBatchInput,
  type PipelineDocument,
  type PipelineItem,
  type QueuedItem,
} from './contracts/pipeline.js';
import { WorkerEnv, pipelineTaskQueue } from './contracts/names.js';
import { classified, WorkerCallError } from './claim-execution/failures.js';
import { RateLimitedError, workloadRateLimitGate } from './claim-execution/rate-limit-gate.js';
import { ORCHESTRATOR_TASK_QUEUE } from './contracts/function.js';
import { runPipelineClaimWith } from './claim-execution/pipeline-write.js';
import { getPipelineItemStates, submitPipelineItems, type PipelineRef } from './pipeline-submit.js';
import type { StoreClient } from './store/client.js';
import {
  createClaimWorker,
  currentContext,
  resolveStore,
  type PullWorkerTemporal,
} from './function-worker.js';
import { loadWorkerEnv } from './env.js';
import { nativeConnectionOptions } from './temporal-connection.js';
import type { Listening } from './http-listen.js';
import { pushServer } from './push-server.js';
import { lazyModule } from './lazy-module.js';
import type { PipelineSource, SourceHooks } from './sources/source.js';
import { sourceFromRef, type SourceFactory } from './sources/from-source-ref.js';
import { pipelineSink, runSource } from './sources/run-source.js';

export interface ProcessContext {
  batchId: string;
  targetNamespace: string;
  /** spec.sourceRef, exactly as written. */
  sourceRef?: Record<string, unknown>;
  /** Aborted when the batch times out or is cancelled. */
  signal: AbortSignal;
  /** The body of an item from the built-in S3 source (needs options.s3). */
  readObject(item: QueuedItem): Promise<Buffer>;
}

export type ProcessFn = (
  items: QueuedItem[],
  context: ProcessContext,
) => Promise<PipelineDocument[]> | PipelineDocument[];

export interface PullContext {
  /** Items wanted at most (the Pipeline's batch size). */
  max: number;
  signal: AbortSignal;
}

export interface RunPipelineWorkerOptions<T extends PipelineItem = PipelineItem> {
  process: ProcessFn;
  /** The worker's own source: items not yet acked. Return [] when idle. */
  pull?: (ctx: PullContext) => Promise<T[]>;
  /** Called with pulled items once their documents are durably written. */
  ack?: (items: T[]) => Promise<void> | void;
  /** Called with pulled items the Pipeline gave up on (failed after retries). */
  nack?: (items: T[]) => Promise<void> | void;
  /**
   * The worker's source (docs/adr/0121): acknowledged once the Pipeline durably accepted its items.
   * Default: the one $LAYER_SOURCE_REF names by kind (sqs, kafka, s3-events, or a kind in
   * `sources`); none for s3 and submit. `false`: no source even when the sourceRef names one.
   */
  source?: PipelineSource | false;
  /** More source kinds, by sourceRef.kind (e.g. a partner API). */
  sources?: Record<string, SourceFactory>;
  /** Called at each step of the source loop (metrics, tests). */
  sourceHooks?: SourceHooks;
  /** The Pipeline (for submitting pulled items). Default: $LAYER_WORKLOAD_NAMESPACE/$LAYER_WORKLOAD_NAME. */
  pipeline?: PipelineRef;
  taskQueue?: string;
  batchSize?: number;
  /** Claims run at once by this process (default $LAYER_WORKER_CONCURRENCY, else 4). */
  concurrency?: number;
  /** dataConverter: e.g. the S3 payload codec (src/codec/s3-payload-codec.ts). */
  temporal?: PullWorkerTemporal;
  store?: StoreClient | { url: string; apiKey?: string };
  /** For `readObject` of S3-source items. */
  s3?: S3Client;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** How often pulled items' progress is checked (default 250 ms). */
  ackPollMs?: number;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskPolls'>;
}

/** Loaded by the first readObject: a Pipeline that reads no S3 objects never loads the S3 SDK. */
const s3Sdk = lazyModule<typeof S3Sdk>('@aws-sdk/client-s3');

async function readS3(s3: S3Client | undefined, item: QueuedItem): Promise<Buffer> {
  if (!item.s3) throw new Error(`item ${item.key} is not from the S3 source`);
  if (!s3) throw new Error('readObject needs options.s3 (an S3Client)');
  const { GetObjectCommand } = s3Sdk();
  const res = await s3.send(new GetObjectCommand({ Bucket: item.s3.bucket, Key: item.s3.key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Runs `process` for one batch with the Pipeline's timeout, cancelled with the activity. */
function callProcess(
  process: ProcessFn,
  input: Omit<PipelineBatchInput, 'items'>,
  items: QueuedItem[],
  ctx: Context | undefined,
  s3: S3Client | undefined,
): Promise<PipelineDocument[]> {
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  ctx?.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(
      process(items, {
        batchId: input.batchId,
        targetNamespace: input.targetNamespace,
        sourceRef: input.sourceRef,
        signal: controller.signal,
        readObject: (item) => readS3(s3, item),
      }),
    ).catch((err: unknown) => {
      // The provider's 429: a Quota failure, and a shared rate limit slows down.
      if (err instanceof RateLimitedError)
        throw new WorkerCallError(`process rate-limited: ${err.message}`, 'Quota', err.retryAfterMs);
      throw new WorkerCallError(`process failed: ${err instanceof Error ? err.message : String(err)}`, true);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new WorkerCallError(`process did not finish within ${input.timeoutSeconds}s`, true));
      }, input.timeoutSeconds * 1000);
    }),
  ]).finally(() => {
    clearTimeout(timer);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
  });
}

/**
 * The claim activity a pull worker registers: each batch processed and its documents written
 * (in turn, the next batch read while one processes), progress heartbeated so a retried claim
 * resumes after its last finished batch.
 */
export function createPipelineClaimActivity(
  process: ProcessFn,
  store: StoreClient,
  s3?: S3Client,
  /** A Temporal client for the Pipeline's shared rate limit (spec.worker.rateLimit), if any. */
  rateLimitClient?: Client,
  /** Aborted when the worker stops: a claim finishes the batch in hand and hands the rest back. */
  stopTaking?: AbortSignal,
) {
  return async (input: PipelineClaimInput): Promise<ClaimReport> =>
    classified(() => {
      const ctx = currentContext();
      const { batches: _batches, claimId: _claimId, rateLimit, ...common } = input;
      return runPipelineClaimWith(
        store,
        input,
        (items, batchId) => callProcess(process, { ...common, batchId }, items, ctx, s3),
        {
          resumeFrom: claimProgressFrom(ctx?.info.heartbeatDetails, input.claimId),
          attempt: ctx?.info.attempt,
          heartbeat: (progress) => ctx?.heartbeat(progress),
          signal: ctx?.cancellationSignal,
          stopTaking,
          rateLimit: workloadRateLimitGate(
            rateLimitClient,
            { kind: 'Pipeline', ...input.pipeline },
            rateLimit,
            ORCHESTRATOR_TASK_QUEUE,
          ),
        },
      );
    });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * The source loop of a worker that owns its source: pull → submit → wait for done → ack.
 * At most `window` pulled items are outstanding at once.
 */
async function runSourceLoop<T extends PipelineItem>(
  opts: RunPipelineWorkerOptions<T>,
  client: Client,
  ref: PipelineRef,
  batchSize: number,
  signal: AbortSignal,
): Promise<void> {
  const outstanding = new Map<string, T[]>();
  const window = batchSize * Math.max(2, opts.concurrency ?? 4);
  const wire = (i: T): PipelineItem => ({
    key: i.key,
    version: itemVersion(i),
    ...(i.payload !== undefined ? { payload: i.payload } : {}),
    ...(i.deleted ? { deleted: true } : {}),
  });
  while (!signal.aborted) {
    if (outstanding.size < window) {
      const pulled = await opts.pull!({ max: Math.min(batchSize, window - outstanding.size), signal });
      if (pulled.length > 0) {
        // Durable from here: the workflow holds the items (a redelivery is a duplicate).
        await submitPipelineItems(client, ref, pulled.map(wire));
        for (const item of pulled) {
          const id = itemIdentity({ key: item.key, version: itemVersion(item) });
          outstanding.set(id, [...(outstanding.get(id) ?? []), item]);
        }
        continue;
      }
    }
    if (outstanding.size > 0) {
      const states = await getPipelineItemStates(client, ref, [...outstanding.keys()]);
      const done: T[] = [];
      const failed: T[] = [];
      const lost: T[] = [];
      for (const [id, st] of Object.entries(states)) {
        const items = outstanding.get(id) ?? [];
        if (st === 'done') done.push(...items);
        else if (st === 'failed') failed.push(...items);
        else if (st === 'unknown') lost.push(...items);
        if (st === 'done' || st === 'failed') outstanding.delete(id);
      }
      if (done.length) await opts.ack?.(done);
      if (failed.length) await opts.nack?.(failed);
      // Forgotten (e.g. remembered no longer): submit again; written items are skipped by version.
      if (lost.length) await submitPipelineItems(client, ref, lost.map(wire));
    }
    await sleep(opts.ackPollMs ?? 250, signal);
  }
}

/**
 * Runs a Pipeline pull worker until `signal` aborts or the process gets SIGINT/SIGTERM.
 *
 * @example
 * await runPipelineWorker({
 *   process: async (items) => items.map((i) => ({ chunks: split(String(i.payload)).map((text) => ({ text })) })),
 * });
 */
export async function runPipelineWorker<T extends PipelineItem = PipelineItem>(
  opts: RunPipelineWorkerOptions<T>,
): Promise<void> {
  const settings = loadWorkerEnv(opts.env ?? process.env);
  const store = resolveStore(opts.store, settings);
  const w = settings.workload;
  const ref: PipelineRef | undefined =
    opts.pipeline ?? (w.k8sNamespace && w.name ? { k8sNamespace: w.k8sNamespace, name: w.name } : undefined);
  const taskQueue =
    opts.taskQueue ?? w.taskQueue ?? (ref ? pipelineTaskQueue(ref.k8sNamespace, ref.name) : undefined);
  if (!taskQueue) {
    throw new Error(
      `set ${WorkerEnv.taskQueue} (or ${WorkerEnv.workloadNamespace} and ${WorkerEnv.workloadName}), or pass options.pipeline`,
    );
  }
  const { temporal, connection, dataConverter, drain, worker } = await createClaimWorker(
    settings,
    opts,
    taskQueue,
    (limiterClient, stopTaking) => ({
      [RUN_PIPELINE_CLAIM_ACTIVITY]: createPipelineClaimActivity(
        opts.process,
        store,
        opts.s3,
        limiterClient,
        stopTaking,
      ),
    }),
  );
  const namespace = temporal.namespace;
  const controller = new AbortController();
  const stop = () => {
    drain.start();
    controller.abort();
    // The runtime's signal handler may be shutting it down already (see function-worker.ts).
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  let ownConnection: Connection | undefined;
  // A built-in or named source is built only when there is no pull function of the caller's own.
  const source =
    opts.pull || opts.source === false
      ? undefined
      : (opts.source ?? sourceFromRef(settings.sourceRef, opts.sources));
  try {
    let sourceLoop: Promise<void> = Promise.resolve();
    if (opts.pull || source) {
      if (!ref)
        throw new Error(
          'a worker with a source or pull needs options.pipeline (or the workload env) to submit to',
        );
      let client = opts.temporal?.client;
      if (!client) {
        ownConnection = await Connection.connect(nativeConnectionOptions(temporal));
        client = new Client({
          connection: ownConnection,
          namespace,
          ...(dataConverter ? { dataConverter } : {}),
        });
      }
      const batchSize = opts.batchSize ?? settings.batchSize ?? 64;
      const loop = source
        ? runSource(source, {
            ...pipelineSink(client, ref),
            batchSize,
            signal: controller.signal,
            ...(opts.sourceHooks ? { hooks: opts.sourceHooks } : {}),
          })
        : runSourceLoop(opts, client, ref, batchSize, controller.signal);
      sourceLoop = loop.catch((err: unknown) => {
        // A broken source stops the worker: the Deployment restarts it, un-acked items come back.
        stop();
        throw err;
      });
    }
    // SIGTERM reaches the Temporal worker through the runtime, not through stop(): the source
    // loop stops receiving with it, or the process would poll its source with no one to process.
    const running = worker.run().finally(() => controller.abort());
    // An abort before the listener existed (see function-worker.ts) stops it now.
    if (opts.signal?.aborted) stop();
    await Promise.all([running, sourceLoop]);
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    drain.dispose();
    await source?.close();
    await ownConnection?.close();
    if (!opts.temporal?.connection) await connection.close();
  }
}

/**
 * A push worker for Pipelines: POST /process with a batch → `{ documents }`; GET /healthz → 200.
 * The orchestrator writes the documents.
 */
export function createPipelinePushServer(process: ProcessFn, options: { s3?: S3Client } = {}): Listening {
  return pushServer('/process', async (body, _req, signal) => {
    let batch: PipelineBatchInput;
    try {
      batch = JSON.parse(body) as PipelineBatchInput;
      if (!Array.isArray(batch.items)) throw new Error('items must be an array');
    } catch (err) {
      return { status: 400, body: { error: `invalid batch: ${(err as Error).message}` } };
    }
    const documents = await process(batch.items, {
      batchId: batch.batchId,
      targetNamespace: batch.targetNamespace,
      sourceRef: batch.sourceRef,
      signal,
      readObject: (item) => readS3(options.s3, item),
    });
    return { status: 200, body: { documents } };
  });
}
