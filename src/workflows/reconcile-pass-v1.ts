// The reconcile pass as it ran before one activity did the whole pass (patch
// `reconcile-pass-activity`): frozen, so that runs started by an older operator replay and finish.
// Do not change; new behaviour goes into reconcilePass (src/activities/kubernetes-activities.ts).
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { KubernetesActivities } from '../activities/kubernetes-activities.js';
import type { ReconcileWorkflowInput } from '../contracts/reconcile.js';

const k8s = proxyActivities<KubernetesActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 6,
  },
});

/** The engine may take longer (update-with-start waits for the workflow's validator). */
const engine = proxyActivities<KubernetesActivities>({
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
  },
});

type EngineResult = Awaited<ReturnType<KubernetesActivities['syncWorkload']>>;

export async function passInSteps(ref: ReconcileWorkflowInput['ref']): Promise<string> {
  const observed = await k8s.observeResource(ref);
  const probe =
    ref.kind === 'VectorStore' && observed.object !== null && !observed.object.metadata?.deletionTimestamp
      ? await k8s.probeVectorStore(ref)
      : undefined;
  const plan = await k8s.planResource({ observed, ...(probe ? { probe } : {}) });
  const namespace = ref.namespace ?? 'default';

  if (plan.outcome === 'gone' || plan.outcome === 'deleting') {
    // Stop the workflow first so no batch is dispatched to workers that are about to go.
    if (plan.engine.action === 'stop') await engine.stopWorkload(plan.engine);
    if (plan.remove.length > 0) await k8s.deleteObjects({ namespace, objects: plan.remove });
    if (plan.finalizer === 'remove') await k8s.setResourceFinalizer({ ref, want: 'remove' });
    return plan.outcome;
  }

  if (plan.finalizer === 'add') await k8s.setResourceFinalizer({ ref, want: 'add' });
  let applyFailure: string | undefined;
  try {
    if (plan.apply.length > 0) await k8s.applyObjects({ objects: plan.apply });
    if (plan.remove.length > 0) await k8s.deleteObjects({ namespace, objects: plan.remove });
  } catch (err) {
    applyFailure = failureMessage(err);
  }
  let engineResult: EngineResult | undefined =
    applyFailure !== undefined
      ? {
          condition: {
            type: 'WorkflowReady',
            status: 'Unknown' as const,
            reason: 'ApplyFailed',
            message: `objects could not be applied: ${applyFailure}`,
          },
        }
      : undefined;
  if (engineResult === undefined && plan.engine.action === 'sync') {
    try {
      engineResult = await engine.syncWorkload(plan.engine);
    } catch (err) {
      engineResult = {
        condition: {
          type: 'WorkflowReady',
          status: 'False',
          reason: 'EngineError',
          message: failureMessage(err),
        },
      };
    }
  }
  if (plan.status) {
    const draft = applyFailure
      ? {
          ...plan.status,
          conditions: [
            ...plan.status.conditions,
            { type: 'Applied', status: 'False' as const, reason: 'ApplyFailed', message: applyFailure },
          ],
        }
      : plan.status;
    await k8s.writeStatus({ ref, draft, ...(engineResult ? { engine: engineResult } : {}) });
  }
  if (applyFailure !== undefined) {
    // Reported in status; the watcher's resync (or the next event) tries again. Failing the run
    // makes the problem visible in the Temporal UI too.
    throw ApplicationFailure.nonRetryable(`apply failed: ${applyFailure}`, 'ApplyFailed');
  }
  return plan.outcome;
}

function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return (e.cause?.message ?? e.message ?? String(err)).slice(0, 1000);
}
