// The orchestrator's Temporal Worker: every Layer workflow and the orchestrator-side
// activities, on one task queue. This is the one place that wires real clients into the
// activity factories.
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import { DEFAULT_RECONCILE_CONCURRENCY } from '../contracts/reconcile.js';
import { S3Client } from '@aws-sdk/client-s3';
import type { DataConverter } from '@temporalio/common';
import { Client } from '@temporalio/client';
import { createFunctionActivities } from '../activities/function-activities.js';
import { createPipelineActivities } from '../activities/pipeline-activities.js';
import type { S3SourceRef } from '../contracts/pipeline.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { bundleCacheKey, cachedBundle } from './workflow-bundle-cache.js';
import { dropWorkflowThreadWatchdog } from './workflow-thread-watchdog.js';
import { tracingWorkerOptions } from '../../packages/worker/src/observe/tracing.js';
import {
  instrumentActivities,
  instrumentStore,
  processLayerMetrics,
  type LayerMetrics,
} from '../observe/index.js';

/**
 * How long shutdown waits for in-flight activities that ignore cancellation (a call stuck on a
 * dead connection) before it gives up on them. Their claims are noticed by the heartbeat timeout
 * and resume elsewhere, so giving up loses nothing; waiting forever would wedge a rollout or a
 * test teardown.
 */
const WORKER_SHUTDOWN_FORCE_TIME = '20s';

/**
 * The workflow bundle's entry, next to this module: `index.ts` when running the sources (tsx),
 * `index.js` in a build (dist/), whose compiled workflows the bundler then reads.
 */
