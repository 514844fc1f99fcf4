// From a Pipeline CR to the Pipeline engine's PipelineRuntimeSpec: a pure helper, like
// runtime-spec.ts for Functions, so the reconcile workflow hands the engine exactly what the CR
// says (namespaces resolved, worker addressing derived) and nothing else — in particular no
// credential. Schedule and retry are not on the CR, so the engine's schema defaults apply; the
// engine validates the spec again with the same schema.
import type { LayerPipeline } from '../api/pipeline.js';
import { pipelineTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { pipelineRuntimeSpecSchema, type PipelineRuntimeSpec } from '../contracts/pipeline.js';
import { workloadObjectName } from './names.js';

/**
 * In-cluster base URL of a Pipeline's push worker: the Service the planner creates for it, on
 * worker.port (the engine POSTs batches to `<url>/process`).
 *
 * @example pipelinePushUrl('layer', 'product-images', 8080) // 'http://layer-pl-product-images.layer.svc:8080'
 */
export function pipelinePushUrl(k8sNamespace: string, name: string, port: number): string {
  return `http://${workloadObjectName('Pipeline', name)}.${k8sNamespace}.svc:${port}`;
}

/**
 * The engine spec of a Pipeline CR.
 *
 * @example
 * const spec = toPipelineRuntimeSpec(pipeline);
 * await startOrUpdatePipeline(client, spec);
 */
export function toPipelineRuntimeSpec(pipeline: LayerPipeline): PipelineRuntimeSpec {
  const ns = pipeline.metadata.namespace ?? 'default';
  const name = pipeline.metadata.name;
  const s = pipeline.spec;
  const worker: PipelineRuntimeSpec['worker'] = {
    dispatch: s.worker.dispatch,
    batchSize: s.worker.batchSize,
    timeoutSeconds: s.worker.timeoutSeconds,
  };
  if (s.worker.rateLimit) worker.rateLimit = { ...s.worker.rateLimit };
  if (s.worker.dispatch === 'push') worker.pushUrl = pipelinePushUrl(ns, name, s.worker.port);
  else worker.taskQueue = pipelineTaskQueue(ns, name);
  const spec: PipelineRuntimeSpec = {
    k8sNamespace: ns,
    name,
    generation: pipeline.metadata.generation ?? 0,
    targetNamespace: s.target.namespace,
    worker,
    paused: s.paused,
  };
  if (s.sourceRef !== undefined) spec.sourceRef = { ...s.sourceRef };
  return spec;
}

/**
 * Problems the engine's schema would refuse, as `spec.path: message` strings; empty when the
 * spec is acceptable. The reconcile turns them into a condition instead of retrying a call that
 * cannot succeed until the spec changes.
 */
export function pipelineRuntimeSpecProblems(spec: PipelineRuntimeSpec): string[] {
  const r = pipelineRuntimeSpecSchema.safeParse(spec);
  if (r.success) return [];
  return r.error.issues.map((i) => `spec.${i.path.map(String).join('.')}: ${i.message}`);
}
