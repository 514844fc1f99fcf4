// From a Pipeline CR to the Pipeline engine's PipelineRuntimeSpec: a pure helper, like
// runtime-spec.ts for Functions, so the reconcile workflow hands the engine exactly what the CR
// says (namespaces resolved, worker addressing derived) and nothing else — in particular no
// credential. Schedule and retry are not on the CR, so the engine's schema defaults apply; the
// engine validates the spec again with the same schema.
import type { LayerPipeline } from '../api/pipeline.js';
import { pipelineRuntimeSpecSchema, type PipelineRuntimeSpec } from '../contracts/pipeline.js';
import { runtimeWorker, schemaProblems } from './runtime-spec.js';

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
  const spec: PipelineRuntimeSpec = {
    k8sNamespace: ns,
    name,
    generation: pipeline.metadata.generation ?? 0,
    targetNamespace: s.target.namespace,
    worker: runtimeWorker('Pipeline', ns, name, s.worker),
    paused: s.paused,
  };
  if (s.sourceRef !== undefined) spec.sourceRef = { ...s.sourceRef };
  return spec;
}

/** schemaProblems of a Pipeline's engine spec. */
export function pipelineRuntimeSpecProblems(spec: PipelineRuntimeSpec): string[] {
  return schemaProblems(pipelineRuntimeSpecSchema, spec);
}
