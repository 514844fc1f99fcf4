// The orchestrator's Temporal Worker: every Layer workflow and the orchestrator-side
// activities, on one task queue. This is the one place that wires real clients into the
// activity factories.
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { ORCHESTRATOR_TASK_QUEUE } from '../contracts/function.js';
import { createFunctionActivities } from '../activities/function-activities.js';
import type { StoreClient } from '../store/client.js';

export const WORKFLOWS_ENTRY = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The store for a Turbopuffer namespace (a single store, or routed per Index). */
  storeFor: (namespace: string) => StoreClient;
  taskQueue?: string;
  /** Pre-built bundle (tests and benchmarks reuse one across workers). */
  workflowBundle?: { code: string };
  /** More activities registered on the same queue (the operator's: createOperatorWorkerParts). */
  extraActivities?: object;
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
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_ENTRY }),
    activities: { ...createFunctionActivities({ storeFor: opts.storeFor }), ...opts.extraActivities },
    ...opts.tuning,
  });
}
