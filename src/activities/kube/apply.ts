// Apply and delete the Kubernetes objects a plan names. Server-side apply (field manager
// layer-operator, force), all of a workload's objects at once: they reference each other by name
// only, so no order is needed.
import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { OPERATOR_FIELD_MANAGER } from '../../api/group.js';
import { specFingerprint } from '../../contracts/fingerprint.js';
import type { ObjectRef, PlannedObject, ReplicasHandover } from '../../operator/plan-types.js';
import { REPLICAS_HANDOVER_FIELD_MANAGER } from '../../operator/replicas-handover.js';
import type { RawObject } from '../../operator/reconcile-types.js';
import { kubeCall, orNull } from './kube-calls.js';
import { objectKey, versionOf, type Versions } from './observe.js';

/** Bound on remembered applies (a few per workload); past it the memory is dropped, costing one apply each. */
const MAX_REMEMBERED_APPLIES = 20_000;

export function createApply(objects: KubernetesObjectApi) {
  /** What this process last applied per object: the desired form's hash and the version it left. */
  const lastApplied = new Map<string, { hash: string; version: string }>();

  /**
   * An object whose desired form this process applied before, and whose generation
   * (resourceVersion for kinds without one) is still what that apply left, is skipped: nobody
   * changed it, so applying it again changes nothing. A foreign edit moves the generation, and the
   * next pass restores the object.
   */
  async function applyObjects(
    objs: PlannedObject[],
    current: Versions = new Map(),
  ): Promise<{ applied: number; skipped: number }> {
    const work = objs.map((obj) => {
      const key = objectKey(obj);
      const hash = specFingerprint(obj);
      const last = lastApplied.get(key);
      const now = current.get(key);
      const unchanged = last !== undefined && now !== undefined && last.hash === hash && last.version === now;
      return { obj, key, hash, unchanged };
    });
    await kubeCall(() =>
      Promise.all(
        work
          .filter((w) => !w.unchanged)
          .map(async (w) => {
            const res = (await objects.patch(
              w.obj as KubernetesObject,
              undefined,
              undefined,
              OPERATOR_FIELD_MANAGER,
              true,
              PatchStrategy.ServerSideApply,
            )) as RawObject;
            const version = versionOf(res);
            if (version !== undefined) lastApplied.set(w.key, { hash: w.hash, version });
            else lastApplied.delete(w.key);
          }),
      ),
    );
    if (lastApplied.size > MAX_REMEMBERED_APPLIES) lastApplied.clear();
    const skipped = work.filter((w) => w.unchanged).length;
    return { applied: work.length - skipped, skipped };
  }

  /**
   * The hand-over field manager's apply of an autoscaled Deployment's replicas, after the
   * operator's own (docs/adr/0128). Forced: it only ever writes the value the operator declared
   * or observed, and KEDA re-scales at its next poll should the two have crossed.
   */
  async function applyReplicasHandover(handover: ReplicasHandover): Promise<void> {
    await kubeCall(() =>
      objects.patch(
        handover as KubernetesObject,
        undefined,
        undefined,
        REPLICAS_HANDOVER_FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }

  /** Delete operator objects (already-missing ones are fine). No GC runs, so this is the cleanup. */
  async function deleteObjects(k8sNamespace: string, refs: ObjectRef[]): Promise<number> {
    return kubeCall(async () => {
      const gone = await Promise.all(
        refs.map((o) => {
          const metadata = { name: o.name, namespace: k8sNamespace };
          lastApplied.delete(objectKey({ ...o, metadata }));
          return orNull(() =>
            objects.delete(
              { apiVersion: o.apiVersion, kind: o.kind, metadata },
              undefined,
              undefined,
              undefined,
              undefined,
              'Background',
            ),
          );
        }),
      );
      return gone.filter((g) => g !== null).length;
    });
  }

  return { applyObjects, applyReplicasHandover, deleteObjects };
}
