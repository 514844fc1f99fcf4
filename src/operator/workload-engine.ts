// The reconcile workflow's view of the engines that run workloads: start or update (which also
// pauses and resumes) and stop. The Function implementation is the Function engine's client
// (src/client/function-client.ts); the Pipeline engine is a later issue, so its implementation
// says so in a condition instead of pretending. Tests inject a fake.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  getFunctionStatus,
  setFunctionPaused,
  startOrUpdateFunction,
  stopFunction,
} from '../client/function-client.js';
import type { WorkloadKind } from '../contracts/names.js';
import { OperatorConditionType, OperatorReason } from './reconcile-conditions.js';
import type { EngineAction, EngineResult } from './reconcile-types.js';

export type EngineSync = Extract<EngineAction, { action: 'sync' }>;
export interface EngineRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface WorkloadEngine {
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
          type: OperatorConditionType.WorkflowReady,
          status: 'True',
          reason: OperatorReason.WorkflowPaused,
          message: `workflow paused at generation ${generation}`,
        }
      : {
          type: OperatorConditionType.WorkflowReady,
          status: 'True',
          reason: OperatorReason.WorkflowRunning,
          message: `workflow runs generation ${generation}`,
        },
  };
}

/** The Pipeline engine does not exist yet: objects are applied, no workflow runs. */
export const pipelineEngineUnavailable: EngineResult = {
  condition: {
    type: OperatorConditionType.WorkflowReady,
    status: 'False',
    reason: OperatorReason.EngineUnavailable,
    message:
      'the Pipeline engine is not available in this release; worker objects are applied but no pipeline workflow runs',
  },
};

/**
 * Engines over a Temporal client: Functions through the Function engine's client API.
 *
 * @example
 * const engine = createTemporalWorkloadEngine(client);
 * await engine.sync({ action: 'sync', kind: 'Function', spec });
 */
export function createTemporalWorkloadEngine(client: Client): WorkloadEngine {
  return {
    async sync(action) {
      if (action.kind === 'Pipeline') return pipelineEngineUnavailable;
      const spec = action.spec;
      try {
        const res = await startOrUpdateFunction(client, spec);
        await setFunctionPaused(client, { k8sNamespace: spec.k8sNamespace, name: spec.name }, spec.paused);
        return workflowRunning(spec.paused, res.generation);
      } catch (err) {
        // The workflow's update validator refused the spec: retrying cannot help until it changes.
        if (err instanceof WorkflowUpdateFailedError) {
          return {
            condition: {
              type: OperatorConditionType.WorkflowReady,
              status: 'False',
              reason: OperatorReason.EngineRejectedSpec,
              message: `the Function workflow refused the spec: ${err.cause?.message ?? err.message}`,
            },
          };
        }
        throw err;
      }
    },
    async stop(ref) {
      if (ref.kind === 'Pipeline') return false;
      return stopFunction(client, { k8sNamespace: ref.namespace, name: ref.name });
    },
  };
}

/** Queue depth of a Function for KEDA: pending rows in batches (rounded up) plus batches in flight. */
export async function functionQueueDepth(
  client: Client,
  namespace: string,
  name: string,
  batchSize: number,
): Promise<number> {
  const s = await getFunctionStatus(client, { k8sNamespace: namespace, name });
  return queueDepthOf(s.pendingRows, batchSize, s.inFlightBatches);
}

/** Pure: ceil(pendingRows / batchSize) + inFlightBatches, never negative. */
export function queueDepthOf(pendingRows: number, batchSize: number, inFlightBatches: number): number {
  const pending = Math.max(0, pendingRows);
  return Math.ceil(pending / Math.max(1, batchSize)) + Math.max(0, inFlightBatches);
}
