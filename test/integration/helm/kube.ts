// Raw REST calls to the test apiserver for the chart tests: server-side apply of any object the
// chart renders, sent exactly as rendered (client-node's typed models would drop unknown fields,
// which is what fieldValidation=Strict must see), optionally as a dry run.
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Json } from '../../unit/helm/chart-files.js';

const PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Ingress: 'ingresses',
  CustomResourceDefinition: 'customresourcedefinitions',
  VectorStore: 'vectorstores',
  InfraRules: 'infrarules',
  Index: 'indexes',
  Function: 'functions',
  Pipeline: 'pipelines',
  ScaledObject: 'scaledobjects',
  TriggerAuthentication: 'triggerauthentications',
  NodePool: 'nodepools',
  EC2NodeClass: 'ec2nodeclasses',
  ServiceMonitor: 'servicemonitors',
  Event: 'events',
  Lease: 'leases',
};

export interface ApiResult {
  status: number;
  body: Json;
}

/** REST path of an object (or of its collection when name is omitted). */
export function restPath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const plural = PLURALS[kind];
  if (!plural) throw new Error(`no plural known for ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}${name ? `/${name}` : ''}`;
}

/**
 * One REST call; a 429 (the apiserver's storage for a kind still initialising) is retried.
 * `accept` asks for another representation (a Table: what `kubectl get` prints).
 */
export async function kubeRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  accept = 'application/json',
): Promise<ApiResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await kubeRequestOnce(kc, method, path, body, contentType, accept);
    if (r.status !== 429 || attempt >= 30) return r;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function kubeRequestOnce(
  kc: KubeConfig,
  method: string,
  path: string,
  body: unknown,
  contentType: string,
  accept: string,
): Promise<ApiResult> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method,
    hostname: server.hostname,
    port: server.port,
    path,
    headers: { Accept: accept, ...(body ? { 'Content-Type': contentType } : {}) },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let parsed: Json = {};
        try {
          parsed = text ? (JSON.parse(text) as Json) : {};
        } catch {
          parsed = { message: text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Server-side apply as the chart renders it; Strict refuses unknown or duplicate fields. */
export function serverSideApply(
  kc: KubeConfig,
  obj: Json,
  opts: { dryRun?: boolean } = {},
): Promise<ApiResult> {
  const meta = obj.metadata as { name: string; namespace?: string };
  const query = new URLSearchParams({
    fieldManager: 'layer-helm-test',
    force: 'true',
    fieldValidation: 'Strict',
  });
  if (opts.dryRun) query.set('dryRun', 'All');
  return kubeRequest(
    kc,
    'PATCH',
    `${restPath(obj.apiVersion as string, obj.kind as string, meta.namespace, meta.name)}?${query.toString()}`,
    obj,
    'application/apply-patch+yaml',
  );
}

/** The live object, or undefined when it does not exist. */
export async function readObject(
  kc: KubeConfig,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<Json | undefined> {
  const r = await kubeRequest(kc, 'GET', restPath(apiVersion, kind, namespace, name));
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET ${kind}/${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Names of the objects of one kind (in a namespace, or cluster-wide), optionally by label selector. */
export async function listNames(
  kc: KubeConfig,
  apiVersion: string,
  kind: string,
  namespace?: string,
  labelSelector?: string,
): Promise<string[]> {
  const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
  const r = await kubeRequest(kc, 'GET', `${restPath(apiVersion, kind, namespace)}${q}`);
  if (r.status === 404) return [];
  if (r.status !== 200) throw new Error(`LIST ${kind}: ${r.status} ${JSON.stringify(r.body)}`);
  return ((r.body.items as Json[] | undefined) ?? []).map(
    (i) =>
      `${(i.metadata as Json).namespace ? `${(i.metadata as Json).namespace}/` : ''}${(i.metadata as Json).name}`,
  );
}

/** Server-side apply CRDs and wait until each is Established (its kind is served). */
export async function installCrds(kc: KubeConfig, crds: Json[]): Promise<void> {
  for (const crd of crds) {
    const r = await serverSideApply(kc, crd);
    if (r.status >= 300)
      throw new Error(`CRD ${crd.metadata.name as string} refused: ${JSON.stringify(r.body)}`);
  }
  for (const crd of crds) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const live = await readObject(
        kc,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        undefined,
        crd.metadata.name as string,
      );
      const conditions = ((live?.status as Json | undefined)?.conditions as Json[] | undefined) ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${crd.metadata.name as string} not Established within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
