// The one client API for Function workflows: what the operator's reconcile, `layer apply`,
// the CLI and the HTTP API call. Start-or-update is a single update-with-start, so a spec
// change reaches a running workflow without a restart and a missing workflow is created — no
// read-modify-write race between two callers.
import { cancelIfRunning } from './stop-workflow.js';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { fromEngineSummary } from './engine-summary.js';
import { functionWorkflowId } from '../../packages/worker/src/contracts/names.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import {
  abortRolloutUpdate,
  discoverNowSignal,
  promoteRolloutUpdate,
  replayDeadLettersUpdate,
  setPausedUpdate,
  statusQuery,
  updateSpecUpdate,
  type FunctionRuntimeSpec,
  type FunctionStatus,
} from '../contracts/function.js';
import { functionStatusDepth } from '../contracts/queue-depth.js';
import { workloadSearchAttributes } from '../contracts/search-attributes.js';
import type { functionWorkflow } from '../workflows/function-workflow.js';

export interface FunctionRef {
  k8sNamespace: string;
  name: string;
}

export interface StartOrUpdateResult {
  workflowId: string;
  /** The generation the running workflow now holds. */
  generation: number;
}

function staticDetails(spec: FunctionRuntimeSpec): string {
  return [
    `**Function** \`${spec.k8sNamespace}/${spec.name}\``,
    '',
    `- output: \`${spec.output.attribute}\` (${spec.output.kind}, version \`${spec.output.version}\`${spec.output.dim ? `, dim ${spec.output.dim}` : ''})`,
    `- inputs: ${spec.inputs.map((i) => `\`${i}\``).join(', ')}`,
    `- target namespaces: ${spec.targetNamespaces.map((n) => `\`${n}\``).join(', ') || '(none yet)'}`,
    `- worker: ${spec.worker.dispatch}, batch ${spec.worker.batchSize}, timeout ${spec.worker.timeoutSeconds}s`,
    `- schedule: discovery every ${spec.schedule.discoveryIntervalSeconds}s, lease ${spec.schedule.leaseSeconds}s, ≤${spec.schedule.maxInFlightBatches} batches in flight`,
    `- retry: ${spec.retry.maxAttempts} attempts, backoff ${spec.retry.initialBackoffSeconds}s…${spec.retry.maxBackoffSeconds}s`,
  ].join('\n');
}

/**
 * Starts the Function's workflow, or hands a running one the new spec (validated by the
 * workflow's update validator before it reaches history). Idempotent.
 */
export async function startOrUpdateFunction(
  client: Client,
  spec: FunctionRuntimeSpec,
  options: { taskQueue?: string } = {},
): Promise<StartOrUpdateResult> {
  const workflowId = functionWorkflowId(spec.k8sNamespace, spec.name);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof functionWorkflow>('functionWorkflow', {
    workflowId,
    // The orchestrator's queue; tests give each file its own so workers never cross.
    taskQueue: options.taskQueue ?? ORCHESTRATOR_TASK_QUEUE,
    args: [{ spec }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Function ${spec.k8sNamespace}/${spec.name} → ${spec.output.attribute}@${spec.output.version}`,
    staticDetails: staticDetails(spec),
    typedSearchAttributes: workloadSearchAttributes('Function', spec, spec.targetNamespaces),
  });
  const result = await client.workflow.executeUpdateWithStart(updateSpecUpdate, {
    args: [spec],
    startWorkflowOperation,
  });
  return { workflowId, generation: result.generation };
}

export function functionHandle(client: Client, ref: FunctionRef): WorkflowHandle<typeof functionWorkflow> {
  return client.workflow.getHandle<typeof functionWorkflow>(functionWorkflowId(ref.k8sNamespace, ref.name));
}

export async function setFunctionPaused(client: Client, ref: FunctionRef, paused: boolean): Promise<void> {
  await functionHandle(client, ref).executeUpdate(setPausedUpdate, { args: [paused] });
}

/** Continues a canary rollout at its new version; returns the version the engine now runs. */
export async function promoteFunctionRollout(client: Client, ref: FunctionRef): Promise<string> {
  return (await functionHandle(client, ref).executeUpdate(promoteRolloutUpdate)).version;
}

/** Aborts a canary rollout: back to the rows' version, side attribute removed. */
export async function abortFunctionRollout(client: Client, ref: FunctionRef): Promise<string> {
  return (await functionHandle(client, ref).executeUpdate(abortRolloutUpdate)).version;
}

export async function discoverFunctionNow(client: Client, ref: FunctionRef): Promise<void> {
  await functionHandle(client, ref).signal(discoverNowSignal);
}

export async function replayFunctionDeadLetters(
  client: Client,
  ref: FunctionRef,
  filter?: unknown,
): Promise<number> {
  const res = await functionHandle(client, ref).executeUpdate(replayDeadLettersUpdate, {
    args: [{ filter }],
  });
  return res.cleared;
}

export async function getFunctionStatus(client: Client, ref: FunctionRef): Promise<FunctionStatus> {
  return functionHandle(client, ref).query(statusQuery);
}

/**
 * The Function's queue depth, the figure KEDA scales on: from the workflow's memo summary, or from
 * a status query for a run started before the summary (docs/adr/0127). 0 when no workflow runs.
 */
export async function getFunctionQueueDepth(
  client: Client,
  ref: FunctionRef,
  batchSize: number,
): Promise<number> {
  const handle = functionHandle(client, ref);
  const depth = await fromEngineSummary(
    handle,
    (s) => s.queueDepth,
    async () => functionStatusDepth(await handle.query(statusQuery), batchSize),
  );
  return depth ?? 0;
}

/**
 * Stops the Function's workflow (the Function was deleted): cancellation lets in-flight batches
 * finish their writeback or be abandoned cleanly. Returns false when no workflow was running.
 */
export async function stopFunction(client: Client, ref: FunctionRef): Promise<boolean> {
  return cancelIfRunning(() => functionHandle(client, ref));
}
