// On the real kube-apiserver: the generated CRDs install and become Established, the seed examples
// apply unchanged (open JSON kept byte for byte), schema-invalid objects are refused, and every
// object the planner produces is accepted by server-side apply with the operator's field manager.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { kubeConfig } from '../helpers/servers.js';
import { loadSeed } from '../fixtures/seeds.js';
import { mergePatch } from '../../src/operator/merge-patch.js';
import {
  helmDefaultInfraRules,
  KIND_DEFINITIONS,
  OPERATOR_FIELD_MANAGER,
  parseKind,
  type LayerFunction,
  type LayerPipeline,
  type Workload,
} from '../../src/api/index.js';
import { planWorkloadObjects } from '../../src/operator/workload-objects.js';
import { REPLICAS_HANDOVER_FIELD_MANAGER } from '../../src/operator/replicas-handover.js';
import { replicasManagersOf } from '../../src/activities/kube/observe.js';
import { renderResources } from '../../src/operator/plan-render.js';
import { operatorSettings } from '../../src/operator/settings.js';

const GROUP = 'hevlayer.com';
const VERSION = 'v1alpha1';
const NS = 'layer'; // the seeds' namespace; they must apply unchanged
const crdDir = new URL('../../deploy/crds/', import.meta.url);
const kedaDir = new URL('../fixtures/keda/', import.meta.url);

let kc: KubeConfig;
let ext: ApiextensionsV1Api;
let custom: CustomObjectsApi;
let apps: AppsV1Api;
let core: CoreV1Api;

function yamlFiles(dir: URL): V1CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(new URL(f, dir), 'utf8')) as V1CustomResourceDefinition);
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/**
 * Server-side apply, like `kubectl apply --server-side` or the operator's execute step. Goes through
 * the generated patch methods, whose body is sent as-is: KubernetesObjectApi would re-serialise
 * built-in kinds through client-node's models, which silently drop `x-kubernetes-*` keys of a CRD.
 */
async function apply(obj: KubernetesObject, fieldManager: string): Promise<KubernetesObject> {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace ?? '';
  const common = { name, body: obj, fieldManager, force: true };
  const [group, version] = obj.apiVersion?.includes('/')
    ? obj.apiVersion.split('/')
    : ['', obj.apiVersion ?? ''];
  switch (obj.kind) {
    case 'CustomResourceDefinition':
      return ext.patchCustomResourceDefinition(common, ssa);
    case 'Deployment':
      return apps.patchNamespacedDeployment({ ...common, namespace }, ssa);
    case 'Service':
      return core.patchNamespacedService({ ...common, namespace }, ssa);
    default: {
      const plural = pluralFor(obj.kind ?? '');
      const target = { ...common, group: group!, version: version!, plural };
      return (
        namespace
          ? custom.patchNamespacedCustomObject({ ...target, namespace }, ssa)
          : custom.patchClusterCustomObject(target, ssa)
      ) as Promise<KubernetesObject>;
    }
  }
}

/** Create with server-side dry run, to see whether the apiserver accepts an object. */
async function dryRunCreate(obj: KubernetesObject): Promise<unknown> {
  const [group, version] = (obj.apiVersion ?? '').split('/');
  const plural = pluralFor(obj.kind ?? '');
  const namespace = obj.metadata?.namespace;
  const target = { group: group!, version: version!, plural, body: obj, dryRun: 'All' };
  return namespace
    ? custom.createNamespacedCustomObject({ ...target, namespace })
    : custom.createClusterCustomObject(target);
}

function pluralFor(kind: string): string {
  const plurals: Record<string, string> = {
    ScaledObject: 'scaledobjects',
    TriggerAuthentication: 'triggerauthentications',
    ...Object.fromEntries(KIND_DEFINITIONS.map((d) => [d.kind, d.plural])),
  };
  const plural = plurals[kind];
  if (!plural) throw new Error(`no plural known for ${kind}`);
  return plural;
}

async function installCrd(crd: V1CustomResourceDefinition): Promise<V1CustomResourceDefinition> {
  await apply(crd as KubernetesObject, 'layer-test');
  return eventually(`${crd.metadata?.name} Established`, async () => {
    const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
    const established = got.status?.conditions?.find((c) => c.type === 'Established')?.status === 'True';
    return established ? got : undefined;
  });
}

function statusCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** The object back from the apiserver, with the fields SSA/defaulting add. Loosely typed: tests
 * compare it with the YAML fixtures, which are untyped too. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Live = Record<string, any>;
async function readCr(plural: string, name: string, namespace?: string): Promise<Live> {
  return (
    namespace
      ? await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })
      : await custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural, name })
  ) as Live;
}

beforeAll(async () => {
  kc = kubeConfig();
  ext = kc.makeApiClient(ApiextensionsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } }).catch((err: unknown) => {
    if (statusCode(err) !== 409) throw err;
  });
  for (const crd of yamlFiles(kedaDir)) await installCrd(crd);
});

