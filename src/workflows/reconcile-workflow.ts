// Reconcile one hevlayer.com resource, level-triggered: each pass is one activity, reconcilePass
// (observe → plan → finalizer → apply → prune → engine → one status write). Started (or nudged)
// by the watcher with signal-with-start under the ID reconcileWorkflowId(kind, ns, name); events that arrive during a pass set `dirty` and cause
// exactly one more pass, so a burst of events collapses into at most two passes. The run ends
// when a pass finds nothing new; the next event or resync starts a fresh run.
// See docs/adr/0020-reconcile-as-workflow.md.
import {
  continueAsNew,
  log,
  deprecatePatch,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { KubernetesActivities } from '../activities/kubernetes-activities.js';
import {
  reconcileSignal,
  type ReconcileRef,
  type ReconcileWorkflowInput,
  type ReconcileWorkflowResult,
} from '../contracts/reconcile.js';

/**
 * The whole pass in one activity: one workflow task and one activity task per pass instead of
 * five of each, which is most of what a pass cost the Temporal server (ADR 0020). Retries are new
 * passes over what is there now; the engine's update-with-start may wait for the workflow's
 * validator, hence the minute.
 */
const PASS_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
  },
};

/** One pass, named in the Temporal UI by what it reconciles (the activity's summary). */
function reconcilePass(ref: ReconcileRef, pass: number) {
  const what = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  return proxyActivities<KubernetesActivities>({
    ...PASS_OPTIONS,
    summary: `pass ${pass}: ${what}`,
  }).reconcilePass(ref);
}

/** Passes per run before continue-as-new keeps history small during a long burst. */
const PASSES_PER_RUN = 50;

export async function reconcileWorkflow(input: ReconcileWorkflowInput): Promise<ReconcileWorkflowResult> {
  const { ref } = input;
  let dirty = true;
  setHandler(reconcileSignal, () => {
    dirty = true;
  });
  let passes = 0;
  let outcome = 'none';
  while (dirty) {
    dirty = false;
    // Deprecated: runs recorded while the per-step pass existed carry the marker (ADR 0067).
    deprecatePatch('reconcile-pass-activity');
    outcome = (await reconcilePass(ref, passes + 1)).outcome;
    passes++;
    if (dirty && passes >= PASSES_PER_RUN) {
      await continueAsNew<typeof reconcileWorkflow>({ ref, passesSoFar: (input.passesSoFar ?? 0) + passes });
    }
  }
  log.info('reconciled', { workflowId: workflowInfo().workflowId, passes, outcome });
  return { passes, outcome };
}
