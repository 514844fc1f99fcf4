// The one client API for Pipeline workflows: what the operator's reconcile, the CLI
// (`layer pipeline submit|status`) and the HTTP API call. Start-or-update is a single
// update-with-start, like Functions.
import { fromEngineSummary } from './engine-summary.js';
import { cancelIfRunning } from './stop-workflow.js';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { pipelineWorkflowId } from '../../packages/worker/src/contracts/names.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import {
  listSourceNowSignal,
  pipelineRuntimeSpecSchema,
  pipelineStatusQuery,
  setPipelinePausedUpdate,
  updatePipelineSpecUpdate,
  type PipelineRuntimeSpec,
  type PipelineStatus,
} from '../contracts/pipeline.js';
import { pipelineQueueDepth } from '../contracts/queue-depth.js';
import { workloadSearchAttributes } from '../contracts/search-attributes.js';
import type { pipelineWorkflow } from '../workflows/pipeline-workflow.js';

export {
  getPipelineItemStates,
  isQueueFull,
  submitPipelineItems,
  type PipelineRef,
} from '../../packages/worker/src/pipeline-submit.js';
import type { PipelineRef } from '../../packages/worker/src/pipeline-submit.js';

export interface StartOrUpdatePipelineOptions {
  /** The orchestrator's task queue (tests run their own). */
  taskQueue?: string;
  /** Tests only: continue-as-new after this many batches. */
  batchesPerRun?: number;
}

function staticDetails(spec: PipelineRuntimeSpec): string {
  const p = pipelineRuntimeSpecSchema.parse(spec);
  return [
    `**Pipeline** \`${p.k8sNamespace}/${p.name}\` → \`${p.targetNamespace}\``,
    '',
    `- source: \`${JSON.stringify(p.sourceRef ?? { kind: 'submit' })}\``,
    `- worker: ${p.worker.dispatch}, batch ${p.worker.batchSize}, timeout ${p.worker.timeoutSeconds}s`,
    `- lease ${p.schedule.leaseSeconds}s, ≤${p.schedule.maxInFlightBatches} batches in flight, ≤${p.schedule.maxPendingItems} items queued`,
    `- retry: ${p.retry.maxAttempts} attempts, backoff ${p.retry.initialBackoffSeconds}s…${p.retry.maxBackoffSeconds}s`,
  ].join('\n');
}

/**
 * Starts the Pipeline's workflow, or hands a running one the new spec (validated by the
 * workflow before it reaches history). Idempotent.
 *
 * @example
 * await startOrUpdatePipeline(client, { k8sNamespace: 'layer', name: 'docs', targetNamespace: 'docs',
 *   worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 60 } });
 */
export async function startOrUpdatePipeline(
  client: Client,
  spec: PipelineRuntimeSpec,
  options: StartOrUpdatePipelineOptions = {},
): Promise<{ workflowId: string; generation: number }> {
  const workflowId = pipelineWorkflowId(spec.k8sNamespace, spec.name);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof pipelineWorkflow>('pipelineWorkflow', {
    workflowId,
    taskQueue: options.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    args: [{ spec, ...(options.batchesPerRun ? { batchesPerRun: options.batchesPerRun } : {}) }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Pipeline ${spec.k8sNamespace}/${spec.name} → ${spec.targetNamespace}`,
    staticDetails: staticDetails(spec),
    typedSearchAttributes: workloadSearchAttributes('Pipeline', spec, [spec.targetNamespace]),
  });
  const result = await client.workflow.executeUpdateWithStart(updatePipelineSpecUpdate, {
    args: [spec],
    startWorkflowOperation,
  });
  return { workflowId, generation: result.generation };
}

export function pipelineHandle(client: Client, ref: PipelineRef): WorkflowHandle<typeof pipelineWorkflow> {
  return client.workflow.getHandle<typeof pipelineWorkflow>(pipelineWorkflowId(ref.k8sNamespace, ref.name));
}

export async function getPipelineStatus(client: Client, ref: PipelineRef): Promise<PipelineStatus> {
  return pipelineHandle(client, ref).query(pipelineStatusQuery);
}

/** The queue depth the HTTP API serves KEDA for this Pipeline (0 when no workflow runs). */
export async function getPipelineQueueDepth(client: Client, ref: PipelineRef): Promise<number> {
  const depth = await fromEngineSummary(
    pipelineHandle(client, ref),
    (s) => s.queueDepth,
    async () => pipelineQueueDepth(await getPipelineStatus(client, ref)),
  );
  return depth ?? 0;
}

export async function setPipelinePaused(client: Client, ref: PipelineRef, paused: boolean): Promise<void> {
  await pipelineHandle(client, ref).executeUpdate(setPipelinePausedUpdate, { args: [paused] });
}

/** Asks the built-in S3 source to list now instead of at its next interval. */
export async function listPipelineSourceNow(client: Client, ref: PipelineRef): Promise<void> {
  await pipelineHandle(client, ref).signal(listSourceNowSignal);
}

/** Stops the Pipeline's workflow (the Pipeline was deleted). False when none was running. */
export async function stopPipeline(client: Client, ref: PipelineRef): Promise<boolean> {
  return cancelIfRunning(() => pipelineHandle(client, ref));
}
