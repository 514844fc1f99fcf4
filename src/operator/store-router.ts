// Which store serves a Turbopuffer namespace, for the orchestrator's store calls in a cluster:
// an Index whose spec.backend.storeRef names a VectorStore routes its namespace to that
// VectorStore's endpoint with the credential from its Secret; every other namespace uses the
// fallback store (LAYER_STORE_URL). Secrets are read here, in the worker process, and never
// enter workflow inputs or history. The table is rebuilt periodically.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION, parseKind, type LayerIndex, type VectorStore } from '../api/index.js';
import { createStoreClient, type StoreClient } from '../../packages/worker/src/store/client.js';

export interface StoreRouter {
  storeFor(namespace: string): StoreClient;
  /** Re-reads Index, VectorStore and Secret objects; returns the routed namespaces. */
  refresh(): Promise<string[]>;
  stop(): void;
}

export interface StoreRouterOptions {
  kubeConfig: KubeConfig;
  fallback: StoreClient;
  refreshMs?: number;
  onError?: (err: unknown) => void;
}

interface Listed {
  items?: unknown[];
}

export async function createStoreRouter(opts: StoreRouterOptions): Promise<StoreRouter> {
  const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  let routes = new Map<string, StoreClient>();
  // One client per (endpoint, credential) so routes to the same store share connections.
  const clients = new Map<string, StoreClient>();

  const refresh = async (): Promise<string[]> => {
    const [indexes, stores] = (await Promise.all([
      custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'indexes' }),
      custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'vectorstores' }),
    ])) as [Listed, Listed];
    const storeByKey = new Map<string, VectorStore>();
    for (const raw of stores.items ?? []) {
      const parsed = parseKind('VectorStore', { ...(raw as object), status: undefined });
      if (parsed.ok) {
        const vs = parsed.resource as VectorStore;
        storeByKey.set(`${vs.metadata.namespace}/${vs.metadata.name}`, vs);
      }
    }
    const next = new Map<string, StoreClient>();
    for (const raw of indexes.items ?? []) {
      const parsed = parseKind('Index', { ...(raw as object), status: undefined });
      if (!parsed.ok) continue;
      const index = parsed.resource as LayerIndex;
      const ref = index.spec.backend?.storeRef?.name;
      if (!ref) continue;
      const vs = storeByKey.get(`${index.metadata.namespace}/${ref}`);
      if (!vs) continue; // the Index's StoreResolved condition already says so
      const secretRef = vs.spec.credential.secretRef;
      const secret = await core
        .readNamespacedSecret({ name: secretRef.name, namespace: vs.metadata.namespace! })
        .catch(() => undefined);
      const encoded = secret?.data?.[secretRef.key];
      if (!encoded) continue; // the VectorStore's CredentialResolved condition already says so
      const apiKey = Buffer.from(encoded, 'base64').toString('utf8');
      const key = `${vs.spec.endpoint.url}\u0000${apiKey}`;
      let client = clients.get(key);
      if (!client) clients.set(key, (client = createStoreClient({ baseUrl: vs.spec.endpoint.url, apiKey })));
      next.set(index.spec.namespace ?? index.metadata.name, client);
    }
    routes = next;
    return [...next.keys()];
  };

  await refresh().catch((err: unknown) => opts.onError?.(err));
  const timer = setInterval(
    () => void refresh().catch((err: unknown) => opts.onError?.(err)),
    opts.refreshMs ?? 30_000,
  );
  timer.unref();
  return {
    storeFor: (namespace) => routes.get(namespace) ?? opts.fallback,
    refresh,
    stop: () => clearInterval(timer),
  };
}