export const WORKFLOWS_ENTRY = fileURLToPath(
  new URL(`../workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The store for a Turbopuffer namespace (a single store, or routed per Index). */
  storeFor: (namespace: string) => StoreClient;
  taskQueue?: string;
  /** Pre-built bundle (tests and benchmarks reuse one across workers). */
  workflowBundle?: { code: string };
  /** The S3 client for a Pipeline's built-in S3 source. */
  s3For?: (source: S3SourceRef) => S3Client;
  /** Payload codec (large payloads to S3); Clients must use the same one. */
  dataConverter?: DataConverter;
  /** More activities registered on the same queue (the operator's: createOperatorWorkerParts). */
  extraActivities?: object;
  /** Where activity and store figures are recorded (default: this process's registry, /metrics). */
  metrics?: LayerMetrics;
  /** Ceiling of one push worker's answer in bytes (config push.maxAnswerBytes; see push-call.ts). */
  pushMaxAnswerBytes?: number | undefined;
  tuning?: Pick<
    WorkerOptions,
    'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
  >;
  /** Keep the SDK's per-call watchdog in the workflow threads (config LAYER_WORKFLOW_WATCHDOG; ADR 0125). */
  workflowWatchdog?: boolean;
}

/**
 * The workflow interceptors every bundle carries: OpenTelemetry for runs started traced, a
 * pass-through for the others (src/workflows/tracing-interceptors.ts).
 */
const WORKFLOW_INTERCEPTORS = fileURLToPath(
  new URL(`../workflows/tracing-interceptors${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** The reconcile Worker's bundle entry: the reconcile workflow only. */
export const RECONCILE_WORKFLOWS_ENTRY = fileURLToPath(
  new URL(`../workflows/reconcile-index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * The task queue reconcile workflows run on, beside the orchestrator's: its Worker's bundle holds
 * only the reconcile workflow, so each run starts in a few milliseconds and a few hundred KB
 * instead of evaluating every workflow module (docs/adr/0115). The orchestrator's own queue keeps
 * the reconcile workflow and activities too, for runs started there before this queue existed.
 */
export function reconcileTaskQueue(orchestratorTaskQueue: string): string {
  return `${orchestratorTaskQueue}-reconcile`;
}

/**
 * The bundle `npm run build` writes beside the compiled sources (dist/workflow-bundle.js). A
 * build reads it instead of bundling at start-up: webpack in the orchestrator process cost
 * ~250 MB of RSS that V8 never hands back — the operator pod's largest allocation, against the
 * chart's 512Mi limit (issue 22; docs/adr/0107).
 */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));
/** The reconcile Worker's, beside it. */
export const PREBUILT_RECONCILE_BUNDLE = fileURLToPath(
  new URL('../../reconcile-workflow-bundle.js', import.meta.url),
);

/** A module beside this one, as the tree that runs has it (`.ts` from the sources, `.js` in dist/). */
function sibling(relativePath: string): string {
  return fileURLToPath(new URL(`${relativePath}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
}

/**
 * Evaluated once per workflow thread rather than once per workflow (the SDK's `preloadModules`):
 * the cache every contract schema is built through, and the zod it imports (docs/adr/0114).
 */
export const SHARED_SCHEMA_MODULE = sibling('../../packages/worker/src/contracts/shared-schema');

/**
 * Modules every workflow of a thread may share because they keep no state of their own: pure
 * functions, classes and frozen constants (docs/adr/0134). The SDK evaluates them, and what they
 * import, once per thread and deep-freezes what they export; each workflow otherwise gets its own
 * instance (its exports object, getters and closures), which was a fifth of a cached Function
 * workflow's heap. A module qualifies only if it holds no module-level `let`, Map, Set or array
 * that code changes, and imports no module that exports a zod schema (zod memoizes on its schema
 * objects while parsing, which throws once they are frozen):
 * test/replay/cached-workflows.test.ts checks both.
 */
export const THREAD_SHARED_MODULES = [
  '../envelope/batch-envelope',
  '../envelope/batch-retry-policy',
  '../envelope/claim-shell',
  '../envelope/rate-budget',
  '../envelope/workload-status',
  '../contracts/queue-depth',
  '../contracts/search-attributes',
  '../../packages/worker/src/contracts/claims',
  '../../packages/worker/src/contracts/error-text',
  '../../packages/worker/src/contracts/failures',
  '../../packages/worker/src/contracts/names',
  '../../packages/worker/src/contracts/store-limits',
].map(sibling);

/**
 * The reconcile bundle's whole workflow side is stateless, so a run evaluates none of it: a
 * burst of passes starts one reconcile run each (docs/adr/0134).
 */
export const RECONCILE_SHARED_MODULES = ['../workflows/reconcile-workflow', '../contracts/reconcile'].map(
  sibling,
);

/** What the bundler preloads for an entry. */
function preloadModules(entry: string): string[] {
  return entry === RECONCILE_WORKFLOWS_ENTRY
    ? RECONCILE_SHARED_MODULES
    : [SHARED_SCHEMA_MODULE, ...THREAD_SHARED_MODULES];
}

/** Runs webpack over the workflows (a few seconds, and ~250 MB of RSS kept by the process). */
export async function buildOrchestratorWorkflowBundle(entry = WORKFLOWS_ENTRY): Promise<{ code: string }> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: entry,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS],
    preloadModules: preloadModules(entry),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
  });
  return { code: withoutSourcesContent(bundle.code) };
}

const INLINE_SOURCE_MAP = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/**
 * The bundle with its inline source map kept (the SDK requires one, and maps workflow stack
 * traces through it) but without the sources' text: a third of the bundle, held again by every
 * workflow thread that parses it, and read only by a Worker with `showStackTraceSources`, which
 * Layer's never set (docs/adr/0134).
 */
