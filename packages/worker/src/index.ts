// @hevlayer/worker: what Function and Pipeline worker images import. Explicit named exports; the
// contract types are the wire format the orchestrator speaks to workers.
export { runWorker, type RunWorkerOptions } from './run-worker.js';
export {
  runFunctionWorker,
  createPushServer,
  createFunctionClaimActivity,
  workerConcurrencyFromEnv,
  StoreEnv,
  type FunctionHandler,
  type FunctionOutput,
  type BatchContext,
  type PushServer,
  type RunFunctionWorkerOptions,
} from './function-worker.js';
export type {
  BatchRow,
  RowId,
  RunBatchRequest,
  RunBatchResponse,
  FunctionOutputSpec,
} from './contracts/function.js';
export {
  runPipelineWorker,
  createPipelinePushServer,
  createPipelineClaimActivity,
  type ProcessFn,
  type ProcessContext,
  type PullContext,
  type RunPipelineWorkerOptions,
} from './pipeline-worker.js';
export type { PipelineItem, PipelineDocument, QueuedItem, PipelineBatchInput } from './contracts/pipeline.js';
export type { PipelineRef } from './pipeline-submit.js';
export type { PipelineSource, SourceMessage, SourceHooks } from './sources/source.js';
export { SourceRefError } from './sources/source.js';
export { runSource, holdReason, pipelineSink, type RunSourceOptions } from './sources/run-source.js';
export { sourceFromRef, builtInSources, type SourceFactory } from './sources/from-source-ref.js';
export { createSqsSource, sqsSourceRefSchema, type SqsSourceRef } from './sources/sqs.js';
export { createKafkaSource, kafkaSourceRefSchema, type KafkaSourceRef } from './sources/kafka.js';
export { createS3EventsSource, itemsFromS3Event, type S3EventsSourceRef } from './sources/s3-events.js';
export { itemFromBody } from './sources/message-item.js';
export {
  loadWorkerEnv,
  workerEnvSchema,
  WorkerEnv,
  TemporalEnv,
  PayloadEnv,
  WorkerEnvError,
  type WorkerSettings,
  type WorkerEnvVars,
} from './env.js';
export { nativeConnectionOptions, workerDataConverter } from './temporal-connection.js';
export { S3PayloadCodec, s3DataConverter, s3PayloadCodecConfigSchema } from './codec/s3-payload-codec.js';
export { createStoreClient, type StoreClient } from './store/client.js';
export { RateLimitedError } from './claim-execution/rate-limit-gate.js';
export { startTracing, stopTracing, tracingEnabled, type StartTracingOptions } from './observe/tracing.js';
