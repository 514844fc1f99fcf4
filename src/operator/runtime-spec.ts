// From a Function CR to the engine's FunctionRuntimeSpec: a pure helper, so the reconcile workflow
// hands the engine exactly what the CR says (defaults applied, namespaces resolved) and nothing
// else — in particular no credential. The engine validates it again with the same schema.
import type { LayerFunction } from '../api/function.js';
import { functionRuntimeSpecSchema, type FunctionRuntimeSpec } from '../contracts/function.js';
import { functionTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { workloadObjectName } from './names.js';

/** Output version the engine uses when the CR omits spec.output.version. */
const DEFAULT_OUTPUT_VERSION = 'v1';

/**
 * In-cluster URL of a push worker: the Service the planner creates for it, on worker.port.
 *
 * @example functionPushUrl('layer', 'tag-products', 8080) // 'http://layer-fn-tag-products.layer.svc:8080'
 */
export function functionPushUrl(k8sNamespace: string, name: string, port: number): string {
  return `http://${workloadObjectName('Function', name)}.${k8sNamespace}.svc:${port}`;
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
  const worker: FunctionRuntimeSpec['worker'] = {
    dispatch: s.worker.dispatch,
    batchSize: s.worker.batchSize,
    timeoutSeconds: s.worker.timeoutSeconds,
  };
  if (s.worker.rateLimit) worker.rateLimit = { ...s.worker.rateLimit };
  if (s.worker.dispatch === 'push') worker.pushUrl = functionPushUrl(ns, fn.metadata.name, s.worker.port);
  else worker.taskQueue = functionTaskQueue(ns, fn.metadata.name);
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
    worker,
    schedule: { ...s.schedule },
    retry: { ...s.retry },
    paused: s.paused,
  };
  if (s.filter !== undefined) spec.filter = s.filter;
  if (s.rollout) spec.rollout = { canaryRows: s.rollout.canaryRows };
  return spec;
}

/**
 * Problems the engine's schema would refuse (e.g. maxInFlightBatches above the engine's 500), as
 * `path: message` strings; empty when the spec is acceptable. The reconcile turns them into a
 * condition instead of retrying a call that cannot succeed until the spec changes.
 */
export function runtimeSpecProblems(spec: FunctionRuntimeSpec): string[] {
  const r = functionRuntimeSpecSchema.safeParse(spec);
  if (r.success) return [];
  return r.error.issues.map((i) => `spec.${i.path.map(String).join('.')}: ${i.message}`);
}
