// Activities of the reconcile workflow: everything that touches Kubernetes, the upstream store or
// the workload engines. A factory over injected dependencies (the KubeConfig the operator runs
// with, the engine, settings, a clock), so the worker wires real clients and tests wire fakes.
// The steps live in ./kube/: observe, apply, status, store-probe; this file is the pass.
//
// Secrets: only the store probe reads one, and it returns conditions, never the value.
import { ConditionReason, ConditionType } from '../api/conditions.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { FunctionRuntimeSpec } from '../contracts/function.js';
import type { ReconcileRef } from '../contracts/reconcile.js';
import { setFinalizer } from '../operator/finalizer.js';

import { planReconcilePass } from '../operator/reconcile/plan-pass.js';
import type { EngineResult } from '../operator/reconcile-types.js';
import type { OperatorSettings } from '../operator/settings.js';
import type { WorkloadWorkflows } from '../operator/workload-workflows.js';
import { createApply } from './kube/apply.js';
import { applyFailureToThrow, failureMessage, kubeCall, makeKubeClients } from './kube/kube-calls.js';
import { createObserve } from './kube/observe.js';
import { createStatus, engineUnavailable } from './kube/status.js';
import { createStoreProbe } from './kube/store-probe.js';

export { engineUnavailable };

export interface KubernetesActivitiesDeps {
  /** Credentials the operator runs with (deploy/operator ClusterRole). */
  kubeConfig: KubeConfig;
  engine: WorkloadWorkflows;
  settings: OperatorSettings;
  /** VectorStore whose inbound auth decides the worker bearer (Helm renders one). */
  defaultVectorStore?: { namespace: string; name: string };
  /** Injected clock (status timestamps). */
  clock?: () => Date;
  /** Timeout of the VectorStore reachability call (default 5 s). */
  storeProbeTimeoutMs?: number;
  /** Exact counts of the rows a Function would process per store namespace (status.plan of a paused Function). */
  planRows?: (spec: FunctionRuntimeSpec) => Promise<Record<string, number>>;
  /**
   * The Kubernetes namespaces this operator reconciles (LAYER_WATCH_NAMESPACES), read at each
   * pass; unset: every namespace. Output ownership (ADR 0070) is decided among the Functions in
   * scope: an operator never refuses a Function over one it does not govern.
   */
  watchNamespaces?: readonly string[] | undefined;
}

/** What one pass did, for the workflow's history (and the benchmark's per-pass breakdown). */
export interface PassReport {
  outcome: string;
  /** Objects server-side applied, and skipped because nothing changed since this process applied them. */
  applied: number;
  skipped: number;
  removed: number;
  statusWritten: boolean;
  /** Wall time of the pass inside the activity. */
  ms?: number;
}

/**
 * @example
 * const activities = createKubernetesActivities({ kubeConfig, engine, settings: operatorSettings() });
 * await Worker.create({ taskQueue: ORCHESTRATOR_TASK_QUEUE, workflowsPath, activities, ... });
 */
export function createKubernetesActivities(deps: KubernetesActivitiesDeps) {
  const clients = makeKubeClients(deps.kubeConfig);
  const observe = createObserve(clients, deps);
  const { applyObjects, applyReplicasHandover, deleteObjects } = createApply(clients.objects);
  const { writeStatus, rowPlanField } = createStatus(clients, {
    clock: deps.clock ?? (() => new Date()),
    planRows: deps.planRows,
  });
  const probeVectorStore = createStoreProbe(clients, {
    settings: deps.settings,
    timeoutMs: deps.storeProbeTimeoutMs,
  });
  const finalizer = (ref: ReconcileRef, op: 'add' | 'remove') =>
    kubeCall(() => setFinalizer(clients.kc, ref, op));

  /**
   * One whole reconcile pass: observe → plan → finalizer → apply → prune → engine → one status
   * write. Every step is idempotent and level-triggered, so a retry of the activity is a new pass
   * over what is there now (ADR 0020, update "one activity per pass").
   */
  async function reconcilePass(ref: ReconcileRef): Promise<PassReport> {
    const t0 = performance.now();
    const { observed, versions } = await observe(ref);
    const probe =
      ref.kind === 'VectorStore' && observed.object !== null && !observed.object.metadata?.deletionTimestamp
        ? await probeVectorStore(ref)
        : undefined;
    const plan = planReconcilePass({ observed, ...(probe ? { probe } : {}), settings: deps.settings });
    const k8sNamespace = ref.namespace ?? 'default';
    const report: PassReport = {
      outcome: plan.outcome,
      applied: 0,
      skipped: 0,
      removed: 0,
      statusWritten: false,
    };
    const elapsed = () => ({ ms: Math.round(performance.now() - t0) });

    if (plan.outcome === 'gone' || plan.outcome === 'deleting') {
      // Stop the workflow first so no batch is dispatched to workers that are about to go.
      if (plan.engine.action === 'stop') await deps.engine.stop(plan.engine);
      if (plan.remove.length > 0) report.removed = await deleteObjects(k8sNamespace, plan.remove);
      if (plan.finalizer === 'remove') await finalizer(ref, 'remove');
      return { ...report, ...elapsed() };
    }

    if (plan.finalizer === 'add') await finalizer(ref, 'add');
    let applyFailure: string | undefined;
    let applyError: unknown;
    try {
      const [applied, removed] = await Promise.all([
        applyObjects(plan.apply, versions).then(async (done) => {
          // Only once the operator's apply has declared (or created) the replicas it shares.
          if (plan.replicasHandover) await applyReplicasHandover(plan.replicasHandover);
          return done;
        }),
        plan.remove.length > 0 ? deleteObjects(k8sNamespace, plan.remove) : Promise.resolve(0),
      ]);
      Object.assign(report, applied, { removed });
    } catch (err) {
      applyError = err;
      applyFailure = failureMessage(err);
    }
    let engineResult: EngineResult | undefined =
      applyFailure !== undefined
        ? {
            condition: {
              type: ConditionType.WorkflowReady,
              status: 'Unknown',
              reason: ConditionReason.ApplyFailed,
              message: `objects could not be applied: ${applyFailure}`,
            },
          }
        : undefined;
    let engineFailure: unknown;
    if (engineResult === undefined && plan.engine.action === 'sync') {
      try {
        engineResult = await deps.engine.sync(plan.engine);
      } catch (err) {
        engineFailure = err;
        engineResult = engineUnavailable(failureMessage(err));
      }
    }
    if (plan.status) {
      const planned = await rowPlanField(plan, plan.status);
      const draft = applyFailure
        ? {
            ...plan.status,
            conditions: [
              ...plan.status.conditions,
              {
                type: ConditionType.Applied,
                status: 'False' as const,
                reason: ConditionReason.ApplyFailed,
                message: applyFailure,
              },
            ],
          }
        : plan.status;
      report.statusWritten = await writeStatus({
        ref,
        draft: planned ? { ...draft, fields: { ...draft.fields, ...planned } } : draft,
        ...(engineResult ? { engine: engineResult } : {}),
      });
    }
    // Reported in status either way; failing the run makes it visible in the Temporal UI too.
    if (applyFailure !== undefined) throw applyFailureToThrow(applyError, applyFailure);
    // Status says EngineUnavailable; the activity's retries are the pass's retries.
    if (engineFailure !== undefined) throw engineFailure;
    return { ...report, ...elapsed() };
  }

  return { reconcilePass };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
