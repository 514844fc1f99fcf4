// Test-only workflow bundle entry: the reconcile workflow, as src/workflows/index.ts will export it.
export { reconcileWorkflow } from '../../../src/workflows/reconcile-workflow.js';
