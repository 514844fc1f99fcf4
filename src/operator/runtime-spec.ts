// From a Function CR to the engine's FunctionRuntimeSpec: a pure helper, so the reconcile workflow
// hands the engine exactly what the CR says (defaults applied, namespaces resolved) and nothing
// else — in particular no credential. The engine validates it again with the same schema.
import type { z } from 'zod';
import type { LayerFunction } from '../api/function.js';
import type { Worker } from '../api/workload.js';
import { functionRuntimeSpecSchema, type FunctionRuntimeSpec } from '../contracts/function.js';
import type { PipelineRuntimeSpec } from '../contracts/pipeline.js';
import { workloadTaskQueue, type WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import { workloadObjectName } from './names.js';

/** Output version the engine uses when the CR omits spec.output.version. */
const DEFAULT_OUTPUT_VERSION = 'v1';

/**
 * In-cluster base URL of a push worker: the Service the planner creates for it, on worker.port
 * (the engine POSTs batches under it).
 *
 * @example workloadPushUrl('Function', 'layer', 'tag-products', 8080) // 'http://layer-fn-tag-products.layer.svc:8080'
 */
export function workloadPushUrl(
  kind: WorkloadKind,
  k8sNamespace: string,
  name: string,
  port: number,
): string {
  return `http://${workloadObjectName(kind, name)}.${k8sNamespace}.svc:${port}`;
}

/**
 * The engine's worker block of a Function or Pipeline: its pace as written, and how the engine
 * reaches it (a push worker's Service, or the task queue a pull worker polls).
 */
export function runtimeWorker(
  kind: WorkloadKind,
  k8sNamespace: string,
  name: string,
  w: Worker,
): FunctionRuntimeSpec['worker'] & PipelineRuntimeSpec['worker'] {
  return {
    dispatch: w.dispatch,
    batchSize: w.batchSize,
    timeoutSeconds: w.timeoutSeconds,
    ...(w.rateLimit ? { rateLimit: { ...w.rateLimit } } : {}),
    ...(w.dispatch === 'push'
      ? { pushUrl: workloadPushUrl(kind, k8sNamespace, name, w.port) }
      : { taskQueue: workloadTaskQueue(kind, k8sNamespace, name) }),
  };
}

/**
 * Problems the engine's schema would refuse, as `spec.path: message` strings; empty when the spec
 * is acceptable. The reconcile turns them into a condition instead of retrying a call that cannot
 * succeed until the spec changes.
 */
export function schemaProblems(schema: z.ZodType, spec: unknown): string[] {
  const r = schema.safeParse(spec);
  if (r.success) return [];
  return r.error.issues.map((i) => `spec.${i.path.map(String).join('.')}: ${i.message}`);
}

/**
 * The engine spec of a Function whose target namespaces are already resolved (targetNamespaces as
 * written, or the namespaces of the Indexes its indexSelector matched).
 *
 * @example
 * const spec = toFunctionRuntimeSpec(fn, fn.spec.targetNamespaces ?? []);
 * await startOrUpdateFunction(client, spec);
 */
export function toFunctionRuntimeSpec(
  fn: LayerFunction,
  targetNamespaces: readonly string[],
): FunctionRuntimeSpec {
  const ns = fn.metadata.namespace ?? 'default';
  const s = fn.spec;
  const spec: FunctionRuntimeSpec = {
    k8sNamespace: ns,
    name: fn.metadata.name,
    generation: fn.metadata.generation ?? 0,
    targetNamespaces: [...targetNamespaces],
    inputs: [...s.inputs],
    output: {
      attribute: s.output.attribute,
      kind: s.output.kind,
      version: s.output.version ?? DEFAULT_OUTPUT_VERSION,
      ...(s.output.dim !== undefined ? { dim: s.output.dim } : {}),
      ...(s.output.inputFingerprint ? { inputFingerprint: true } : {}),
    },
    worker: runtimeWorker('Function', ns, fn.metadata.name, s.worker),
    schedule: { ...s.schedule },
    retry: { ...s.retry },
    paused: s.paused,
  };
  if (s.filter !== undefined) spec.filter = s.filter;
  if (s.rollout) spec.rollout = { canaryRows: s.rollout.canaryRows };
  return spec;
}

/** schemaProblems of a Function's engine spec (e.g. maxInFlightBatches above the engine's 500). */
export function runtimeSpecProblems(spec: FunctionRuntimeSpec): string[] {
  return schemaProblems(functionRuntimeSpecSchema, spec);
}
