// Names shared by the operator, the orchestrator's workflows and worker containers. Pure string
// helpers with no imports, so workflow code (Temporal sandbox), the operator and the SDK can all
// use them; every place that needs a task queue, workflow ID or queue-depth URL gets it from here
// instead of repeating a template string.

/** The two workload kinds the operator turns into worker Deployments. */
export type WorkloadKind = 'Function' | 'Pipeline';

/**
 * Task queue a Function's workers poll (pull dispatch) or its workflow dispatches to (push).
 * Kubernetes namespaces are DNS labels (no dots), so `<ns>.<name>` splits uniquely on the first
 * dot even when the name (a DNS subdomain) has dots.
 *
 * @example functionTaskQueue('layer', 'tag-products') // 'layer-fn.layer.tag-products'
 */
export function functionTaskQueue(k8sNamespace: string, name: string): string {
  return `layer-fn.${k8sNamespace}.${name}`;
}

/**
 * Task queue of a Pipeline's workers.
 *
 * @example pipelineTaskQueue('layer', 'product-images') // 'layer-pl.layer.product-images'
 */
export function pipelineTaskQueue(k8sNamespace: string, name: string): string {
  return `layer-pl.${k8sNamespace}.${name}`;
}

/** Task queue for either workload kind. */
export function workloadTaskQueue(kind: WorkloadKind, k8sNamespace: string, name: string): string {
  return kind === 'Function' ? functionTaskQueue(k8sNamespace, name) : pipelineTaskQueue(k8sNamespace, name);
}

/**
 * ID of the long-lived workflow that owns one Function. Deterministic, so a second start is
 * rejected by Temporal instead of creating a duplicate.
 *
 * @example functionWorkflowId('layer', 'tag-products') // 'function/layer/tag-products'
 */
export function functionWorkflowId(k8sNamespace: string, name: string): string {
  return `function/${k8sNamespace}/${name}`;
}

/**
 * ID of the long-lived workflow that owns one Pipeline.
 *
 * @example pipelineWorkflowId('layer', 'product-images') // 'pipeline/layer/product-images'
 */
export function pipelineWorkflowId(k8sNamespace: string, name: string): string {
  return `pipeline/${k8sNamespace}/${name}`;
}

/** Workflow ID for either workload kind. */
export function workloadWorkflowId(kind: WorkloadKind, k8sNamespace: string, name: string): string {
  return kind === 'Function'
    ? functionWorkflowId(k8sNamespace, name)
    : pipelineWorkflowId(k8sNamespace, name);
}

// ---------------------------------------------------------------------------------------------
// Queue depth: the contract between KEDA's metrics-api trigger and the orchestrator HTTP API.
// See docs/adr/0003-keda-metrics-api-contract.md. Changing any of these breaks running
// ScaledObjects until the operator re-applies them.

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

// ---------------------------------------------------------------------------------------------
// Environment of a worker container, set by the operator and read by the worker SDK. Values are
// plain strings (Kubernetes env); numbers are decimal.

export const WorkerEnv = {
  /** Temporal frontend `host:port`. */
  temporalAddress: 'LAYER_TEMPORAL_ADDRESS',
  /** Temporal namespace. */
  temporalNamespace: 'LAYER_TEMPORAL_NAMESPACE',
  /** Temporal API key, from a Secret (only when the operator is configured with one). */
  temporalApiKey: 'LAYER_TEMPORAL_API_KEY',
  /** Task queue to poll (pull) or that dispatches to this worker (push). */
  taskQueue: 'LAYER_TASK_QUEUE',
  /** `Function` or `Pipeline`. */
  workloadKind: 'LAYER_WORKLOAD_KIND',
  /** Kubernetes namespace of the workload CR. */
  workloadNamespace: 'LAYER_WORKLOAD_NAMESPACE',
  /** Name of the workload CR. */
  workloadName: 'LAYER_WORKLOAD_NAME',
  /** `pull` or `push`. */
  dispatch: 'LAYER_DISPATCH',
  /** Port a push worker serves `/run` on. */
  port: 'LAYER_PORT',
  /** Rows (Functions) or work items (Pipelines) per batch. */
  batchSize: 'LAYER_BATCH_SIZE',
  /** Worker call timeout in seconds. */
  timeoutSeconds: 'LAYER_TIMEOUT_SECONDS',
  /**
   * Claims one worker process runs at once (each runs one batch at a time). The operator sets
   * it to the workload's maxInFlightBatches; the global bound is the workflow's, not this.
   */
  concurrency: 'LAYER_WORKER_CONCURRENCY',
  /** Orchestrator HTTP API base URL. */
  apiBaseUrl: 'LAYER_API_URL',
  /** Bearer for the orchestrator/gateway API, from a Secret (absent when inbound auth is open). */
  apiKey: 'LAYER_API_KEY',
  /** Turbopuffer-compatible store (the gateway) pull workers read rows from and write outputs to. */
  storeUrl: 'LAYER_STORE_URL',
  /** Bearer for that store, from the same Secret as apiKey. */
  storeApiKey: 'LAYER_STORE_API_KEY',
  /** Pipeline only: Turbopuffer namespace the pipeline writes. */
  targetNamespace: 'LAYER_TARGET_NAMESPACE',
  /** Pipeline only: spec.sourceRef as JSON, exactly as written. */
  sourceRef: 'LAYER_SOURCE_REF',
} as const;

// ---------------------------------------------------------------------------------------------
// Reconcile workflows (docs/adr/0020-reconcile-as-workflow.md). One ID per resource: every event
// for the same object signals-with-start the same workflow, so a burst collapses into one pass
// and two operator replicas can never reconcile one object concurrently.

/** The five kinds the operator reconciles (mirrors src/api/group.ts KINDS, sandbox-safe). */
export type ReconcileKind = 'VectorStore' | 'Index' | 'InfraRules' | 'Pipeline' | 'Function';

/** Namespace segment used for cluster-scoped objects (no Kubernetes namespace can be `-`). */
export const CLUSTER_SCOPE_SEGMENT = '-';

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