describe('generated CRDs on a real apiserver', () => {
  it('install, are structural and become Established', async () => {
    const crds = yamlFiles(crdDir);
    expect(crds).toHaveLength(5);
    for (const crd of crds) {
      const got = await installCrd(crd);
      expect(got.status?.conditions?.find((c) => c.type === 'NonStructuralSchema')).toBeUndefined();
      expect(got.status?.acceptedNames?.kind).toBe(crd.spec.names.kind);
    }
  });

  it('seed examples apply unchanged, keeping open JSON exactly as written', async () => {
    await apply(loadSeed('infraRules') as KubernetesObject, 'kubectl');
    await apply(loadSeed('function') as KubernetesObject, 'kubectl');
    await apply(loadSeed('pipeline') as KubernetesObject, 'kubectl');

    const rules = await readCr('infrarules', 'default');
    expect(rules.spec.computePools[0].resources).toEqual(
      loadSeed('infraRules').spec.computePools[0].resources,
    );
    const fn = await readCr('functions', 'tag-products', NS);
    expect(fn.spec.filter).toEqual(loadSeed('function').spec.filter); // nested arrays and a null survive
    expect(fn.spec.worker.port).toBe(8080); // defaults applied by the apiserver, from the same schema
    expect(fn.spec.paused).toBe(false);
    const pl = await readCr('pipelines', 'product-images', NS);
    expect(pl.spec.sourceRef).toEqual(loadSeed('pipeline').spec.sourceRef);
    expect(pl.spec.scaling).toEqual(loadSeed('pipeline').spec.scaling);
  });

  it.each([
    // CEL: embedding without dim.
    {
      row: 'embedding without dim',
      kind: 'function',
      patch: { metadata: { name: 'bad-embed' }, spec: { output: { kind: 'embedding' } } },
      says: 'output.dim',
    },
    // CEL: both selection fields.
    {
      row: 'targetNamespaces and indexSelector',
      kind: 'function',
      patch: { metadata: { name: 'bad-select' }, spec: { indexSelector: { matchLabels: { a: 'b' } } } },
      says: 'exactly one',
    },
    // CEL: min above max.
    {
      row: 'replicas min > max',
      kind: 'function',
      patch: { metadata: { name: 'bad-replicas' }, spec: { scaling: { replicas: { min: 5, max: 2 } } } },
      says: 'replicas.min',
    },
    // enum.
    {
      row: 'unknown scaling mode',
      kind: 'pipeline',
      patch: { metadata: { name: 'bad-mode' }, spec: { scaling: { mode: 'sometimes' } } },
      says: 'spec.scaling.mode',
    },
    // required field.
    {
      row: 'worker without image',
      kind: 'pipeline',
      patch: { metadata: { name: 'bad-image' }, spec: { worker: { image: null } } },
      says: 'spec.worker.image',
    },
    // root CEL on metadata.name.
    {
      row: 'InfraRules not named default',
      kind: 'infraRules',
      patch: { metadata: { name: 'other' } },
      says: 'named default',
    },
    // quantity pattern.
    {
      row: 'bad quantity',
      kind: 'infraRules',
      patch: {
        spec: {
          computePools: [
            { name: 'cpu', kind: 'cpu', maxReplicasPerWorkload: 1, resources: { requests: { cpu: 'lots' } } },
          ],
        },
      },
      says: 'cpu',
    },
  ] as const)('refuses $row', async ({ kind, patch, says }) => {
    const doc = mergePatch(loadSeed(kind === 'infraRules' ? 'infraRules' : kind), patch) as KubernetesObject;
    const err = await dryRunCreate(doc).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(422);
    expect(JSON.stringify((err as ApiException<unknown>).body)).toContain(says);
  });

  it('refuses a keys-mode VectorStore without keys', async () => {
    const vs = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VectorStore',
      metadata: { name: 'default', namespace: NS },
      spec: {
        endpoint: { region: 'aws-us-east-1' },
        credential: { secretRef: { name: 'layer', key: 'k' } },
        inboundAuth: { mode: 'keys' },
      },
    };
    const err = await dryRunCreate(vs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(422);
  });
});

