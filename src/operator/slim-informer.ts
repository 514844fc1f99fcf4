// An informer that caches a projection of each object rather than the object (docs/adr/0133):
// the watcher's caches held one full copy of every object of the fleet.
import {
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { RawObject } from './reconcile-types.js';

export type Cached = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

/** Drop `metadata.managedFields`, which the watcher never reads (the default of slimInformer). */
function withoutManagedFields(o: RawObject): RawObject {
  const metadata = o?.metadata as { managedFields?: unknown } | undefined;
  if (metadata?.managedFields) delete metadata.managedFields;
  return o;
}

/**
 * An informer whose cache keeps of each object only `keep(object)`: by default the object without
 * `metadata.managedFields`, which the watcher never reads — on a server-side-applied object (every
 * Deployment and ScaledObject the operator applies, every CR the operator patches) they are much
 * of its size, and the operator held one copy per object of the fleet (issue 23: the operator's
 * memory with 500 Functions). The watcher passes the projections of watch-rules.ts, which keep
 * only what its rules read. Applied to listed items and to each watch event before the cache
 * stores it; an ERROR or BOOKMARK event passes as it came.
 */
export function slimInformer(
  kc: KubeConfig,
  path: string,
  list: () => Promise<{ items: KubernetesObject[] }>,
  labelSelector?: string,
  keep: (o: RawObject) => RawObject = withoutManagedFields,
): Cached {
  const project = (o: KubernetesObject) => keep(o as RawObject) as KubernetesObject;
  const watch = new Watch(kc);
  const slimWatch = {
    watch: (...[p, query, cb, done]: Parameters<Watch['watch']>) =>
      watch.watch(
        p,
        query,
        (phase, o, raw) =>
          cb(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? project(o) : o, raw),
        done,
      ),
  } as Watch;
  const slimList = async () => {
    const res = await list();
    return { ...res, items: res.items.map(project) };
  };
  return new ListWatch(path, slimWatch, slimList as never, false, labelSelector);
}
