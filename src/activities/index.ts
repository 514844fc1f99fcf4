// Activity factories of the orchestrator's Worker. Workflows import this module's TYPES only.
export {
  createFunctionActivities,
  type FunctionActivities,
  type FunctionActivityDeps,
} from './function-activities.js';
export {
  createPipelineActivities,
  type PipelineActivities,
  type PipelineActivityDeps,
} from './pipeline-activities.js';
