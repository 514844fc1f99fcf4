// Queue depth, the one figure KEDA scales every workload's workers on: batches waiting for a
// worker plus batches a worker holds, and the contract between KEDA's metrics-api trigger and the
// orchestrator HTTP API that serves it (docs/adr/0003-keda-metrics-api-contract.md; changing a
// name breaks running ScaledObjects until the operator re-applies them). Pure and sandbox-safe;
// each kind turns its status into the three numbers (src/operator/workload-workflows.ts for
// Functions, pipelineQueueDepth here for Pipelines).
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import type { PipelineStatus } from './pipeline.js';

/**
 * ceil(pendingRows / batchSize) + inFlightBatches, never negative.
 *
 * @example queueDepthOf(130, 64, 1) // 4
 */
export function queueDepthOf(pendingRows: number, batchSize: number, inFlightBatches: number): number {
  const pending = Math.max(0, pendingRows);
  return Math.ceil(pending / Math.max(1, batchSize)) + Math.max(0, inFlightBatches);
}

/**
 * Queue depth KEDA scales a Pipeline's workers on: batches waiting for or held by a worker.
 * Pure, so the HTTP API computes it from the status query.
 *
 * @example pipelineQueueDepth({ queue: { pending: 130, inFlight: 64, done: 0, failed: 0 }, batchSize: 64, inFlightBatches: 1 }) // 4
 */
export function pipelineQueueDepth(
  status: Pick<PipelineStatus, 'queue' | 'batchSize' | 'inFlightBatches'>,
): number {
  return queueDepthOf(status.queue.pending, status.batchSize, status.inFlightBatches);
}

/**
 * A Function's queue depth from its status. `pendingRows` is the last count of rows lacking the
 * version, which includes the rows already leased in claims; those are counted once, as the
 * batches in flight.
 */
export function functionStatusDepth(
  s: { pendingRows: number; inFlightRows?: number; inFlightBatches: number },
  batchSize: number,
): number {
  return queueDepthOf(Math.max(0, s.pendingRows - (s.inFlightRows ?? 0)), batchSize, s.inFlightBatches);
}

/** Metric a Function's ScaledObject scales on (the trigger's name). */
export const FUNCTION_QUEUE_DEPTH_METRIC = 'layer_udf_queue_depth';
/** Metric a Pipeline's ScaledObject scales on (the trigger's name). */
export const PIPELINE_QUEUE_DEPTH_METRIC = 'layer_pipeline_queue_depth';
/** GJSON path KEDA reads from the response body (`valueLocation`). */
export const QUEUE_DEPTH_VALUE_LOCATION = 'queueDepth';

/** Body of `GET /v1/queue-depth/{functions|pipelines}/<ns>/<name>`. */
export interface QueueDepthResponse {
  /** Batches waiting for or held by a worker of this workload (never negative). */
  queueDepth: number;
  /** FUNCTION_QUEUE_DEPTH_METRIC or PIPELINE_QUEUE_DEPTH_METRIC. */
  metric: string;
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/**
 * Path (relative to the orchestrator API base URL) KEDA polls for one workload's queue depth.
 * Segments are URI-encoded; Kubernetes names never need it, but the helper stays total.
 *
 * @example queueDepthPath('Function', 'layer', 'tag-products')
 * // '/v1/queue-depth/functions/layer/tag-products'
 */
export function queueDepthPath(kind: WorkloadKind, k8sNamespace: string, name: string): string {
  const collection = kind === 'Function' ? 'functions' : 'pipelines';
  return `/v1/queue-depth/${collection}/${encodeURIComponent(k8sNamespace)}/${encodeURIComponent(name)}`;
}

/** Full queue-depth URL for an API base such as `http://layer-orchestrator.layer.svc:8080`. */
export function queueDepthUrl(
  apiBaseUrl: string,
  kind: WorkloadKind,
  k8sNamespace: string,
  name: string,
): string {
  return `${apiBaseUrl.replace(/\/+$/, '')}${queueDepthPath(kind, k8sNamespace, name)}`;
}

/** Queue-depth metric name for a workload kind. */
export function queueDepthMetric(kind: WorkloadKind): string {
  return kind === 'Function' ? FUNCTION_QUEUE_DEPTH_METRIC : PIPELINE_QUEUE_DEPTH_METRIC;
}

/**
 * Metadata keys of the external-push trigger (docs/adr/0131): the operator renders them into the
 * ScaledObject and its gRPC scaler reads them back from KEDA's ScaledObjectRef.
 */
export const SCALER_METADATA = {
  kind: 'kind',
  name: 'name',
  batchSize: 'batchSize',
  targetValue: 'targetValue',
} as const;
