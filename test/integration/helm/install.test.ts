// `helm upgrade --install` of deploy/helm/layer on a real kube-apiserver, then `layer operator`
// started the way the chart's Deployment would start it (its env, its Secret values, a token of
// the chart's ServiceAccount — so the chart's RBAC is what it runs under), reconciling the
// rendered VectorStore and InfraRules/default into their status; an invalid values file refused
// before anything is created; `helm uninstall` removing everything but the CRDs.
//
// This file starts its own kube-apiserver: the chart owns cluster-scoped singletons
// (InfraRules/default, the layer-operator ClusterRole) that other test files share on the common
// one, and uninstalling them there would pull them from under those tests. Temporal is the shared
// dev server, in a namespace of its own, so the reconcile workflows of InfraRules/default (one
// deterministic ID per object) never meet those of other files.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../../../src/dev/kube-apiserver.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { temporalAddress } from '../../helpers/servers.js';
import {
  condition,
  eventually,
  apiBaseOf,
  leaderIdentity,
  startOperatorProcess,
  type OperatorProcess,
} from '../operator/harness.js';
import {
  CRD_DIR,
  KARPENTER_CRD_DIR,
  KEDA_CRD_DIR,
  chartPath,
  crdsIn,
  type Json,
} from '../../unit/helm/chart-files.js';
import { findObject, manifestObjects, objectLabel, startHelm, type Helm } from './helm.js';
import { installCrds, kubeRequest, listNames, readObject } from './kube.js';

const RELEASE = 'layer';
const NS = 'layer';
const STORE_KEY = `tpuf_${randomUUID()}`;
const ROTATED_STORE_KEY = `tpuf_rotated_${randomUUID()}`;
const WORKER_KEY = `layer_worker_${randomUUID()}`;
const log = (line: string) => process.stderr.write(`[helm-install] ${line}\n`);

