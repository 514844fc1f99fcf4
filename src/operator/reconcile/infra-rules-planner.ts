// InfraRules: status only (the schema allows one object, named default; other names get
// SchemaInvalid quoting why). Pure.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import type { InfraRules } from '../../api/infra-rules.js';
import { type ConditionInput } from '../reconcile-conditions.js';
import type { ObservedState, ReconcilePlan } from '../reconcile-types.js';
import { parsedOrPlan, statusOnly, valid } from './planner-parts.js';

export function planInfraRulesPass(observed: ObservedState): ReconcilePlan {
  const read = parsedOrPlan('InfraRules', observed);
  if ('plan' in read) return read.plan;
  const rules = read.resource as InfraRules;
  const cache = rules.spec.documentCache;
  const cacheCondition: ConditionInput = cache
    ? {
        type: ConditionType.DocumentCacheValid,
        status: 'True',
        reason: ConditionReason.CacheValid,
        message: `documentCache: ${cache.capGiB} GiB, replicationFactor ${cache.replicationFactor}, ${cache.scaling.mode} on ${cache.scaling.nodes.min}..${cache.scaling.nodes.max} nodes`,
      }
    : {
        type: ConditionType.DocumentCacheValid,
        status: 'True',
        reason: ConditionReason.NoDocumentCache,
        message: 'no documentCache declared',
      };
  const pools = rules.spec.computePools.map((p) => p.name);
  return statusOnly(read.obj, [valid(), cacheCondition], `pools: ${pools.join(', ') || '(none)'}`, { pools });
}
