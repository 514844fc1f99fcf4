// Index discovery (install.md `operator.discovery.*`, `indexGc`): on an interval the operator lists
// the store's namespaces and creates one Index CR for each namespace no Index claims, labelled as
// discovered; with GC on, it deletes discovered Index CRs whose namespace was hard-deleted
// upstream. User-authored Index CRs (no discovered label) are never created, changed or deleted.
// Runs on the replica that holds the watcher's Lease, so two replicas never race to create.
import { createHash } from 'node:crypto';
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/group.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { MANAGED_BY, LABEL } from './labels.js';
import type { RawObject } from './reconcile-types.js';

/** Label on every Index CR the operator discovered (the only ones it may delete). */
export const DISCOVERED_LABEL = 'hevlayer.com/discovered';

export interface DiscoveryPlan {
  create: { name: string; namespace: string }[];
  /** Names (in the index namespace) of discovered Index CRs whose store namespace is gone. */
  remove: string[];
}

/** The Turbopuffer namespace an Index manages: spec.namespace, else its name. */
function managedNamespace(index: RawObject): string {
  return ((index.spec as { namespace?: string } | undefined)?.namespace ?? index.metadata?.name) as string;
}

function isDiscovered(index: RawObject): boolean {
  return index.metadata?.labels?.[DISCOVERED_LABEL] === 'true';
}

/**
 * A valid Index name (DNS subdomain, ≤ 253; we keep ≤ 63) for a store namespace: lowercase, other
 * characters to '-', and a hash suffix whenever that changed anything, so `Foo_bar` and `foo-bar`
 * cannot collide.
 */
export function discoveredIndexName(storeNamespace: string): string {
  const cleaned = storeNamespace
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (cleaned === storeNamespace && cleaned.length > 0 && cleaned.length <= 63) return cleaned;
  const hash = createHash('sha256').update(storeNamespace).digest('hex').slice(0, 8);
  return `${(cleaned || 'ns').slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/**
 * Pure: what one discovery tick does. `indexes` are every Index CR in the cluster (a namespace is
 * claimed by any of them); only discovered ones in `indexNamespace` are candidates for GC.
 */
export function planIndexDiscovery(input: {
  storeNamespaces: readonly string[];
  indexes: readonly RawObject[];
  indexNamespace: string;
  gc: boolean;
}): DiscoveryPlan {
  const claimed = new Set(input.indexes.map(managedNamespace));
  const taken = new Set(
    input.indexes
      .filter((i) => (i.metadata?.namespace ?? '') === input.indexNamespace)
      .map((i) => i.metadata?.name ?? ''),
  );
  const create: DiscoveryPlan['create'] = [];
  for (const ns of [...input.storeNamespaces].sort()) {
    if (claimed.has(ns)) continue;
    const name = discoveredIndexName(ns);
    // A user's Index already holds the name (for another namespace): leave this one undiscovered
    // rather than touch theirs.
    if (taken.has(name)) continue;
    taken.add(name);
    create.push({ name, namespace: ns });
  }
  const present = new Set(input.storeNamespaces);
  const remove = input.gc
    ? input.indexes
        .filter(
          (i) =>
            isDiscovered(i) &&
            (i.metadata?.namespace ?? '') === input.indexNamespace &&
            !present.has(managedNamespace(i)),
        )
        .map((i) => i.metadata!.name!)
        .sort()
    : [];
  return { create, remove };
}

export interface IndexDiscoveryOptions {
  kubeConfig: KubeConfig;
  store: StoreClient;
  /** Kubernetes namespace the discovered Index CRs are created in. */
  indexNamespace: string;
  intervalMs: number;
  gc: boolean;
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface IndexDiscovery {
  start(): void;
  stop(): Promise<void>;
  /** One tick now (tests; also what the interval runs). */
  tick(): Promise<DiscoveryPlan>;
}

/**
 * @example
 * const discovery = createIndexDiscovery({ kubeConfig, store, indexNamespace: 'layer', intervalMs: 60_000, gc: true });
 * discovery.start(); // on the leader; discovery.stop() when it stands by
 */
export function createIndexDiscovery(opts: IndexDiscoveryOptions): IndexDiscovery {
  const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const log = opts.log ?? (() => undefined);
  const target = { group: GROUP, version: VERSION, plural: 'indexes' };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  async function tick(): Promise<DiscoveryPlan> {
    const [storeNamespaces, list] = await Promise.all([
      opts.store.listNamespaces(),
      custom.listClusterCustomObject(target) as Promise<{ items?: RawObject[] }>,
    ]);
    const plan = planIndexDiscovery({
      storeNamespaces,
      indexes: list.items ?? [],
      indexNamespace: opts.indexNamespace,
      gc: opts.gc,
    });
    for (const c of plan.create) {
      try {
        await custom.createNamespacedCustomObject({
          ...target,
          namespace: opts.indexNamespace,
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'Index',
            metadata: {
              name: c.name,
              namespace: opts.indexNamespace,
              labels: { [DISCOVERED_LABEL]: 'true', [LABEL.managedBy]: MANAGED_BY },
            },
            spec: { namespace: c.namespace },
          },
        });
      } catch (err) {
        // Someone created it between our list and this call: theirs stands.
        if (!(err instanceof ApiException && err.code === 409)) throw err;
      }
    }
    for (const name of plan.remove) {
      try {
        await custom.deleteNamespacedCustomObject({ ...target, namespace: opts.indexNamespace, name });
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 404)) throw err;
      }
    }
    if (plan.create.length > 0 || plan.remove.length > 0)
      log('index discovery', {
        created: plan.create.map((c) => c.namespace),
        removed: plan.remove,
        indexNamespace: opts.indexNamespace,
      });
    return plan;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) =>
          log('index discovery failed; retrying next interval', { error: String(err) }),
        )
        .finally(schedule);
    }, opts.intervalMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = tick()
        .catch((err: unknown) =>
          log('index discovery failed; retrying next interval', { error: String(err) }),
        )
        .finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    tick,
  };
}
