// How the watcher starts or signals a resource's reconcile run: the signal-with-start options
// (ID, queue, signal, the Temporal UI's summary and search attributes, task priority), kept apart
// from the informer plumbing so tests start runs exactly as the watcher does.
import { LayerK8sNamespaceKey, LayerKindKey, LayerNameKey } from '../contracts/search-attributes.js';
import {
  reconcileSignal,
  reconcileWorkflowId,
  type ReconcileRef,
  type ReconcileSignalArgs,
  type ReconcileWorkflowInput,
} from '../contracts/reconcile.js';
import { passPriorityKey } from './watch-rules.js';

/** The reconcile workflow's line in the Temporal UI's list and page. */
export function reconcileSummary(ref: ReconcileRef): string {
  return `Reconcile ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

const RECONCILE_DETAILS = [
  '**Reconcile** one hevlayer.com resource: each pass observes it, plans, applies the owned objects,',
  'syncs its workflow and writes its status (one `reconcilePass` activity per pass).',
  '',
  '- started or signalled by the operator on every change that matters; a burst of changes collapses into at most two passes',
  '- the run ends when a pass finds nothing new; the next change starts a fresh run',
].join('\n');

/**
 * The signal-with-start of a resource's reconcile run for one reason: its ID, queue, signal, the
 * UI's summary and search attributes, and its task priority.
 */
export function reconcileStart(
  ref: ReconcileRef,
  reason: string,
  on: { taskQueue: string; identity?: string },
) {
  return {
    workflowId: reconcileWorkflowId(ref.kind, ref.namespace, ref.name),
    taskQueue: on.taskQueue,
    args: [{ ref }] as [ReconcileWorkflowInput],
    signal: reconcileSignal,
    signalArgs: [{ reason, ...(on.identity ? { by: on.identity } : {}) }] as [ReconcileSignalArgs],
    // A resync's passes queue behind every pass a change asked for (ADR 0135).
    priority: { priorityKey: passPriorityKey(reason) },
    staticSummary: reconcileSummary(ref),
    staticDetails: RECONCILE_DETAILS,
    // So the UI's list finds them: LayerKind = 'Reconcile' AND LayerName = '…'.
    typedSearchAttributes: [
      { key: LayerKindKey, value: 'Reconcile' },
      { key: LayerNameKey, value: ref.name },
      ...(ref.namespace ? [{ key: LayerK8sNamespaceKey, value: ref.namespace }] : []),
    ],
  };
}
