// The worker SDK: what Function and Pipeline worker images import.
export {
  runFunctionWorker,
  createPushServer,
  createFunctionBatchActivity,
  StoreEnv,
  type FunctionHandler,
  type FunctionOutput,
  type BatchContext,
  type PushServer,
  type RunFunctionWorkerOptions,
} from './function-worker.js';
export type { BatchRow, RunBatchRequest, RunBatchResponse } from '../contracts/function.js';
export {
  runPipelineWorker,
  createPipelinePushServer,
  createPipelineBatchActivity,
  type ProcessFn,
  type ProcessContext,
  type RunPipelineWorkerOptions,
} from './pipeline-worker.js';
export { S3PayloadCodec, s3DataConverter, s3PayloadCodecConfigSchema } from '../codec/s3-payload-codec.js';