describe('planned objects on a real apiserver', () => {
  async function createdWorkload<T extends Workload>(
    kind: 'Function' | 'Pipeline',
    doc: Record<string, unknown>,
  ): Promise<T> {
    const plural = kind === 'Function' ? 'functions' : 'pipelines';
    await apply(doc as KubernetesObject, 'kubectl');
    const live = await readCr(plural, (doc.metadata as { name: string }).name, NS);
    const r = parseKind(kind, {
      ...live,
      metadata: {
        name: live.metadata.name,
        namespace: live.metadata.namespace,
        uid: live.metadata.uid,
        generation: live.metadata.generation,
      },
    });
    if (!r.ok) throw r.error;
    return r.resource as T;
  }

  it.each([
    // The seed Function: Deployment + TriggerAuthentication + ScaledObject (keys mode).
    {
      row: 'seed Function, keys auth',
      kind: 'Function' as const,
      patch: {},
      auth: { mode: 'keys' as const },
    },
    // Push dispatch adds a Service and a readiness probe.
    {
      row: 'push Function',
      kind: 'Function' as const,
      patch: { metadata: { name: 'tag-push' }, spec: { worker: { dispatch: 'push', port: 9000 } } },
      auth: { mode: 'open' as const },
    },
    // A gpu Function on the stock pool, with a podSpec merge patch.
    {
      row: 'gpu Function with podSpec patch',
      kind: 'Function' as const,
      patch: {
        metadata: { name: 'embed' },
        spec: {
          output: { kind: 'embedding', dim: 768 },
          scaling: { pool: 'gpu', replicas: { max: 2 } },
          worker: { podSpec: { serviceAccountName: 'embedder' } },
        },
      },
      auth: { mode: 'deriveFromStore' as const },
    },
    // Fixed replicas: Deployment declares replicas, no KEDA objects.
    {
      row: 'fixed Pipeline',
      kind: 'Pipeline' as const,
      patch: { spec: { scaling: { mode: 'fixed', replicas: { min: 2, max: 2 } } } },
      auth: { mode: 'open' as const },
    },
  ])('$row is accepted by server-side apply', async ({ kind, patch, auth }) => {
    // The seed InfraRules has only cpu; gpu rows need the stock pools, so plan with those.
    const seed = kind === 'Function' ? loadSeed('function') : loadSeed('pipeline');
    const w = await createdWorkload<LayerFunction | LayerPipeline>(
      kind,
      mergePatch(seed, patch) as Record<string, unknown>,
    );
    const plan = planWorkloadObjects(
      { workload: w, infraRules: helmDefaultInfraRules() },
      operatorSettings({ inboundAuth: auth }),
    );
    expect(plan.blocked).toBe(false);
    const autoscaled = plan.apply.some((o) => o.kind === 'ScaledObject');
    let deployment: KubernetesObject | undefined;
    for (const obj of plan.apply) {
      const applied = await apply(obj as unknown as KubernetesObject, OPERATOR_FIELD_MANAGER);
      expect(applied.metadata?.ownerReferences?.[0]?.uid).toBe(w.metadata.uid);
      if (obj.kind === 'Deployment') deployment = applied;
    }
    // Created: the operator declares the replicas (fixed, or an autoscaled one's min) and, when
    // KEDA will manage them, shares them with the hand-over manager (ADR 0128).
    const owners = (d: KubernetesObject | undefined) =>
      replicasManagersOf(d?.metadata?.managedFields as { manager?: string; fieldsV1?: object }[]);
    expect(owners(deployment)).toEqual([OPERATOR_FIELD_MANAGER]);
    expect(plan.replicasHandover !== undefined).toBe(autoscaled);
    if (plan.replicasHandover) {
      const min = (w.spec as { scaling: { replicas: { min: number } } }).scaling.replicas.min;
      const shared = await apply(
        plan.replicasHandover as unknown as KubernetesObject,
        REPLICAS_HANDOVER_FIELD_MANAGER,
      );
      // The next pass sees both and leaves replicas out: the apiserver keeps the value (not 1).
      const next = planWorkloadObjects(
        {
          workload: w,
          infraRules: helmDefaultInfraRules(),
          deployment: { replicas: min, managers: owners(shared) },
        },
        operatorSettings({ inboundAuth: auth }),
      );
      expect(next.replicasHandover).toBeUndefined();
      const after = await apply(
        next.apply.find((o) => o.kind === 'Deployment') as unknown as KubernetesObject,
        OPERATOR_FIELD_MANAGER,
      );
      expect(owners(after)).toEqual([REPLICAS_HANDOVER_FIELD_MANAGER]);
      expect((after as { spec?: { replicas?: number } }).spec?.replicas).toBe(min);
    }
    // The status the operator would write (its own pass, as `layer render` shows it) is accepted
    // by the status subresource.
    const status = renderResources(
      [w, helmDefaultInfraRules()],
      operatorSettings({ inboundAuth: auth }),
      new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ).workloads[0]!.status;
    // SSA on /status with its own field manager (reference §1.4); the header picks apply-patch.
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: kind === 'Function' ? 'functions' : 'pipelines',
        name: w.metadata.name,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind,
          metadata: { name: w.metadata.name, namespace: NS },
          status,
        },
        fieldManager: `${OPERATOR_FIELD_MANAGER}-status`,
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    const live = await readCr(kind === 'Function' ? 'functions' : 'pipelines', w.metadata.name, NS);
    expect(live.status.pool).toBe(plan.pool);
    expect(live.status.conditions.map((c: { type: string }) => c.type)).toContain('Ready');
  });
});
