// Wire contract of the reconcile workflow (src/workflows/reconcile-workflow.ts): its input and the
// signal the watcher sends with signal-with-start. Sandbox-safe: plain types and
// @temporalio/workflow definitions only. See docs/adr/0020-reconcile-as-workflow.md.
import { defineSignal } from '@temporalio/workflow';

/** The object a reconcile workflow owns: one per kind/namespace/name. */
export interface ReconcileRef {
  kind: ReconcileKind;
  /** Absent for cluster-scoped kinds (InfraRules). */
  namespace?: string;
  name: string;
}

export interface ReconcileWorkflowInput {
  ref: ReconcileRef;
  /** Passes already run by previous runs of this workflow ID (continue-as-new carries it). */
  passesSoFar?: number;
}

/** Result of a finished reconcile workflow run. */
export interface ReconcileWorkflowResult {
  passes: number;
  /** Outcome of the last pass, e.g. `applied`, `blocked`, `invalid`, `deleted`, `gone`. */
  outcome: string;
}

/**
 * "Something about this object may have changed": the payload is the event that caused it, for the
 * Temporal UI only — reconcile is level-triggered and never branches on it.
 */
export const reconcileSignal = defineSignal<[ReconcileSignalArgs]>('reconcile');

export interface ReconcileSignalArgs {
  reason: string;
  /** The operator replica whose watcher sent it (its leader-election identity). */
  by?: string;
}

/** Event reason the watcher uses for periodic resyncs. */
export const RESYNC_REASON = 'resync';

/** Reconcile passes one operator replica runs at once, unless LAYER_RECONCILE_CONCURRENCY says (ADR 0135). */
export const DEFAULT_RECONCILE_CONCURRENCY = 32;

// Reconcile workflows (docs/adr/0020-reconcile-as-workflow.md). One ID per resource: every event
// for the same object signals-with-start the same workflow, so a burst collapses into one pass
// and two operator replicas can never reconcile one object concurrently.

/** The five kinds the operator reconciles (mirrors src/api/group.ts KINDS, sandbox-safe). */
export type ReconcileKind = 'VectorStore' | 'Index' | 'InfraRules' | 'Pipeline' | 'Function';

/** Namespace segment used for cluster-scoped objects (no Kubernetes namespace can be `-`). */
const CLUSTER_SCOPE_SEGMENT = '-';

/**
 * ID of the reconcile workflow of one resource.
 *
 * @example reconcileWorkflowId('Function', 'layer', 'tag-products') // 'reconcile/Function/layer/tag-products'
 * @example reconcileWorkflowId('InfraRules', undefined, 'default') // 'reconcile/InfraRules/-/default'
 */
export function reconcileWorkflowId(
  kind: ReconcileKind,
  k8sNamespace: string | undefined,
  name: string,
): string {
  return `reconcile/${kind}/${k8sNamespace || CLUSTER_SCOPE_SEGMENT}/${name}`;
}
