// One reconcile pass, planned: a pure function from what the observe activity read (plus the
// VectorStore probe) and the operator settings to what to apply, delete, tell the engine and write
// to status. One planner per kind beside this file; the status the pass writes is ./status.ts.
// The reconcile activity executes the plan; nothing here does I/O or reads a clock.
import type { ReconcilePlan } from '../reconcile-types.js';
import { planIndexPass } from './index-planner.js';
import type { PlanReconcileInput } from './planner-parts.js';
import { planInfraRulesPass } from './infra-rules-planner.js';
import { planVectorStorePass } from './vector-store-planner.js';
import { planWorkloadPass } from './workload-planner.js';

export type { PlanReconcileInput };

/**
 * Plan one reconcile pass for any of the five kinds.
 *
 * @example
 * const plan = planReconcilePass({ observed, settings });
 * // execute: finalizer, plan.apply (SSA), plan.remove, plan.engine, then finalStatus(plan.status, engineResult, now)
 */
export function planReconcilePass(input: PlanReconcileInput): ReconcilePlan {
  switch (input.observed.ref.kind) {
    case 'Function':
    case 'Pipeline':
      return planWorkloadPass(input, input.observed.ref.kind);
    case 'InfraRules':
      return planInfraRulesPass(input.observed);
    case 'VectorStore':
      return planVectorStorePass(input.observed, input.probe);
    case 'Index':
      return planIndexPass(input.observed);
  }
}
