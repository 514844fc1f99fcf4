// Custom search attributes every Layer workflow carries, so a person can filter the Temporal
// UI by kind, name or target namespace. The dev-server harness registers exactly this list;
// a production namespace needs the same (`temporal operator search-attribute create`, see
// docker-compose.yml). Sandbox-safe: imported by workflows.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  /** Function | Pipeline | Reconcile */
  LayerKind: 'Keyword',
  /** metadata.name of the custom resource */
  LayerName: 'Keyword',
  /** metadata.namespace of the custom resource (Kubernetes namespace, or "local") */
  LayerK8sNamespace: 'Keyword',
  /** Turbopuffer namespaces the workload reads or writes */
  LayerTargetNamespace: 'KeywordList',
  /** running | paused | idle | failed */
  LayerPhase: 'Keyword',
} as const;

export const LayerKindKey = defineSearchAttributeKey('LayerKind', SearchAttributeType.KEYWORD);
export const LayerNameKey = defineSearchAttributeKey('LayerName', SearchAttributeType.KEYWORD);
export const LayerK8sNamespaceKey = defineSearchAttributeKey(
  'LayerK8sNamespace',
  SearchAttributeType.KEYWORD,
);
export const LayerTargetNamespaceKey = defineSearchAttributeKey(
  'LayerTargetNamespace',
  SearchAttributeType.KEYWORD_LIST,
);
export const LayerPhaseKey = defineSearchAttributeKey('LayerPhase', SearchAttributeType.KEYWORD);

/** What a Function or Pipeline workflow starts with (its phase then moves on in the workflow). */
export function workloadSearchAttributes(
  kind: 'Function' | 'Pipeline',
  spec: { name: string; k8sNamespace: string; paused?: boolean },
  targetNamespaces: string[],
): SearchAttributePair[] {
  return [
    { key: LayerKindKey, value: kind },
    { key: LayerNameKey, value: spec.name },
    { key: LayerK8sNamespaceKey, value: spec.k8sNamespace },
    { key: LayerTargetNamespaceKey, value: targetNamespaces },
    { key: LayerPhaseKey, value: spec.paused ? 'paused' : 'running' },
  ];
}
