// Labels on every object the operator plans. The selector subset is immutable on a Deployment, so
// it holds only what never changes for a workload: its kind and name.
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import { labelValue } from './names.js';

export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  kind: 'hevlayer.com/kind',
  workloadName: 'hevlayer.com/name',
} as const;

/** Value of app.kubernetes.io/managed-by; informers select the operator's objects with it. */
export const MANAGED_BY = 'layer-operator';

/** Labels that select a workload's pods (Deployment selector, Service selector). */
export function selectorLabels(kind: WorkloadKind, name: string): Record<string, string> {
  return { [LABEL.kind]: kind, [LABEL.workloadName]: labelValue(name) };
}

/** All labels of a workload's objects and pods. */
export function workloadLabels(kind: WorkloadKind, name: string): Record<string, string> {
  return {
    [LABEL.name]: 'layer-worker',
    [LABEL.instance]: labelValue(name),
    [LABEL.component]: kind === 'Function' ? 'function-worker' : 'pipeline-worker',
    [LABEL.partOf]: 'hev-layer',
    [LABEL.managedBy]: MANAGED_BY,
    ...selectorLabels(kind, name),
  };
}
