// The chart rendered by the real helm CLI, without installing: `helm lint`, and `helm template`
// with the defaults, install.md's two values examples and every option on. Each rendered object
// is checked: hevlayer.com CRs against our CRDs' openAPI schema (ajv, unknown fields refused) and
// the operator's own parser; Karpenter objects against the fixture CRDs; every object the test
// apiserver has a type for by a server-side dry run with fieldValidation=Strict. Secrets appear
// only in the release Secret; env names are the ones the code reads; RBAC is deploy/operator's.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { helmDefaultComputePools, parseKind, type LayerKind } from '../../../src/api/index.js';
import { ConfigEnv } from '../../../src/config.js';
import { DEFAULT_RECONCILE_CONCURRENCY } from '../../../src/contracts/reconcile.js';
import { seedPath } from '../../fixtures/seeds.js';
import { kubeConfig } from '../../helpers/servers.js';
import { installOperatorPrerequisites, operatorClusterRole } from '../operator/harness.js';
import {
  CRD_DIR,
  KARPENTER_CRD_DIR,
  chartPath,
  crValidators,
  crdsIn,
  errorsOf,
  type Json,
} from '../../unit/helm/chart-files.js';
import { findObject, manifestObjects, objectLabel, startHelm, type Helm } from './helm.js';
import { installCrds, serverSideApply } from './kube.js';

/**
 * Env names the chart sets that src/config.ts does not read yet: the Temporal SDKs' standard
 * client variables for Temporal Cloud (issue 11 item 5 makes the code read them) and the AWS SDK's
 * region (read by the SDK's default chain, not by loadConfig).
 */
const PENDING_ENV = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'AWS_REGION',
];

/** Env names read by the runtime, not by our code: Node's own flags (the pod's smaller young generation, ADR 0114). */
const RUNTIME_ENV = ['NODE_OPTIONS'];

const STORE_KEY = `tpuf_${randomUUID()}`;
const WORKER_KEY = `layer_worker_${randomUUID()}`;

/** Every template on: split roles, TLS + API key for Temporal, payloads, Karpenter, ingress, ServiceMonitor. */
const EVERYTHING = {
  vectorStore: {
    credential: { apiKey: STORE_KEY },
    inboundAuth: {
      mode: 'keys',
      keys: [
        { name: 'worker', scopes: ['read', 'write', 'admin'], apiKey: WORKER_KEY },
        { name: 'reader', scopes: ['read'], secretRef: { name: 'team-keys', key: 'reader' } },
      ],
      workerSecretKey: 'layer-inbound-key-worker',
    },
  },
  s3: { bucket: 'layer-install-bucket', region: 'us-east-1', payloads: { enabled: true } },
  serviceAccount: { roleArn: 'arn:aws:iam::123456789012:role/layer-gateway' },
  temporal: {
    address: 'my-ns.a1b2c.tmprl.cloud:7233',
    namespace: 'my-ns.a1b2c',
    workerAddress: 'my-ns.a1b2c.tmprl.cloud:7233',
    taskQueue: 'layer-orchestrator-prod',
    apiKey: { existingSecret: 'temporal-cloud', key: 'api-key' },
    tls: { enabled: true, existingSecret: 'temporal-mtls', serverName: 'my-ns.a1b2c.tmprl.cloud' },
  },
  operator: { split: { enabled: true }, watchNamespaces: ['layer', 'team-a'] },
  workers: { storeUrl: 'http://gateway.layer.svc:8080' },
  keda: { installed: false, pushScaler: { enabled: true, port: 9091 } },
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    grafanaDashboard: { enabled: true },
  },
  ingress: { host: 'layer.example.com', className: 'alb', tlsSecretName: 'layer-tls' },
  workerKarpenter: { enabled: true, clusterName: 'layer-prod', nodeRole: 'KarpenterNodeRole-layer-prod' },
};

let helm: Helm;
let admin: KubeConfig;
let dir: string;
let namespace: string;
const validators = crValidators(CRD_DIR, KARPENTER_CRD_DIR);

interface Case {
  name: string;
  args: string[];
  /** Secret literals these values carry: they may appear only in the release Secret. */
  secrets: string[];
}
const cases: Case[] = [];

