// The reconcile workflow's view of the engines that run workloads: start or update (which also
// pauses and resumes) and stop. Functions go through the Function engine's client
// (src/client/function-client.ts), Pipelines through the Pipeline engine's
// (src/client/pipeline-client.ts). Tests inject a fake.
import { ConditionReason, ConditionType } from '../api/conditions.js';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  functionHandle,
  getFunctionStatus,
  startOrUpdateFunction,
  stopFunction,
} from '../client/function-client.js';
import {
  getPipelineStatus,
  pipelineHandle,
  startOrUpdatePipeline,
  stopPipeline,
} from '../client/pipeline-client.js';
import { functionRuntimeSpecSchema } from '../contracts/function.js';
import { fromEngineSummary } from '../client/engine-summary.js';
import { specFingerprint } from '../contracts/fingerprint.js';
import { pipelineRuntimeSpecSchema } from '../contracts/pipeline.js';
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import { pipelineRuntimeSpecProblems } from './pipeline-runtime-spec.js';

import type { EngineAction, EngineResult, EngineWorkloadStatus } from './reconcile-types.js';

export type EngineSync = Extract<EngineAction, { action: 'sync' }>;
export interface EngineRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface WorkloadWorkflows {
  /** Start the workload's workflow, or hand the running one this spec (incl. paused). Idempotent. */
  sync(action: EngineSync): Promise<EngineResult>;
  /** Stop the workload's workflow; false when none was running. */
  stop(ref: EngineRef): Promise<boolean>;
}

/** Condition for a workflow that runs (or is paused as asked). */
export function workflowRunning(paused: boolean, generation: number): EngineResult {
  return {
    condition: paused
      ? {
          type: ConditionType.WorkflowReady,
          status: 'True',
          reason: ConditionReason.WorkflowPaused,
          message: `workflow paused at generation ${generation}`,
        }
      : {
          type: ConditionType.WorkflowReady,
          status: 'True',
          reason: ConditionReason.WorkflowRunning,
          message: `workflow runs generation ${generation}`,
        },
  };
}

/** The spec was refused (by the engine's schema or the workflow's update validator): retrying cannot help until it changes. */
function rejectedSpec(message: string): EngineResult {
  return {
    condition: {
      type: ConditionType.WorkflowReady,
      status: 'False',
      reason: ConditionReason.EngineRejectedSpec,
      message,
    },
  };
}

export interface TemporalWorkloadWorkflowsOptions {
  /** Task queue the orchestrator worker polls for workload workflows (tests run their own). */
  taskQueue?: string;
}

/**
 * Engines over a Temporal client: Functions through the Function engine's client API, Pipelines
 * through the Pipeline engine's. A paused spec pauses the workflow (it keeps running, dispatching
 * nothing); stop cancels it.
 *
 * @example
 * const engine = createTemporalWorkloadWorkflows(client);
 * await engine.sync({ action: 'sync', kind: 'Function', spec });
 */
export function createTemporalWorkloadWorkflows(
  client: Client,
  options: TemporalWorkloadWorkflowsOptions = {},
): WorkloadWorkflows {
  const startOptions = options.taskQueue ? { taskQueue: options.taskQueue } : {};
  /**
   * The fingerprint of the spec the workload's workflow runs, when it runs: one describe (served
   * by the server, no workflow task) whose memo carries the workflow's summary (docs/adr/0127).
   * A run started before the summary existed has none yet: a status query answers for it.
   * Undefined when no workflow runs.
   */
  const running = async (
    kind: WorkloadKind,
    ref: { k8sNamespace: string; name: string },
  ): Promise<{ fingerprint?: string; workload: EngineWorkloadStatus } | undefined> => {
    const handle = kind === 'Pipeline' ? pipelineHandle(client, ref) : functionHandle(client, ref);
    const seen = (s: {
      specFingerprint?: string;
      phase: string;
      pendingRows: number;
      degraded?: Degraded;
    }) => ({
      fingerprint: s.specFingerprint,
      workload: workloadStatus(s.phase, s.pendingRows, s.degraded),
    });
    return fromEngineSummary(handle, seen, async () => {
      if (kind === 'Function') return seen(await getFunctionStatus(client, ref));
      const s = await getPipelineStatus(client, ref);
      return seen({ ...s, pendingRows: s.queue.pending });
    });
  };
  const withWorkload = (result: EngineResult, seen: { workload: EngineWorkloadStatus } | undefined) =>
    seen ? { ...result, workload: seen.workload } : result;

  return {
    async sync(action) {
      try {
        const ref = { k8sNamespace: action.spec.k8sNamespace, name: action.spec.name };
        if (action.kind === 'Pipeline') {
          // The client parses the spec before it starts anything: refuse here rather than throw
          // (a throw is retried by the reconcile activity, and would be forever).
          const problems = pipelineRuntimeSpecProblems(action.spec);
          if (problems.length > 0)
            return rejectedSpec(`the Pipeline engine refuses this spec: ${problems.join('; ')}`);
          const parsed = pipelineRuntimeSpecSchema.parse(action.spec);
          // Diff, don't resend: a running workflow with this very spec gets nothing.
          const seen = await running('Pipeline', ref);
          if (seen?.fingerprint === specFingerprint(parsed))
            return withWorkload(workflowRunning(parsed.paused, parsed.generation), seen);
          // The spec carries `paused`, so one update-with-start starts, updates, pauses and resumes.
          const res = await startOrUpdatePipeline(client, action.spec, startOptions);
          return withWorkload(workflowRunning(parsed.paused, res.generation), seen);
        }
        const spec = functionRuntimeSpecSchema.parse(action.spec);
        const seen = await running('Function', ref);
        if (seen?.fingerprint === specFingerprint(spec))
          return withWorkload(workflowRunning(spec.paused, spec.generation), seen);
        // The spec carries `paused` too: one update starts, updates, pauses and resumes.
        const res = await startOrUpdateFunction(client, spec, startOptions);
        return withWorkload(workflowRunning(spec.paused, res.generation), seen);
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError)
          return rejectedSpec(
            `the ${action.kind} workflow refused the spec: ${err.cause?.message ?? err.message}`,
          );
        throw err;
      }
    },
    async stop(ref) {
      const workload = { k8sNamespace: ref.namespace, name: ref.name };
      return ref.kind === 'Pipeline' ? stopPipeline(client, workload) : stopFunction(client, workload);
    },
  };
}

type Degraded = { reason: string; message: string; hint: string };

function workloadStatus(
  phase: string,
  pendingRows: number,
  degraded: Degraded | undefined,
): EngineWorkloadStatus {
  return {
    phase,
    pendingRows,
    ...(degraded
      ? { degraded: { reason: degraded.reason, message: degraded.message, hint: degraded.hint } }
      : {}),
  };
}
