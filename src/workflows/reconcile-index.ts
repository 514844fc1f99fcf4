// Bundle entry of the reconcile Worker (src/workers/orchestrator-worker.ts,
// bundleReconcileWorkflows): the reconcile workflow alone, so a run — one per burst of changes to
// one resource — instantiates a handful of modules instead of every Layer workflow's (ADR 0115).
export { reconcileWorkflow } from './reconcile-workflow.js';