beforeAll(async () => {
  helm = await startHelm();
  admin = kubeConfig();
  // Our CRDs and KEDA's (as the other tests install them), plus the Karpenter fixtures, so dry runs
  // check the chart's CRs against the apiserver's validation too (CEL rules included).
  await installOperatorPrerequisites(admin);
  await installCrds(admin, crdsIn(KARPENTER_CRD_DIR));
  namespace = `helm-tpl-${randomUUID().slice(0, 8)}`;
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  dir = mkdtempSync(join(tmpdir(), 'layer-helm-tpl-'));
  const everything = join(dir, 'everything.yaml');
  writeFileSync(everything, stringify(EVERYTHING));
  cases.push(
    {
      name: 'the defaults (plus the one required value)',
      args: ['--set', `vectorStore.credential.apiKey=${STORE_KEY}`],
      secrets: [STORE_KEY],
    },
    {
      name: "install.md's deriveFromStore example",
      args: ['-f', seedPath('valuesDeriveFromStore')],
      secrets: ['tpuf_...'],
    },
    {
      name: "install.md's keys example",
      args: ['-f', seedPath('valuesKeys')],
      secrets: ['tpuf_...', 'layer_worker_...'],
    },
    { name: 'every option on', args: ['-f', everything], secrets: [STORE_KEY, WORKER_KEY] },
    {
      name: 'a pre-created credential Secret, open mode, one replica without leader election',
      args: [
        '--set',
        'vectorStore.credential.existingSecret=store-credential',
        '--set',
        'vectorStore.inboundAuth.mode=open',
        '--set',
        'operator.replicas=1',
        '--set',
        'operator.leaderElection.enabled=false',
        '--set',
        'operator.infraRules.create=false',
      ],
      secrets: [],
    },
  );
}, 45 * 60_000);

