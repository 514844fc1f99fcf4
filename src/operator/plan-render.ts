// What `layer render` shows, as a pure function: for a set of resources (as a person would apply
// them), every object the operator would create, then each workload with the status it would
// write. Both come from the operator's own pass (planReconcilePass + finalStatus), fed what a first
// pass observes — the workload just applied, no Deployment yet — and an engine that accepts the
// spec, so render cannot drift from what the operator writes.
import { helmDefaultInfraRules } from '../api/defaults.js';
import type { InfraRules } from '../api/infra-rules.js';
import { isWorkload, type LayerResource, type Workload } from '../api/parse.js';
import type { VectorStore } from '../api/vector-store.js';
import { FINALIZER } from './finalizer.js';
import type { PlannedObject } from './plan-types.js';
import { planReconcilePass } from './reconcile/plan-pass.js';
import { finalStatus } from './reconcile/status.js';
import type { EngineResult, RawObject } from './reconcile-types.js';
import type { OperatorSettings } from './settings.js';
import { workflowRunning } from './workload-workflows.js';

export interface RenderResult {
  /** Objects to apply, workload by workload, in apply order. */
  objects: PlannedObject[];
  /** Each workload (defaults filled in) with the status the operator would write. */
  workloads: Workload[];
}

/**
 * Plan every workload in `resources`. With no InfraRules among them the Helm default pools apply
 * (what a stock install has); with a VectorStore its inbound auth decides the worker bearer.
 */
export function renderResources(
  resources: readonly LayerResource[],
  settings: OperatorSettings,
  now: string,
): RenderResult {
  const infraRules =
    resources.find((r): r is InfraRules => r.kind === 'InfraRules') ?? helmDefaultInfraRules();
  const store = resources.find((r): r is VectorStore => r.kind === 'VectorStore');
  const objects: PlannedObject[] = [];
  const workloads: Workload[] = [];
  for (const w of resources.filter(isWorkload)) {
    const applied: RawObject = {
      ...(w as unknown as RawObject),
      metadata: { ...w.metadata, generation: w.metadata.generation ?? 1, finalizers: [FINALIZER] },
    };
    const plan = planReconcilePass({
      observed: {
        ref: { kind: w.kind, namespace: w.metadata.namespace ?? 'default', name: w.metadata.name },
        object: applied,
        infraRules: infraRules as unknown as RawObject,
        owned: [],
        worker: { podProblems: [] },
        defaultVectorStore: (store as unknown as RawObject | undefined) ?? null,
      },
      settings,
    });
    objects.push(...plan.apply);
    const engine: EngineResult | undefined =
      plan.engine.action === 'sync'
        ? workflowRunning(plan.engine.spec.paused ?? false, plan.engine.spec.generation ?? 0)
        : undefined;
    const status = plan.status ? finalStatus(plan.status, engine, now).status : undefined;
    workloads.push({ ...w, ...(status ? { status } : {}) } as Workload);
  }
  return { objects, workloads };
}
