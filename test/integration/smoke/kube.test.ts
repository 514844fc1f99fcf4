// The kube-apiserver the global setup started is a real one: it accepts a CRD and custom
// objects of it, server-side applies a Deployment under a field manager, and enforces RBAC for
// credentials minted for a ClusterRole.
import { randomUUID } from 'node:crypto';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintServiceAccountCredentials } from '../../../src/dev/kube-apiserver.js';
import { kubeConfig } from '../../helpers/servers.js';

const group = 'smoke.hevlayer.com';

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('kube-apiserver (smoke)', () => {
  const namespace = `smoke-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('accepts a CRD and a custom object of it', async () => {
    const kc = kubeConfig();
    await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'w1', namespace },
      spec: { size: 3 },
    };
    // A new CRD takes a moment to be served.
    await eventually(() =>
      custom.createNamespacedCustomObject({ group, version: 'v1', namespace, plural: 'widgets', body }),
    );
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural: 'widgets',
      name: 'w1',
    })) as {
      spec: { size: number };
    };
    expect(read.spec.size).toBe(3);
    // The schema is enforced by the server, not by us.
    await expect(
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: { ...body, metadata: { name: 'w2', namespace }, spec: { size: 0 } },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it('server-side applies a Deployment with a field manager and reads it back', async () => {
    const kc = kubeConfig();
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const deployment: V1Deployment & KubernetesObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'smoke-worker', namespace, labels: { 'app.kubernetes.io/name': 'smoke-worker' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'smoke-worker' } },
        template: {
          metadata: { labels: { app: 'smoke-worker' } },
          spec: { containers: [{ name: 'worker', image: 'example.com/worker:1' }] },
        },
      },
    };
    await objects.patch(
      deployment,
      undefined,
      undefined,
      'layer-operator',
      true,
      PatchStrategy.ServerSideApply,
    );
    const read = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'smoke-worker', namespace });
    expect(read.spec?.replicas).toBe(2);
    expect(read.metadata?.managedFields?.map((f) => f.manager)).toContain('layer-operator');
  });

  it('mints credentials limited to a ClusterRole', async () => {
    const admin = kubeConfig();
    const role = `smoke-reader-${namespace}`;
    await admin.makeApiClient(RbacAuthorizationV1Api).createClusterRole({
      body: {
        metadata: { name: role },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    const minted = await mintServiceAccountCredentials(admin, {
      name: 'reader',
      namespace,
      clusterRole: role,
    });
    expect(minted.username).toBe(`system:serviceaccount:${namespace}:reader`);
    const core = minted.kubeConfig.makeApiClient(CoreV1Api);
    await eventually(() => core.listNamespacedConfigMap({ namespace }));
    await expect(core.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
  });
});
