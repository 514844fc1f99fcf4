// The orchestrator's Temporal Worker: every Layer workflow and the orchestrator-side
// activities, on one task queue. This is the one place that wires real clients into the
// activity factories.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { WORKER_SHUTDOWN_FORCE_TIME } from '../contracts/claims.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../contracts/function.js';
import { S3Client } from '@aws-sdk/client-s3';
import type { DataConverter } from '@temporalio/common';
import { createFunctionActivities } from '../activities/function-activities.js';
import { createPipelineActivities } from '../activities/pipeline-activities.js';
import type { S3SourceRef } from '../contracts/pipeline.js';
import type { StoreClient } from '../store/client.js';
import {
  instrumentActivities,
  instrumentStore,
  processLayerMetrics,
  type LayerMetrics,
} from '../observe/index.js';

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
  tuning?: Pick<
    WorkerOptions,
    'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
  >;
}

/** Bundles the workflows once (webpack, a few seconds); pass the result to several workers. */
export async function bundleOrchestratorWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_ENTRY,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
  });
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  // Without an explicit client, S3 sources use the AWS SDK's default chain (AWS_REGION,
  // AWS_ENDPOINT_URL_S3, credentials from env, profile or IRSA), created on first use.
  let defaultS3: S3Client | undefined;
  const s3For = opts.s3For ?? (() => (defaultS3 ??= new S3Client({ forcePathStyle: true })));
  const metrics = opts.metrics ?? processLayerMetrics();
  const storeFor = (namespace: string) => instrumentStore(opts.storeFor(namespace), metrics);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_ENTRY }),
    activities: instrumentActivities(
      {
        ...createFunctionActivities({ storeFor }),
        ...createPipelineActivities({ storeFor, s3For }),
        ...opts.extraActivities,
      },
      metrics,
    ),
    shutdownForceTime: WORKER_SHUTDOWN_FORCE_TIME,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...opts.tuning,
  });
}
