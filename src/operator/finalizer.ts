// The operator's one finalizer, through one helper. A bare cluster (and any cluster, for the
// Temporal workflow) has nobody else to clean up after a workload, so Functions and Pipelines
// carry `hevlayer.com/finalizer` until the operator has stopped their workflow and deleted their
// objects. Patches are JSON merge patches guarded by resourceVersion: a concurrent writer makes
// the patch fail with 409 and the activity retries on a fresh read, and a patch never recreates
// an object that is already gone (404).
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/group.js';
import { pluralOf } from '../api/crds.js';
import type { ReconcileRef } from '../contracts/reconcile.js';
import type { RawObject } from './reconcile-types.js';

export const FINALIZER = 'hevlayer.com/finalizer';

export function hasFinalizer(obj: RawObject): boolean {
  return (obj.metadata?.finalizers ?? []).includes(FINALIZER);
}

/** The merge patch that adds or removes the finalizer, or undefined when nothing changes. */
function finalizerPatch(obj: RawObject, want: 'add' | 'remove'): Record<string, unknown> | undefined {
  const current = obj.metadata?.finalizers ?? [];
  const has = current.includes(FINALIZER);
  if ((want === 'add') === has) return undefined;
  const finalizers = want === 'add' ? [...current, FINALIZER] : current.filter((f) => f !== FINALIZER);
  return { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers } };
}

/**
 * The merge patch that puts the finalizer and `labels` on a live object, guarded by its
 * resourceVersion, or undefined when it carries them already. A Function's first pass sends it
 * before it lists other Functions (their output claims, ADR 0070), in place of the finalizer's
 * own read and patch.
 */
export function claimPatch(
  obj: RawObject,
  labels: Record<string, string>,
): Record<string, unknown> | undefined {
  const finalizers = obj.metadata?.finalizers ?? [];
  const current = obj.metadata?.labels ?? {};
  const missing = Object.entries(labels).filter(([k, v]) => current[k] !== v);
  const hasIt = finalizers.includes(FINALIZER);
  if (hasIt && missing.length === 0) return undefined;
  return {
    metadata: {
      resourceVersion: obj.metadata?.resourceVersion,
      ...(hasIt ? {} : { finalizers: [...finalizers, FINALIZER] }),
      ...(missing.length > 0 ? { labels: Object.fromEntries(missing) } : {}),
    },
  };
}

/**
 * Add or remove the finalizer on the live object (read fresh). Returns false when the object is
 * gone or already as wanted.
 */
export async function setFinalizer(
  kc: KubeConfig,
  ref: ReconcileRef,
  want: 'add' | 'remove',
): Promise<boolean> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const target = { group: GROUP, version: VERSION, plural: pluralOf(ref.kind), name: ref.name };
  let obj: RawObject;
  try {
    obj = (
      ref.namespace
        ? await custom.getNamespacedCustomObject({ ...target, namespace: ref.namespace })
        : await custom.getClusterCustomObject(target)
    ) as RawObject;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
  // Deletion has started: finalizers may only be removed now.
  if (want === 'add' && obj.metadata?.deletionTimestamp) return false;
  const body = finalizerPatch(obj, want);
  if (body === undefined) return false;
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  try {
    if (ref.namespace)
      await custom.patchNamespacedCustomObject({ ...target, namespace: ref.namespace, body }, merge);
    else await custom.patchClusterCustomObject({ ...target, body }, merge);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
  return true;
}
