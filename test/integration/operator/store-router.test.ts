// Index backend.storeRef routes the orchestrator's store calls: a namespace whose Index names a
// VectorStore goes to that store's endpoint with the key from its Secret; others use the fallback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { createStoreRouter } from '../../../src/operator/store-router.js';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { kubeConfig } from '../../helpers/servers.js';
import { applyCr, installOperatorPrerequisites, testNamespace } from './harness.js';

let admin: KubeConfig;
let fallbackServer: StoreServer;
let routedServer: StoreServer;
let ns: string;

beforeAll(async () => {
  admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  ns = await testNamespace(admin, 'route');
  fallbackServer = await startStoreServer({ memory: true });
  routedServer = await startStoreServer({ memory: true, apiKeys: ['routed-key'] });
});

afterAll(async () => {
  await fallbackServer?.close();
  await routedServer?.close();
});

describe('store routing by Index backend.storeRef', () => {
  it('sends a routed namespace to its VectorStore with the Secret key, the rest to the fallback', async () => {
    const custom = admin.makeApiClient(CustomObjectsApi);
    await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'routed-store' }, stringData: { apiKey: 'routed-key' } },
    });
    await applyCr(custom, {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'VectorStore',
      metadata: { name: 'routed', namespace: ns },
      spec: {
        endpoint: { url: routedServer.url, region: 'local' },
        credential: { secretRef: { name: 'routed-store', key: 'apiKey' } },
      },
    });
    await applyCr(custom, {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'Index',
      metadata: { name: 'catalogue', namespace: ns },
      spec: { namespace: `catalogue-${ns}`, backend: { storeRef: { name: 'routed' } } },
    });
    const fallback = createStoreClient({ baseUrl: fallbackServer.url });
    const router = await createStoreRouter({ kubeConfig: admin, fallback });
    try {
      expect(await router.refresh()).toContain(`catalogue-${ns}`);
      await router.storeFor(`catalogue-${ns}`).upsertRows(`catalogue-${ns}`, [{ id: 1, title: 'routed' }]);
      await router.storeFor('elsewhere').upsertRows('elsewhere', [{ id: 1, title: 'fallback' }]);
      // The routed store (which requires the Secret's key) got the routed namespace only.
      const routed = createStoreClient({ baseUrl: routedServer.url, apiKey: 'routed-key' });
      expect(await routed.listNamespaces()).toEqual([`catalogue-${ns}`]);
      expect(await fallback.listNamespaces()).toEqual(['elsewhere']);
    } finally {
      router.stop();
    }
  });
});
