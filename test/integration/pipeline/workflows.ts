// Test-only bundle entry: every orchestrator workflow including the Pipeline's (until
// src/workflows/index.ts exports pipelineWorkflow, which is not this suite's file to edit).
export { functionWorkflow } from '../../../src/workflows/function-workflow.js';
export { pipelineWorkflow } from '../../../src/workflows/pipeline-workflow.js';
