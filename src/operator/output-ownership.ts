// Who owns an output attribute (docs/adr/0070-output-ownership.md). An output attribute with its
// companions (`_v`, `_error`, `_fp`, `__canary`, …) belongs to one Function per store namespace,
// whatever Kubernetes namespace the Functions live in: two writers of one attribute recompute
// each other's rows forever and erase each other's canaries. The owner is the oldest Function
// (creationTimestamp), then the smallest `<k8s-namespace>/<name>`, so every replica and every
// pass picks the same one; any other claimant is refused. Pure.
//
// Every Function carries OUTPUT_CLAIM_LABEL (a hash of its output attribute), so a pass lists only
// the Functions that may conflict with it (claimSelector) instead of every Function in the cluster
// (docs/adr/0114-operator-fleet-costs.md).
import { OUTPUT_COMPANION_SUFFIXES, ownedAttributes } from '../api/store-names.js';
import { shortHash } from './names.js';

/** The label the operator keeps on every Function: which output attribute it claims. */
export const OUTPUT_CLAIM_LABEL = 'hevlayer.com/output';

/**
 * OUTPUT_CLAIM_LABEL's value for an attribute: a hash, because a label value must start and end
 * with a letter or digit and be at most 63 characters, and an attribute need not (`_tags`).
 */
export function outputClaimLabel(attribute: string): string {
  return shortHash(`output-attribute/${attribute}`);
}

/**
 * Every output attribute whose owned attributes meet `attribute`'s (itself included): `b` with
 * `attribute + s1 === b + s2` for companion suffixes s1, s2 (or none) — `tags_v` and `tags`,
 * `tags__canary` and `tags` — so exactly the Functions that can conflict.
 */
export function conflictingAttributes(attribute: string): string[] {
  const suffixes = ['', ...OUTPUT_COMPANION_SUFFIXES];
  const out = new Set<string>();
  for (const s1 of suffixes) {
    const joined = attribute + s1;
    for (const s2 of suffixes)
      if (joined.endsWith(s2) && joined.length > s2.length)
        out.add(joined.slice(0, joined.length - s2.length));
  }
  return [...out].sort();
}

/** The Functions not labelled yet (whatever their attribute): the second of claimSelectors. */
export const UNLABELLED_SELECTOR = `!${OUTPUT_CLAIM_LABEL}`;

/**
 * Label selectors that together list every Function that may conflict with a Function writing
 * `attribute`: those claiming a conflicting attribute, and those not labelled yet (created
 * before their first pass, or before this label existed) — a list never misses a claimant.
 */
export function claimSelectors(attribute: string): [claimants: string, unlabelled: string] {
  const values = [...new Set(conflictingAttributes(attribute).map(outputClaimLabel))].sort();
  return [`${OUTPUT_CLAIM_LABEL} in (${values.join(',')})`, UNLABELLED_SELECTOR];
}

/** What one Function writes, and where. */
export interface OutputClaim {
  namespace: string;
  name: string;
  creationTimestamp?: string | undefined;
  /** Store namespaces it targets (resolved). */
  storeNamespaces: readonly string[];
  /** Its output attribute (the companions are derived). */
  attribute: string;
}

export interface OutputConflict {
  owner: OutputClaim;
  storeNamespace: string;
  /** Attributes both write, sorted. */
  attributes: string[];
}

function orderKey(c: OutputClaim): string {
  return `${c.creationTimestamp ?? '9999'}\u0000${c.namespace}/${c.name}`;
}

/** Whether `a` owns before `b` (older, then smaller namespace/name). */
function ownsBefore(a: OutputClaim, b: OutputClaim): boolean {
  return orderKey(a) < orderKey(b);
}

/**
 * The conflict that refuses `me`: the first (in ownership order) other Function that writes one
 * of my attributes in one of my store namespaces and owns before me. Undefined: `me` owns all it
 * writes. A Function refused for one conflict still counts as a claimant for others (a refusal
 * never hands attributes to a younger Function while an older one is still declared).
 */
export function outputConflict(me: OutputClaim, others: readonly OutputClaim[]): OutputConflict | undefined {
  const mine = new Set(ownedAttributes(me.attribute));
  const myNamespaces = new Set(me.storeNamespaces);
  const older = others
    .filter((o) => !(o.namespace === me.namespace && o.name === me.name) && ownsBefore(o, me))
    .sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : 1));
  for (const o of older) {
    const shared = ownedAttributes(o.attribute)
      .filter((a) => mine.has(a))
      .sort();
    if (shared.length === 0) continue;
    const storeNamespace = [...o.storeNamespaces].sort().find((n) => myNamespaces.has(n));
    if (storeNamespace !== undefined) return { owner: o, storeNamespace, attributes: shared };
  }
  return undefined;
}

/** The refusal, naming the owner and the fix. */
export function conflictMessage(me: Pick<OutputClaim, 'attribute'>, c: OutputConflict): string {
  return (
    `output.attribute ${me.attribute} in store namespace ${c.storeNamespace} is already written by Function ` +
    `${c.owner.namespace}/${c.owner.name} (attribute ${c.owner.attribute}; shared: ${c.attributes.join(', ')}); ` +
    `one Function per output attribute and namespace, the oldest owns it — choose another output.attribute ` +
    `(e.g. ${me.attribute}_2) or delete one of them`
  );
}
