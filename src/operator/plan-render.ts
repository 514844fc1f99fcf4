// What `layer render` shows, as a pure function: for a set of resources (as a person would apply
// them), every object the operator would create, then each workload with the status it would write.
import { helmDefaultInfraRules } from '../api/defaults.js';
import type { InfraRules } from '../api/infra-rules.js';
import { isWorkload, type LayerResource, type Workload } from '../api/parse.js';
import type { VectorStore } from '../api/vector-store.js';
import { planWorkload } from './plan.js';
import { buildStatus } from './plan-status.js';
import type { PlannedObject, WorkloadPlan } from './plan-types.js';
import { withVectorStore, type OperatorSettings } from './settings.js';

export interface RenderResult {
  /** Objects to apply, workload by workload, in apply order. */
  objects: PlannedObject[];
  /** Each workload (defaults filled in) with the status the operator would write. */
  workloads: Workload[];
  plans: WorkloadPlan[];
  /** Which InfraRules was used: the one given or the Helm default. */
  infraRulesSource: 'input' | 'helm-default';
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
  const given = resources.find((r): r is InfraRules => r.kind === 'InfraRules');
  const infraRules = given ?? helmDefaultInfraRules();
  const store = resources.find((r): r is VectorStore => r.kind === 'VectorStore');
  const effective = store ? withVectorStore(settings, store) : settings;
  const objects: PlannedObject[] = [];
  const workloads: Workload[] = [];
  const plans: WorkloadPlan[] = [];
  for (const w of resources.filter(isWorkload)) {
    const plan = planWorkload({ workload: w, infraRules }, effective);
    plans.push(plan);
    objects.push(...plan.apply);
    workloads.push({ ...w, status: buildStatus(w, plan, now) } as Workload);
  }
  return { objects, workloads, plans, infraRulesSource: given ? 'input' : 'helm-default' };
}
