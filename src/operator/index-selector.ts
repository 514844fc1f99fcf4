// Index resolution: which Turbopuffer namespace an Index manages, which Indexes a Function's
// indexSelector matches, and which Index wins when two claim one namespace. Pure.
import type { LabelSelector } from '../api/common.js';
import type { LayerIndex } from '../api/index-resource.js';

/** The Turbopuffer namespace of an Index: spec.namespace, else metadata.name. */
export function indexNamespace(index: Pick<LayerIndex, 'metadata' | 'spec'>): string {
  return index.spec.namespace ?? index.metadata.name;
}

/** metav1 LabelSelector semantics; an empty selector matches everything. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key] as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Sorted, de-duplicated namespaces of the Indexes the selector matches. */
export function resolveTargetNamespaces(
  selector: LabelSelector,
  indexes: readonly Pick<LayerIndex, 'metadata' | 'spec'>[],
): string[] {
  const names = indexes.filter((i) => matchesSelector(selector, i.metadata.labels)).map(indexNamespace);
  return [...new Set(names)].sort();
}

/**
 * The Index that owns `namespace` among those claiming it: the oldest (creationTimestamp), then the
 * smallest `<k8s-namespace>/<name>`, so every replica and every pass picks the same one.
 */
export function namespaceOwner(
  claimants: readonly Pick<LayerIndex, 'metadata'>[],
): Pick<LayerIndex, 'metadata'> | undefined {
  const key = (i: Pick<LayerIndex, 'metadata'>) =>
    `${i.metadata.creationTimestamp ?? '9999'}\u0000${i.metadata.namespace ?? ''}/${i.metadata.name}`;
  return [...claimants].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))[0];
}
