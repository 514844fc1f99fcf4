// Bundle entry of the orchestrator's workflows (Worker `workflowsPath`). Workflow function
// names are their wire types: renaming one breaks running workflows.
export { functionWorkflow } from './function-workflow.js';
export { pipelineWorkflow } from './pipeline-workflow.js';
export { reconcileWorkflow } from './reconcile-workflow.js';
export { rateLimitWorkflow } from './rate-limit-workflow.js';