afterAll(async () => {
  if (namespace)
    await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function render(args: string[]): Promise<Json[]> {
  return manifestObjects(await helm.ok(['template', 'layer', chartPath(), '-n', namespace, ...args]));
}

function containers(objects: Json[]): Json[] {
  return objects
    .filter((o) => o.kind === 'Deployment')
    .flatMap((d) =>
      (d.spec.template.spec.containers as Json[]).map((c) => ({ ...c, pod: d.spec.template.spec })),
    );
}

describe('helm lint', () => {
  it.each([
    ['deriveFromStore', seedPath('valuesDeriveFromStore')],
    ['keys', seedPath('valuesKeys')],
  ])("passes --strict with install.md's %s example", async (_name, file) => {
    const r = await helm.run(['lint', '--strict', chartPath(), '-f', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('passes --strict with every option on', async () => {
    const r = await helm.run(['lint', '--strict', chartPath(), '-f', join(dir, 'everything.yaml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('helm package', () => {
  it('resolves the crds/ and files/ links into the archive, which renders and installs the same', async () => {
    const out = join(dir, 'package');
    await helm.ok(['package', chartPath(), '-d', out]);
    const archive = join(out, 'layer-0.1.0.tgz');
    const args = ['-f', seedPath('valuesKeys'), '-n', namespace, '--include-crds'];
    const fromDir = await helm.ok(['template', 'layer', chartPath(), ...args]);
    const fromArchive = await helm.ok(['template', 'layer', archive, ...args]);
    expect(fromArchive).toBe(fromDir);
    expect(manifestObjects(fromArchive).filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(5);
  });
});

describe('helm template', () => {
  it('renders every case, and every object passes its validation', async () => {
    for (const c of cases) {
      const objects = await render(c.args);
      expect(objects.length, c.name).toBeGreaterThan(5);
      for (const obj of objects) {
        const label = `${c.name}: ${objectLabel(obj)}`;
        const [group] = (obj.apiVersion as string).split('/');
        const key = `${obj.apiVersion as string}/${obj.kind as string}`;
        if (group === 'hevlayer.com') {
          const parsed = parseKind(obj.kind as LayerKind, obj);
          expect(parsed.ok, `${label}: ${parsed.ok ? '' : parsed.error.message}`).toBe(true);
        }
        const validate = validators.get(key);
        if (validate) expect(validate(obj), `${label}: ${errorsOf(validate).join('; ')}`).toBe(true);
        if (obj.kind === 'ServiceMonitor') {
          // No Prometheus Operator CRD here: check the shape the operator's docs require.
          expect(obj.apiVersion).toBe('monitoring.coreos.com/v1');
          // It must select the HTTP API's Service, whose port `http` serves /metrics.
          const service = objects.find((o) => o.kind === 'Service');
          expect(service, label).toBeDefined();
          expect(Object.keys(obj.spec.selector.matchLabels as object).length).toBeGreaterThan(0);
          expect(service!.metadata.labels).toMatchObject(obj.spec.selector.matchLabels as object);
          expect(obj.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
          continue;
        }
        const r = await serverSideApply(admin, obj, { dryRun: true });
        expect(
          r.status,
          `${label} refused by the apiserver: ${JSON.stringify(r.body.message ?? r.body)}`,
        ).toBeLessThan(300);
      }
    }
  });

  it('keeps every secret value in the release Secret: no ConfigMap, no env literal, no CR field holds one', async () => {
    for (const c of cases) {
      const objects = await render(c.args);
      // The only ConfigMap is the opt-in Grafana dashboard (checked for secrets below like the rest).
      expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name !== 'layer-dashboard')).toEqual(
        [],
      );
      if (c.secrets.length === 0) {
        expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
        continue;
      }
      const secret = findObject(objects, 'Secret', 'layer');
      const stored = Object.values(secret.data as Record<string, string>).map((v) =>
        Buffer.from(v, 'base64').toString(),
      );
      for (const s of c.secrets) {
        expect(stored, `${c.name}: ${s} in the release Secret`).toContain(s);
        for (const obj of objects.filter((o) => o.kind !== 'Secret')) {
          const text = JSON.stringify(obj);
          expect(
            text.includes(s) || text.includes(Buffer.from(s).toString('base64')),
            `${c.name}: ${objectLabel(obj)} holds a secret`,
          ).toBe(false);
        }
      }
      for (const container of containers(objects))
        for (const e of container.env as Json[])
          // Paths, Secret names and the key *name* within a Secret (…_SECRET_KEY) are not secrets.
          if (
            /KEY|TOKEN|PASSWORD|SECRET/.test(e.name as string) &&
            !/_PATH$|_NAME$|_SECRET_KEY$/.test(e.name as string)
          )
            expect(
              e.valueFrom?.secretKeyRef,
              `${c.name}: ${e.name as string} must come from a Secret`,
            ).toBeDefined();
    }
  });

  it('sets only environment variables the code reads', async () => {
    const known = new Set<string>([...Object.values(ConfigEnv), ...PENDING_ENV, ...RUNTIME_ENV]);
    for (const c of cases) {
      for (const container of containers(await render(c.args))) {
        const names = (container.env as Json[]).map((e) => e.name as string);
        expect(
          names.filter((n) => !known.has(n)),
          c.name,
        ).toEqual([]);
      }
    }
  });

  it('runs non-root with a read-only root filesystem', async () => {
    for (const c of cases) {
      for (const container of containers(await render(c.args))) {
        expect(container.pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it("renders the ClusterRole with exactly deploy/operator's rules (the ones the operator tests run under)", async () => {
    for (const c of cases) {
      const role = findObject(await render(c.args), 'ClusterRole');
      expect(role.rules, c.name).toEqual(operatorClusterRole().rules);
    }
  });

  it('deriveFromStore: the VectorStore refers to the credential in the release Secret; InfraRules/default has the stock pools', async () => {
    const objects = await render(cases[1]!.args);
    expect(findObject(objects, 'VectorStore', 'default').spec).toEqual({
      endpoint: { url: 'https://aws-us-east-1.turbopuffer.com', region: 'aws-us-east-1' },
      credential: { secretRef: { name: 'layer', key: 'vector-store-api-key' } },
      inboundAuth: { mode: 'deriveFromStore', workerSecretKey: 'layer-inbound-worker-api-key' },
    });
    expect(findObject(objects, 'InfraRules', 'default').spec.computePools).toEqual(helmDefaultComputePools());
    const env = Object.fromEntries(
      (containers(objects)[0]!.env as Json[]).map((e) => [e.name as string, e.value ?? e.valueFrom]),
    );
    expect(env).toMatchObject({
      [ConfigEnv.vectorStore]: `${namespace}/default`,
      [ConfigEnv.storeUrl]: 'https://aws-us-east-1.turbopuffer.com',
      [ConfigEnv.storeApiKey]: { secretKeyRef: { name: 'layer', key: 'vector-store-api-key' } },
      [ConfigEnv.operatorApiUrl]: `http://layer-orchestrator.${namespace}.svc:8080`,
      [ConfigEnv.releaseSecretName]: 'layer',
      [ConfigEnv.reconcileConcurrency]: String(DEFAULT_RECONCILE_CONCURRENCY),
    });
  });

  it('keys: every key refers to its Secret, the worker bearer is in the release Secret, no literal key in the VectorStore', async () => {
    const objects = await render(cases[2]!.args);
    expect(findObject(objects, 'VectorStore', 'default').spec.inboundAuth).toEqual({
      mode: 'keys',
      keys: [
        {
          name: 'worker',
          scopes: ['read', 'write', 'admin'],
          secretRef: { name: 'layer', key: 'layer-inbound-worker-api-key' },
        },
      ],
      workerSecretKey: 'layer-inbound-worker-api-key',
    });
    const data = findObject(objects, 'Secret', 'layer').data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(['layer-inbound-worker-api-key', 'vector-store-api-key']);
  });

  it('every option on: split roles with their flags, IRSA, Temporal TLS and API key by Secret, Karpenter pools matching the stock selectors', async () => {
    const objects = await render(cases[3]!.args);
    const args = Object.fromEntries(
      objects
        .filter((o) => o.kind === 'Deployment')
        .map((d) => [d.metadata.name as string, d.spec.template.spec.containers[0].args as string[]]),
    );
    expect(args).toEqual({
      'layer-watcher': ['operator', '--no-worker', '--no-api', '--no-scaled-objects'],
      'layer-worker': ['operator', '--no-watcher', '--no-api'],
      'layer-api': ['operator', '--no-watcher', '--no-worker'],
    });
    expect(findObject(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/layer-gateway',
    });
    const env = (containers(objects)[0]!.env as Json[]).map((e) => e.name as string);
    expect(env).toEqual(
      expect.arrayContaining([
        'TEMPORAL_API_KEY',
        'TEMPORAL_TLS',
        'LAYER_PAYLOAD_BUCKET',
        'LAYER_WATCH_NAMESPACES',
      ]),
    );
    const roles = objects
      .filter((o) => o.kind === 'NodePool')
      .map((p) => p.spec.template.metadata.labels['layer.hev.dev/node-role'] as string)
      .sort();
    expect(roles).toEqual(['worker-cpu', 'worker-gpu']);
    const selected = new Set(
      helmDefaultComputePools().map((p) => p.nodeSelector?.['layer.hev.dev/node-role']),
    );
    expect([...selected].sort()).toEqual(roles);
    // Only pods that serve the API are behind the Service.
    const service = findObject(objects, 'Service');
    const served = objects.filter(
      (o) =>
        o.kind === 'Deployment' &&
        Object.entries(service.spec.selector as Record<string, string>).every(
          ([k, v]) => o.spec.template.metadata.labels[k] === v,
        ),
    );
    expect(served.map((d) => d.metadata.name as string)).toEqual(['layer-api']);
    // KEDA's push scaler: served by the API pods behind the same Service, and what every role
    // renders into ScaledObjects points there (docs/adr/0131).
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'keda-scaler', port: 9091, targetPort: 'keda-scaler' }),
    );
    const apiContainer = containers(objects).find((c) => !(c.args as string[]).includes('--no-api'))!;
    expect(apiContainer.ports).toContainEqual({ name: 'keda-scaler', containerPort: 9091 });
    for (const c of containers(objects))
      expect(c.env).toContainEqual({
        name: 'LAYER_KEDA_SCALER_ADDRESS',
        value: `${service.metadata.name}.${namespace}.svc:9091`,
      });
    // The Grafana dashboard, for the sidecar, exactly as deploy/grafana holds it.
    const dashboard = findObject(objects, 'ConfigMap', 'layer-dashboard');
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['layer-dashboard.json'] as string)).toEqual(
      JSON.parse(readFileSync(join(chartPath(), '..', '..', 'grafana', 'layer-dashboard.json'), 'utf8')),
    );
  });
});

describe('helm template, a pre-created Secret', () => {
  it('refers to it from the VectorStore and the env, renders no Secret, no Lease and no InfraRules', async () => {
    const objects = await render(cases[4]!.args);
    expect(findObject(objects, 'VectorStore', 'default').spec.credential).toEqual({
      secretRef: { name: 'store-credential', key: 'vector-store-api-key' },
    });
    const env = Object.fromEntries(
      (containers(objects)[0]!.env as Json[]).map((e) => [e.name as string, e.value ?? e.valueFrom]),
    );
    expect(env[ConfigEnv.storeApiKey]).toEqual({
      secretKeyRef: { name: 'store-credential', key: 'vector-store-api-key' },
    });
    expect(env[ConfigEnv.leaderElect]).toBe('false');
    expect(objects.map(objectLabel).filter((l) => /^(Secret|Lease|InfraRules)\//.test(l))).toEqual([]);
  });
});

describe('refused values', () => {
  it.each([
    [
      'a mode the schema does not know',
      { vectorStore: { credential: { apiKey: 'x' }, inboundAuth: { mode: 'token' } } },
      "at '/vectorStore/inboundAuth/mode': value must be one of 'deriveFromStore', 'keys', 'open'",
    ],
    [
      'a replica count as a string',
      { vectorStore: { credential: { apiKey: 'x' } }, operator: { replicas: 'two' } },
      "at '/operator/replicas': got string, want integer",
    ],
    ['no store credential', {}, 'vectorStore.credential.apiKey is required'],
    [
      'keys mode without the workers’ bearer',
      {
        vectorStore: {
          credential: { apiKey: 'x' },
          inboundAuth: { mode: 'keys', keys: [{ name: 'reader', scopes: ['read'], apiKey: 'k' }] },
        },
      },
      'workers need their bearer "layer-inbound-worker-api-key" in the release Secret',
    ],
  ])('%s: helm template fails and says which value', async (_name, values, message) => {
    const file = join(dir, `bad-${randomUUID().slice(0, 6)}.yaml`);
    writeFileSync(file, stringify(values));
    const r = await helm.run(['template', 'layer', chartPath(), '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
