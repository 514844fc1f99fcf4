// Index: status only — does its VectorStore exist, and is it the one Index managing its store
// namespace (the oldest claimant wins). Pure.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import type { LayerIndex } from '../../api/index-resource.js';
import { parseKind } from '../../api/parse.js';
import { indexNamespace, namespaceOwner } from '../index-selector.js';
import { type ConditionInput } from '../reconcile-conditions.js';
import type { ObservedState, ReconcilePlan } from '../reconcile-types.js';
import { forParsing, parsedOrPlan, statusOnly, valid } from './planner-parts.js';

export function planIndexPass(observed: ObservedState): ReconcilePlan {
  const read = parsedOrPlan('Index', observed);
  if ('plan' in read) return read.plan;
  const index = read.resource as LayerIndex;
  const k8sNamespace = index.metadata.namespace ?? 'default';
  const storeRef = index.spec.backend?.storeRef?.name;
  const store: ConditionInput =
    storeRef === undefined
      ? {
          type: ConditionType.StoreResolved,
          status: 'True',
          reason: ConditionReason.DefaultStore,
          message: 'served by the default VectorStore',
        }
      : (observed.vectorStores ?? []).includes(storeRef)
        ? {
            type: ConditionType.StoreResolved,
            status: 'True',
            reason: ConditionReason.StoreFound,
            message: `served by VectorStore ${k8sNamespace}/${storeRef}`,
          }
        : {
            type: ConditionType.StoreResolved,
            status: 'False',
            reason: ConditionReason.StoreNotFound,
            message: `backend.storeRef names VectorStore ${storeRef}, which does not exist in namespace ${k8sNamespace}; create it or fix the name`,
          };
  const storeNamespace = indexNamespace(index);
  const claimants = (observed.indexes ?? []).flatMap((r) => {
    const p = parseKind('Index', forParsing(r));
    return p.ok && indexNamespace(p.resource as LayerIndex) === storeNamespace
      ? [p.resource as LayerIndex]
      : [];
  });
  const owner = namespaceOwner(claimants.length > 0 ? claimants : [index]);
  const mine =
    owner === undefined ||
    (owner.metadata.name === index.metadata.name && owner.metadata.namespace === index.metadata.namespace);
  const unique: ConditionInput = mine
    ? {
        type: ConditionType.NamespaceUnique,
        status: 'True',
        reason: ConditionReason.Unique,
        message: `manages namespace ${storeNamespace}`,
      }
    : {
        type: ConditionType.NamespaceUnique,
        status: 'False',
        reason: ConditionReason.DuplicateNamespace,
        message: `namespace ${storeNamespace} is already managed by Index ${owner.metadata.namespace ?? ''}/${owner.metadata.name}; one Index per namespace — delete this one or change spec.namespace`,
      };
  return statusOnly(read.obj, [valid(), store, unique], `manages namespace ${storeNamespace}`);
}
