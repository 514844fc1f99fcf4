// VectorStore: status only, from the probe activity's conditions (credential, endpoint, and in
// keys mode the worker bearer). Pure.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import type { VectorStore } from '../../api/vector-store.js';
import { type ConditionInput } from '../reconcile-conditions.js';
import type { ObservedState, ReconcilePlan, StoreProbe } from '../reconcile-types.js';
import { parsedOrPlan, statusOnly, valid } from './planner-parts.js';

export function planVectorStorePass(observed: ObservedState, probe: StoreProbe | undefined): ReconcilePlan {
  const read = parsedOrPlan('VectorStore', observed);
  if ('plan' in read) return read.plan;
  const store = read.resource as VectorStore;
  const notChecked = (type: string): ConditionInput => ({
    type,
    status: 'Unknown',
    reason: ConditionReason.NotChecked,
    message: 'not checked yet',
  });
  return statusOnly(
    read.obj,
    [
      valid(),
      probe?.credential ?? notChecked(ConditionType.CredentialResolved),
      probe?.endpoint ?? notChecked(ConditionType.EndpointReachable),
      ...(probe?.workerKey ? [probe.workerKey] : []),
    ],
    `${store.spec.endpoint.url} reachable; inbound auth ${store.spec.inboundAuth.mode}`,
  );
}
