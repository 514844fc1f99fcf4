// What the orchestrator Worker needs to run reconcile workflows: the Kubernetes activities wired
// to the real engines. The orchestrator entry point (src/workers/) adds these activities to its
// Worker, whose workflow bundle (src/workflows/index.ts) exports reconcileWorkflow.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { createTemporalWorkloadWorkflows, type WorkloadWorkflows } from '../operator/workload-workflows.js';
import { operatorSettings, type OperatorSettings } from '../operator/settings.js';
import { createKubernetesActivities, type KubernetesActivities } from './kubernetes-activities.js';
import type { FunctionRuntimeSpec } from '../contracts/function.js';
import { countPlannedRows } from '../operator/function-estimate.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';

export interface OperatorWorkerDeps {
  kubeConfig: KubeConfig;
  /** Temporal client the Function engine client API uses. */
  client: Client;
  settings?: OperatorSettings;
  defaultVectorStore?: { namespace: string; name: string };
  /** Task queue of the workload workflows the engine starts (the orchestrator's own). */
  taskQueue?: string;
  /** Tests: replace the Temporal-backed engines. */
  engine?: WorkloadWorkflows;
  /** The store of a Turbopuffer namespace, for status.plan of paused Functions. */
  storeFor?: (namespace: string) => StoreClient;
  /** LAYER_WATCH_NAMESPACES: the scope output ownership is decided in. */
  watchNamespaces?: readonly string[] | undefined;
}

/**
 * @example
 * const { activities } = createOperatorWorkerParts({ kubeConfig, client });
 * await Worker.create({ taskQueue: ORCHESTRATOR_TASK_QUEUE, workflowsPath, activities: { ...functionActivities, ...activities } });
 */
export function createOperatorWorkerParts(deps: OperatorWorkerDeps): { activities: KubernetesActivities } {
  return {
    activities: createKubernetesActivities({
      kubeConfig: deps.kubeConfig,
      engine:
        deps.engine ??
        createTemporalWorkloadWorkflows(deps.client, deps.taskQueue ? { taskQueue: deps.taskQueue } : {}),
      settings: deps.settings ?? operatorSettings(),
      ...(deps.watchNamespaces ? { watchNamespaces: deps.watchNamespaces } : {}),
      ...(deps.defaultVectorStore ? { defaultVectorStore: deps.defaultVectorStore } : {}),
      ...(deps.storeFor
        ? { planRows: (spec: FunctionRuntimeSpec) => countPlannedRows(deps.storeFor!, spec) }
        : {}),
    }),
  };
}
