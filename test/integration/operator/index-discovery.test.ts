// Index discovery against the real apiserver (with exactly deploy/operator's ClusterRole) and the
// embedded store: a tick creates one labelled Index per store namespace no Index claims, leaves
// user-authored Index CRs alone, and with GC removes discovered ones whose namespace was
// hard-deleted upstream (never a user's).
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintServiceAccountCredentials } from '../../../src/dev/kube-apiserver.js';
import { DISCOVERED_LABEL, createIndexDiscovery } from '../../../src/operator/index-discovery.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { kubeConfig, temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  OPERATOR_ROLE,
  applyCr,
  eventually,
  installOperatorPrerequisites,
  roleSaid,
  operatorProcessSetup,
  startOperatorProcess,
  testNamespace,
  type Live,
} from './harness.js';

let admin: KubeConfig;
let operatorKc: KubeConfig;
let server: StoreServer;
let store: StoreClient;
let ns: string;

beforeAll(async () => {
  admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  ns = await testNamespace(admin, 'disc');
  operatorKc = (
    await mintServiceAccountCredentials(admin, {
      name: `operator-disc-${randomUUID().slice(0, 6)}`,
      namespace: 'layer-optest',
      clusterRole: OPERATOR_ROLE,
    })
  ).kubeConfig;
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url, apiKey: 'test' });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

async function indexesIn(namespace: string): Promise<Live[]> {
  const list = (await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'hevlayer.com',
    version: 'v1alpha1',
    plural: 'indexes',
    namespace,
  })) as { items: Live[] };
  return list.items;
}

describe('index discovery', () => {
  it('creates an Index per unclaimed namespace, never touches user Index CRs, and GCs discovered ones whose namespace is gone', async () => {
    const p = `d${randomUUID().slice(0, 6)}`;
    for (const name of [`${p}-products`, `${p}-docs`, `${p}-Reports_2025`])
      await store.upsertRows(name, [{ id: 1, title: 'x' }]);
    // A user's Index already manages the docs namespace, under another name.
    await applyCr(admin.makeApiClient(CustomObjectsApi), {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'Index',
      metadata: { name: 'my-docs', namespace: ns },
      spec: { namespace: `${p}-docs` },
    });
    const discovery = createIndexDiscovery({
      kubeConfig: operatorKc,
      store,
      indexNamespace: ns,
      intervalMs: 60_000,
      gc: true,
    });

    const first = await discovery.tick();
    expect(first.create.map((c) => c.namespace).sort()).toEqual(
      [`${p}-Reports_2025`, `${p}-products`].sort(),
    );
    let indexes = await indexesIn(ns);
    const discovered = indexes.filter((i) => i.metadata.labels?.[DISCOVERED_LABEL] === 'true');
    expect(discovered.map((i) => i.spec.namespace).sort()).toEqual(
      [`${p}-Reports_2025`, `${p}-products`].sort(),
    );
    expect(discovered.find((i) => i.spec.namespace === `${p}-products`)?.metadata.name).toBe(`${p}-products`);
    // A second tick with nothing new does nothing.
    expect(await discovery.tick()).toEqual({ create: [], remove: [] });

    // Hard-deleted upstream: the discovered Index goes, the user's Index stays even though its
    // namespace is gone too.
    await store.deleteNamespace(`${p}-products`);
    await store.deleteNamespace(`${p}-docs`);
    const third = await discovery.tick();
    expect(third.remove).toEqual([`${p}-products`]);
    indexes = await indexesIn(ns);
    expect(indexes.map((i) => i.metadata.name).sort()).toEqual(
      ['my-docs', discovered.find((i) => i.spec.namespace === `${p}-Reports_2025`)!.metadata.name].sort(),
    );
  });

  it('runs inside `layer operator` when LAYER_INDEX_DISCOVERY=true, and the operator reconciles what it created', async () => {
    const setup = await operatorProcessSetup('discproc');
    const p = `e${randomUUID().slice(0, 6)}`;
    await store.upsertRows(`${p}-catalogue`, [{ id: 1, title: 'x' }]);
    const operator = await startOperatorProcess({
      KUBECONFIG: setup.kubeconfigFile,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_ORCHESTRATOR_TASK_QUEUE: `layer-orchestrator-disc-${randomUUID().slice(0, 8)}`,
      LAYER_STORE_URL: server.url,
      LAYER_STATE_DIR: join(setup.dir, 'no-dev-env'),
      LAYER_WATCH_NAMESPACES: setup.ns,
      LAYER_INDEX_DISCOVERY: 'true',
      LAYER_INDEX_DISCOVERY_NAMESPACE: setup.ns,
      LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS: '5',
      LAYER_INDEX_GC: 'true',
    });
    try {
      const reconciled = await eventually(
        'a discovered Index, reconciled',
        async () => {
          const found = (await indexesIn(setup.ns)).find((i) => i.spec.namespace === `${p}-catalogue`);
          return found?.status?.observedGeneration === found?.metadata.generation && found?.status
            ? found
            : undefined;
        },
        60_000,
      );
      expect(reconciled.metadata.labels?.[DISCOVERED_LABEL]).toBe('true');
      // Deleted upstream: gone on the next pass (GC on).
      await store.deleteNamespace(`${p}-catalogue`);
      await eventually(
        'the discovered Index removed',
        async () =>
          (await indexesIn(setup.ns)).some((i) => i.spec.namespace === `${p}-catalogue`) ? undefined : true,
        60_000,
      );
      expect(roleSaid(operator.log(), 'operator/discovery', /^index discovery/).length).toBeGreaterThan(0);
    } finally {
      await operator.stop();
      rmSync(setup.dir, { recursive: true, force: true });
    }
  });
});
