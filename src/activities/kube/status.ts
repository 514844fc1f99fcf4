// The pass's one status write, the Events for the transitions it made, and status.plan of a
// paused Function. The status itself comes from the pure finalStatus; this file only writes it.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Condition } from '../../api/common.js';
import { pluralOf } from '../../api/crds.js';
import { GROUP, OPERATOR_FIELD_MANAGER, VERSION } from '../../api/group.js';
import type { FunctionRuntimeSpec } from '../../contracts/function.js';
import type { ReconcileRef } from '../../contracts/reconcile.js';
import { estimateFromCounts, type FunctionPlan } from '../../operator/function-estimate.js';
import { statusEvents } from '../../operator/reconcile-conditions.js';
import { PLAN_RATE_ANNOTATION } from '../../operator/reconcile/workload-planner.js';
import { finalStatus } from '../../operator/reconcile/status.js';
import type { EngineResult, ReconcilePlan, StatusDraft } from '../../operator/reconcile-types.js';
import { failureMessage, kubeCall, orNull, type KubeClients } from './kube-calls.js';

export interface StatusDeps {
  clock: () => Date;
  /** Exact counts of the rows a Function would process per store namespace. */
  planRows?: ((spec: FunctionRuntimeSpec) => Promise<Record<string, number>>) | undefined;
}

/** The engine could not be asked; Degraded with this reason until it answers. */
export function engineUnavailable(message: string): EngineResult {
  return {
    condition: {
      type: ConditionType.WorkflowReady,
      status: 'False',
      reason: ConditionReason.EngineUnavailable,
      message,
    },
  };
}

export function createStatus(clients: KubeClients, deps: StatusDeps) {
  const { custom, core } = clients;

  /** The pass's one status write (skipped when nothing changed). Returns whether it wrote. */
  async function writeStatus(input: {
    ref: ReconcileRef;
    draft: StatusDraft;
    engine?: EngineResult;
  }): Promise<boolean> {
    const { status, changed } = finalStatus(input.draft, input.engine, deps.clock().toISOString());
    if (!changed) return false;
    const { ref } = input;
    const target = {
      group: GROUP,
      version: VERSION,
      plural: pluralOf(ref.kind),
      name: ref.name,
      body: { status },
    };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const wrote = await kubeCall(() =>
      orNull(() =>
        ref.namespace
          ? custom.patchNamespacedCustomObjectStatus({ ...target, namespace: ref.namespace }, merge)
          : custom.patchClusterCustomObjectStatus(target, merge),
      ),
    );
    if (wrote !== null) await recordEvents(ref, input.draft, status);
    return wrote !== null;
  }

  /**
   * status.plan of a paused Function (rows it would process, batches, estimate), or `plan: null`
   * to remove a plan written while it was paused. Counting failures are written into the plan,
   * never fail the pass.
   */
  async function rowPlanField(
    plan: ReconcilePlan,
    draft: StatusDraft,
  ): Promise<{ plan: FunctionPlan | { error: string } | null } | undefined> {
    const had = (draft.previous as { plan?: unknown } | undefined)?.plan !== undefined;
    const rp = plan.rowPlan;
    if (!rp || !deps.planRows) return had ? { plan: null } : undefined;
    try {
      const counts = await deps.planRows(rp.spec);
      return {
        plan: estimateFromCounts(
          rp.spec,
          rp.maxWorkers,
          counts,
          rp.rowsPerSecondPerCall !== undefined
            ? { rowsPerSecondPerCall: rp.rowsPerSecondPerCall, source: 'given' }
            : null,
          `pull workers cannot be sampled by the operator: set the annotation ${PLAN_RATE_ANNOTATION} to the rows/s one worker call handles`,
          rp.costPerHour,
        ),
      };
    } catch (err) {
      return { plan: { error: `rows not counted: ${failureMessage(err)}` } };
    }
  }

  /**
   * Events for the transitions this status write made. Best effort: an Event that cannot be
   * recorded (RBAC, a hiccup) never fails the pass — the status itself is the record.
   */
  async function recordEvents(ref: ReconcileRef, draft: StatusDraft, status: Record<string, unknown>) {
    const events = statusEvents(draft.previousConditions, (status.conditions ?? []) as Condition[]);
    if (events.length === 0 || !draft.uid) return;
    const k8sNamespace = ref.namespace ?? 'default';
    const at = deps.clock();
    for (const e of events) {
      await core
        .createNamespacedEvent({
          namespace: k8sNamespace,
          body: {
            metadata: { generateName: `${ref.name}.`, namespace: k8sNamespace },
            involvedObject: {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: ref.kind,
              name: ref.name,
              ...(ref.namespace ? { namespace: ref.namespace } : {}),
              uid: draft.uid,
            },
            type: e.type,
            reason: e.reason,
            message: e.message,
            source: { component: OPERATOR_FIELD_MANAGER },
            reportingComponent: OPERATOR_FIELD_MANAGER,
            reportingInstance: OPERATOR_FIELD_MANAGER,
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
          },
        })
        .catch(() => undefined);
    }
  }

  return { writeStatus, rowPlanField };
}