let helm: Helm;
let kube: KubeApiServer;
let admin: KubeConfig;
let store: StoreServer;
let dir: string;
let valuesFile: string;
let operator: OperatorProcess | undefined;
let manifest: Json[] = [];
const temporalNs = `helm-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'layer-helm-install-'));
  [helm, kube] = await Promise.all([
    startHelm(),
    startKubeApiServer({ log, stateDir: join(dir, 'kube'), fastEtcd: true }),
  ]);
  admin = kube.adminKubeConfig();
  // Prerequisites a cluster has before this chart: KEDA's and Karpenter's CRDs.
  await installCrds(admin, [...crdsIn(KEDA_CRD_DIR), ...crdsIn(KARPENTER_CRD_DIR)]);
  await registerTemporalNamespace(temporalNs);
  store = await startStoreServer({ memory: true, apiKeys: [STORE_KEY, ROTATED_STORE_KEY] });

  // install.md's keys example, with this run's store and keys, Temporal and Karpenter on.
  const values = loadSeed('valuesKeys');
  values.vectorStore.credential.apiKey = STORE_KEY;
  values.vectorStore.inboundAuth.keys[0].apiKey = WORKER_KEY;
  values.vectorStore.endpoint = { url: store.url, region: 'local' };
  values.temporal = {
    address: temporalAddress(),
    namespace: temporalNs,
    taskQueue: `layer-orchestrator-helm-${randomUUID().slice(0, 8)}`,
  };
  values.workerKarpenter = {
    enabled: true,
    clusterName: 'layer-test',
    nodeRole: 'KarpenterNodeRole-layer-test',
  };
  valuesFile = join(dir, 'values.yaml');
  writeFileSync(valuesFile, stringify(values));
}, 45 * 60_000);

afterAll(async () => {
  await operator?.stop();
  await store?.close();
  await kube?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh Temporal namespace, usable once a workflow can be started in it. */
async function registerTemporalNamespace(namespace: string): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await eventually(
      `Temporal namespace ${namespace}`,
      async () => {
        const workflowId = `probe-${randomUUID()}`;
        await connection.workflowService.startWorkflowExecution({
          namespace,
          workflowId,
          workflowType: { name: 'probe' },
          taskQueue: { name: 'probe' },
          requestId: randomUUID(),
        });
        await connection.workflowService.terminateWorkflowExecution({
          namespace,
          workflowExecution: { workflowId },
        });
        return true;
      },
      60_000,
    );
  } finally {
    await connection.close();
  }
}

const helmArgs = (...args: string[]) => [...args, '--kubeconfig', kube.kubeconfigPath];

describe('helm upgrade --install on a real kube-apiserver', () => {
  it('refuses an invalid values file by its schema, naming the value, and installs nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      stringify({ vectorStore: { credential: { apiKey: 'x' }, inboundAuth: { mode: 'tokens' } } }),
    );
    const r = await helm.run(
      helmArgs('upgrade', '--install', RELEASE, chartPath(), '-n', NS, '--create-namespace', '-f', bad),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain("at '/vectorStore/inboundAuth/mode': value must be one of");
    expect(await helm.ok(helmArgs('list', '-a', '-n', NS, '-q'))).toBe('');
    // helm installs crds/ before it validates values (its install order), so the CRDs may be
    // there; nothing of the release is.
    expect(await listNames(admin, 'v1', 'Secret', NS)).toEqual([]);
    expect(await listNames(admin, 'apps/v1', 'Deployment', NS)).toEqual([]);
    expect(
      await listNames(
        admin,
        'rbac.authorization.k8s.io/v1',
        'ClusterRole',
        undefined,
        'app.kubernetes.io/instance=layer',
      ),
    ).toEqual([]);
  });

  it('installs: the CRDs from crds/ and every rendered object are accepted', async () => {
    const out = await helm.ok(
      helmArgs(
        'upgrade',
        '--install',
        RELEASE,
        chartPath(),
        '-n',
        NS,
        '--create-namespace',
        '-f',
        valuesFile,
      ),
    );
    expect(out).toContain('STATUS: deployed');
    for (const crd of crdsIn(CRD_DIR)) {
      const live = await readObject(
        admin,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        undefined,
        crd.metadata.name as string,
      );
      expect(live?.spec, crd.metadata.name as string).toMatchObject({ group: 'hevlayer.com' });
    }
    manifest = manifestObjects(await helm.ok(helmArgs('get', 'manifest', RELEASE, '-n', NS)));
    expect(manifest.map(objectLabel).sort()).toEqual(
      [
        'ClusterRole/layer-operator',
        'ClusterRoleBinding/layer-operator',
        'Deployment/layer-orchestrator',
        'EC2NodeClass/layer-worker',
        'InfraRules/default',
        'Lease/layer-operator',
        'NodePool/layer-worker-cpu',
        'NodePool/layer-worker-gpu',
        'Secret/layer',
        'Service/layer-orchestrator',
        'ServiceAccount/layer-operator',
        'VectorStore/default',
      ].sort(),
    );
    for (const obj of manifest) {
      const live = await readObject(
        admin,
        obj.apiVersion as string,
        obj.kind as string,
        obj.metadata.namespace as string | undefined,
        obj.metadata.name as string,
      );
      expect(live, objectLabel(obj)).toBeDefined();
    }
  });

  it('a running operator, configured as the chart configures it, reconciles the VectorStore and InfraRules/default', async () => {
    expect(manifest.length).toBeGreaterThan(0);
    const deployment = findObject(manifest, 'Deployment', 'layer-orchestrator');
    const container = deployment.spec.template.spec.containers[0] as Json;
    expect(container.args).toEqual(['operator']);
    // What the kubelet would do: literal values as they are, secretKeyRefs read from the Secret.
    const env: Record<string, string> = {};
    for (const e of container.env as Json[]) {
      if (e.valueFrom) {
        const ref = e.valueFrom.secretKeyRef as { name: string; key: string };
        const secret = await readObject(admin, 'v1', 'Secret', NS, ref.name);
        env[e.name as string] = Buffer.from(
          (secret?.data as Record<string, string>)[ref.key]!,
          'base64',
        ).toString();
      } else env[e.name as string] = e.value as string;
    }
    expect(env.LAYER_STORE_API_KEY).toBe(STORE_KEY);
    // The chart's ServiceAccount token: the operator runs with exactly the chart's RBAC.
    const sa = deployment.spec.template.spec.serviceAccountName as string;
    const token = await kubeRequest(admin, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    expect(token.status).toBe(201);
    const kubeconfigFile = join(dir, 'operator-kubeconfig');
    writeFileSync(
      kubeconfigFile,
      kubeConfigFor(kube.serverUrl, kube.caData, sa, token.body.status.token as string).exportConfig(),
    );
    operator = await startOperatorProcess({
      ...env,
      KUBECONFIG: kubeconfigFile,
      LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    });

    const vs = await eventually(
      'VectorStore/default Ready',
      async () => {
        const live = await readObject(admin, 'hevlayer.com/v1alpha1', 'VectorStore', NS, 'default');
        return condition(live, 'Ready')?.status === 'True' ? live : undefined;
      },
      90_000,
    ).catch(async (err: unknown) => {
      // What the VectorStore says and what the operator logged, not only "timed out".
      const live = await readObject(admin, 'hevlayer.com/v1alpha1', 'VectorStore', NS, 'default');
      throw new Error(
        `${String(err)}\nstatus: ${JSON.stringify(live?.status)}\noperator log:\n${operator!.log().slice(-4000)}`,
      );
    });
    // The test's fresh Temporal namespace had none of Layer's search attributes: the operator added them.
    expect(operator!.log()).toContain('registered the Layer search attributes the namespace lacked');
    expect(condition(vs, 'CredentialResolved')).toMatchObject({ status: 'True', reason: 'SecretFound' });
    expect(condition(vs, 'EndpointReachable')).toMatchObject({ status: 'True', reason: 'Reachable' });
    expect(JSON.stringify(vs)).not.toContain(STORE_KEY);
    const rules = await eventually(
      'InfraRules/default Ready',
      async () => {
        const live = await readObject(admin, 'hevlayer.com/v1alpha1', 'InfraRules', undefined, 'default');
        return condition(live, 'Ready')?.status === 'True' ? live : undefined;
      },
      90_000,
    );
    expect(rules.status.pools).toEqual(['cpu', 'cpu-large', 'gpu']);
    // The watcher runs because this replica holds the Lease the chart rendered.
    const lease = await readObject(admin, 'coordination.k8s.io/v1', 'Lease', NS, 'layer-operator');
    expect(leaderIdentity(operator)).toBeDefined();
    expect(lease?.spec.holderIdentity).toBe(leaderIdentity(operator));
    expect(lease?.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': RELEASE });
    expect(rules.status.observedGeneration).toBe(rules.metadata.generation);

    // The HTTP API follows the rendered VectorStore's keys mode: control calls need the worker key.
    const apiBase = apiBaseOf(operator.log());
    expect(apiBase).toBeDefined();
    const discover = (key?: string) =>
      fetch(`${apiBase}/v1/functions/${NS}/nothing-here/discover`, {
        method: 'POST',
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
    expect((await discover()).status).toBe(401);
    expect((await discover(WORKER_KEY)).status).not.toBe(401);
  });

  it('helm upgrade with a new store key and region: the release Secret holds the new key, the operator reconciles the new generation (the store takes both keys), the Lease keeps its holder', async () => {
    expect(operator).toBeDefined();
    const holder = (await readObject(admin, 'coordination.k8s.io/v1', 'Lease', NS, 'layer-operator'))?.spec
      .holderIdentity as string;
    expect(holder).toBe(leaderIdentity(operator!));
    await helm.ok(
      helmArgs(
        'upgrade',
        RELEASE,
        chartPath(),
        '-n',
        NS,
        '-f',
        valuesFile,
        '--set',
        `vectorStore.credential.apiKey=${ROTATED_STORE_KEY}`,
        '--set',
        'vectorStore.endpoint.region=local-2',
      ),
    );
    const secret = await readObject(admin, 'v1', 'Secret', NS, 'layer');
    expect(
      Buffer.from((secret?.data as Record<string, string>)['vector-store-api-key']!, 'base64').toString(),
    ).toBe(ROTATED_STORE_KEY);
    const vs = await eventually(
      'VectorStore/default reconciled at its new generation',
      async () => {
        const live = await readObject(admin, 'hevlayer.com/v1alpha1', 'VectorStore', NS, 'default');
        const ready = condition(live, 'Ready');
        return live?.spec.endpoint.region === 'local-2' &&
          ready?.status === 'True' &&
          ready.observedGeneration === live.metadata.generation
          ? live
          : undefined;
      },
      90_000,
    );
    expect(condition(vs, 'EndpointReachable')).toMatchObject({ status: 'True', reason: 'Reachable' });
    // helm's three-way merge leaves the spec the operator wrote alone.
    const lease = await readObject(admin, 'coordination.k8s.io/v1', 'Lease', NS, 'layer-operator');
    expect(lease?.spec.holderIdentity).toBe(holder);
  });

  it('helm uninstall leaves no release or operator-made object behind, and keeps the CRDs', async () => {
    expect(manifest.length).toBeGreaterThan(0);
    await helm.ok(helmArgs('uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '2m'));
    for (const obj of manifest) {
      await eventually(
        `${objectLabel(obj)} deleted`,
        async () =>
          (await readObject(
            admin,
            obj.apiVersion as string,
            obj.kind as string,
            obj.metadata.namespace as string | undefined,
            obj.metadata.name as string,
          )) === undefined
            ? true
            : undefined,
        60_000,
      );
    }
    const leftovers: string[] = [];
    for (const [apiVersion, kind] of [
      ['hevlayer.com/v1alpha1', 'VectorStore'],
      ['hevlayer.com/v1alpha1', 'InfraRules'],
      ['hevlayer.com/v1alpha1', 'Index'],
      ['apps/v1', 'Deployment'],
      ['v1', 'Service'],
      ['v1', 'Secret'],
      ['v1', 'ConfigMap'],
      ['v1', 'ServiceAccount'],
      ['coordination.k8s.io/v1', 'Lease'],
      ['keda.sh/v1alpha1', 'ScaledObject'],
      ['keda.sh/v1alpha1', 'TriggerAuthentication'],
      ['karpenter.sh/v1', 'NodePool'],
      ['karpenter.k8s.aws/v1', 'EC2NodeClass'],
    ] as const) {
      const clusterScoped = ['InfraRules', 'NodePool', 'EC2NodeClass'].includes(kind);
      for (const n of await listNames(admin, apiVersion, kind, clusterScoped ? undefined : NS))
        leftovers.push(`${kind}/${n}`);
    }
    for (const kind of ['ClusterRole', 'ClusterRoleBinding'])
      for (const n of await listNames(
        admin,
        'rbac.authorization.k8s.io/v1',
        kind,
        undefined,
        `app.kubernetes.io/instance=${RELEASE}`,
      ))
        leftovers.push(`${kind}/${n}`);
    // Events the operator wrote on condition transitions expire by the apiserver's event TTL;
    // they are not objects of the release or owned by one.
    expect(leftovers).toEqual([]);
    const crds = await listNames(admin, 'apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    expect(crds).toEqual(expect.arrayContaining(crdsIn(CRD_DIR).map((c) => c.metadata.name as string)));
    expect(await helm.ok(helmArgs('list', '-a', '-n', NS, '-q'))).toBe('');
  });
});
