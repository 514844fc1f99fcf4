// Names a worker pod and the orchestrator both use: task queues, workflow IDs and the worker
// container's environment. Pure string helpers with no imports, so workflow code (Temporal
// sandbox), the operator and the SDK can all use them; every place that needs a task queue or
// workflow ID gets it from here instead of repeating a template string. The queue-depth names KEDA
// polls are in src/contracts/queue-depth.ts, reconcile workflow IDs in src/contracts/reconcile.ts.

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