export function withoutSourcesContent(code: string): string {
  const at = code.lastIndexOf(INLINE_SOURCE_MAP);
  if (at < 0) return code;
  const map = JSON.parse(
    Buffer.from(code.slice(at + INLINE_SOURCE_MAP.length).trimEnd(), 'base64').toString(),
  ) as {
    sourcesContent?: unknown;
  };
  delete map.sourcesContent;
  return `${code.slice(0, at)}${INLINE_SOURCE_MAP}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

/**
 * The workflow bundle for a worker; pass the result to several workers. A build (dist/) reads
 * the one `npm run build` wrote; the sources (tests, `npm start`) use a disk cache keyed by
 * their content (workflow-bundle-cache.ts); either falls back to bundling now.
 */
export async function bundleOrchestratorWorkflows(entry = WORKFLOWS_ENTRY): Promise<{ code: string }> {
  const fromSources = entry.endsWith('.ts');
  const build = () => buildOrchestratorWorkflowBundle(entry);
  if (!fromSources) {
    const prebuilt = entry === WORKFLOWS_ENTRY ? PREBUILT_WORKFLOW_BUNDLE : PREBUILT_RECONCILE_BUNDLE;
    if (process.env.LAYER_WORKFLOW_BUNDLE_CACHE !== '0' && existsSync(prebuilt))
      return { code: readFileSync(prebuilt, 'utf8') };
    return build();
  }
  if (process.env.LAYER_WORKFLOW_BUNDLE_CACHE === '0') return build();
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const key = bundleCacheKey(root, [join(root, 'src'), join(root, 'packages/worker/src')], {
    entry,
    interceptors: [WORKFLOW_INTERCEPTORS],
    preload: preloadModules(entry),
  });
  return cachedBundle(join(root, '.layer', 'workflow-bundles'), key, build);
}

/** The reconcile Worker's bundle (the reconcile workflow alone), built or cached as above. */
export function bundleReconcileWorkflows(): Promise<{ code: string }> {
  return bundleOrchestratorWorkflows(RECONCILE_WORKFLOWS_ENTRY);
}

/**
 * The Worker that runs reconcile workflows and their one activity, reconcilePass, on
 * reconcileTaskQueue(taskQueue).
 */
export async function createReconcileWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /**
   * Passes run at once (activity slots; default DEFAULT_RECONCILE_CONCURRENCY). A resync signals
   * every resource together: this bounds the share of the process's CPU those passes take from
   * the workload workflows it also runs, and the memory of passes in flight (docs/adr/0135).
   */
  concurrency?: number;
  workflowBundle?: { code: string };
  dataConverter?: DataConverter;
  /** As OrchestratorWorkerOptions.workflowWatchdog. */
  workflowWatchdog?: boolean;
}): Promise<Worker> {
  if (!opts.workflowWatchdog) dropWorkflowThreadWatchdog();
  const tracing = tracingWorkerOptions({ workflows: true });
  const concurrency = opts.concurrency ?? DEFAULT_RECONCILE_CONCURRENCY;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: reconcileTaskQueue(opts.taskQueue),
    workflowBundle: opts.workflowBundle ?? (await bundleReconcileWorkflows()),
    interceptors: tracing.interceptors,
    sinks: tracing.sinks,
    activities: instrumentActivities({ ...opts.activities }, processLayerMetrics()),
    maxConcurrentActivityTaskExecutions: concurrency,
    // A run holds a task only while it schedules its pass or ends: as many as there are passes.
    maxConcurrentWorkflowTaskExecutions: Math.max(2, concurrency),
    shutdownForceTime: WORKER_SHUTDOWN_FORCE_TIME,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  if (!opts.workflowWatchdog) dropWorkflowThreadWatchdog();
  // Without an explicit client, S3 sources use the AWS SDK's default chain (AWS_REGION,
  // AWS_ENDPOINT_URL_S3, credentials from env, profile or IRSA), created on first use.
  let defaultS3: S3Client | undefined;
  const s3For = opts.s3For ?? (() => (defaultS3 ??= new S3Client({ forcePathStyle: true })));
  // Push claims ask shared rate limits' limiter workflows for permits over this connection.
  const rateLimitClient = new Client({
    connection: opts.connection,
    namespace: opts.namespace,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  // Tracing on: activity spans; always: the sink workflow spans leave the sandbox through.
  const tracing = tracingWorkerOptions({ workflows: true });
  const metrics = opts.metrics ?? processLayerMetrics();
  const storeFor = (namespace: string) => instrumentStore(opts.storeFor(namespace), metrics);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    // Through bundleOrchestratorWorkflows (with the tracing wrapper in the bundle), so runs from
    // the sources share one cached bundle.
    workflowBundle: opts.workflowBundle ?? (await bundleOrchestratorWorkflows()),
    interceptors: tracing.interceptors,
    sinks: tracing.sinks,
    activities: instrumentActivities(
      {
        ...createFunctionActivities({
          storeFor,
          rateLimitClient,
          pushMaxAnswerBytes: opts.pushMaxAnswerBytes,
        }),
        ...createPipelineActivities({
          storeFor,
          s3For,
          rateLimitClient,
          pushMaxAnswerBytes: opts.pushMaxAnswerBytes,
        }),
        ...opts.extraActivities,
      },
      metrics,
    ),
    shutdownForceTime: WORKER_SHUTDOWN_FORCE_TIME,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...opts.tuning,
  });
}
