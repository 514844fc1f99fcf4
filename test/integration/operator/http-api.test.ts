// The orchestrator HTTP API with inbound auth resolved from real VectorStores and Secrets on the
// apiserver (read with the operator's ClusterRole): open, deriveFromStore and keys modes, scopes,
// wrong and missing keys, and the queue-depth contract of ADR 0003.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { createHttpApi, type HttpApi, type HttpApiDeps } from '../../../src/server/http-api.js';
import { createKubeInboundAuthResolver } from '../../../src/server/inbound-auth.js';
import { mintServiceAccountCredentials } from '../../../src/dev/kube-apiserver.js';
import { functionCountersSchema, type FunctionStatus } from '../../../src/contracts/function.js';
import { pipelineCountersSchema, type PipelineStatus } from '../../../src/contracts/pipeline.js';
import { kubeConfig } from '../../helpers/servers.js';
import {
  applyCr,
  eventually,
  installOperatorPrerequisites,
  OPERATOR_ROLE,
  testNamespace,
} from './harness.js';

const STORE_KEY = `tpuf_${randomUUID()}`;
const READ_KEY = `layer_read_${randomUUID()}`;
const ADMIN_KEY = `layer_admin_${randomUUID()}`;

let ns: string;
let operatorKc: KubeConfig;
const apis: HttpApi[] = [];

function status(pendingRows: number, inFlightBatches: number): FunctionStatus {
  // What /metrics reads besides the depth: the workflow's counters and gauges.
  return {
    pendingRows,
    inFlightBatches,
    phase: 'running',
    claimsInFlight: inFlightBatches,
    rowsPerSecond: 0,
    counters: functionCountersSchema.parse({}),
  } as FunctionStatus;
}

function pipelineStatus(pending: number, batchSize: number, inFlightBatches: number): PipelineStatus {
  return {
    phase: 'running',
    batchSize,
    inFlightBatches,
    queue: { pending, inFlight: 64, done: 0, failed: 0 },
    counters: pipelineCountersSchema.parse({}),
  } as PipelineStatus;
}

async function startApi(store: string, auth?: HttpApiDeps['auth']): Promise<string> {
  const deps: HttpApiDeps = {
    auth:
      auth ??
      createKubeInboundAuthResolver({
        kubeConfig: operatorKc,
        vectorStore: { namespace: ns, name: store },
        cacheMs: 0,
      }),
    ready: () => true,
    functions: {
      list: async () => [{ namespace: 'layer', name: 'tag-products', batchSize: 32 }],
      lookup: async (n, name) => (n === 'layer' && name === 'tag-products' ? { batchSize: 32 } : undefined),
      status: async () => status(100, 2),
      // ceil(100 / 32) + 2 in flight, as the workflow's summary computes it (the batch size passed in is the CR's)
      queueDepth: async (_n, _name, batchSize) => (batchSize === 32 ? 6 : -1),
      discoverNow: async () => undefined,
      replayDeadLetters: async () => 3,
    },
    pipelines: {
      list: async () => [{ namespace: 'layer', name: 'product-images' }],
      exists: async (_n, name) => name === 'product-images',
      // ceil(130 / 64) waiting + 1 in flight, as pipelineQueueDepth computes it from the status below
      queueDepth: async () => 4,
      status: async () => pipelineStatus(130, 64, 1),
    },
  };
  const api = createHttpApi(deps);
  apis.push(api);
  return api.listen();
}

async function call(base: string, path: string, token?: string, method = 'GET') {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.text() };
}

function vectorStore(name: string, inboundAuth: Record<string, unknown>) {
  return {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'VectorStore',
    metadata: { name, namespace: ns },
    spec: {
      endpoint: { url: 'http://127.0.0.1:1', region: 'test' },
      credential: { secretRef: { name: 'layer', key: 'vector-store-api-key' } },
      inboundAuth,
    },
  };
}

beforeAll(async () => {
  const admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  ns = await testNamespace(admin, 'opapi');
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'layer' },
      stringData: {
        'vector-store-api-key': STORE_KEY,
        'read-key': READ_KEY,
        'layer-inbound-worker-api-key': ADMIN_KEY,
      },
    },
  });
  const custom = admin.makeApiClient(CustomObjectsApi);
  await applyCr(custom, vectorStore('open', { mode: 'open' }));
  await applyCr(custom, vectorStore('derive', { mode: 'deriveFromStore' }));
  await applyCr(
    custom,
    vectorStore('keys', {
      mode: 'keys',
      keys: [
        { name: 'reader', scopes: ['read'], secretRef: { key: 'read-key' } },
        {
          name: 'worker',
          scopes: ['read', 'write', 'admin'],
          secretRef: { key: 'layer-inbound-worker-api-key' },
        },
      ],
    }),
  );
  operatorKc = (
    await mintServiceAccountCredentials(admin, {
      name: `api-${randomUUID().slice(0, 6)}`,
      namespace: 'layer-optest',
      clusterRole: OPERATOR_ROLE,
    })
  ).kubeConfig;
  await eventually('operator RBAC', () =>
    operatorKc
      .makeApiClient(AppsV1Api)
      .listDeploymentForAllNamespaces({ limit: 1 })
      .then(() => true),
  );
});

afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
});

describe('orchestrator HTTP API', () => {
  it('health and readiness need no credentials; unknown paths are 404', async () => {
    const base = await startApi('keys');
    expect(await call(base, '/healthz')).toMatchObject({ status: 200 });
    expect(await call(base, '/readyz')).toMatchObject({ status: 200 });
    expect((await call(base, '/nope', ADMIN_KEY)).status).toBe(404);
  });

  it('open mode: everything without a bearer; queue depth per ADR 0003', async () => {
    const base = await startApi('open');
    const r = await call(base, '/v1/queue-depth/functions/layer/tag-products');
    expect(r.status).toBe(200);
    // ceil(100 / 32) + 2 in flight
    expect(JSON.parse(r.body)).toEqual({
      queueDepth: 6,
      metric: 'layer_udf_queue_depth',
      kind: 'Function',
      namespace: 'layer',
      name: 'tag-products',
    });
    expect((await call(base, '/v1/queue-depth/functions/layer/missing')).status).toBe(404);
    expect(JSON.parse((await call(base, '/v1/queue-depth/pipelines/layer/product-images')).body)).toEqual({
      queueDepth: 4,
      metric: 'layer_pipeline_queue_depth',
      kind: 'Pipeline',
      namespace: 'layer',
      name: 'product-images',
    });
    expect((await call(base, '/v1/queue-depth/pipelines/layer/missing')).status).toBe(404);
    // A malformed %-escape is the caller's mistake: 400 with a message, not a 500.
    const badEscape = await call(base, '/v1/queue-depth/functions/layer/tag%E0%A4%A');
    expect(badEscape.status).toBe(400);
    expect(badEscape.body).toMatch(/malformed percent-escape/);
    expect(JSON.parse((await call(base, '/v1/pipelines/layer/product-images/status')).body)).toMatchObject({
      kind: 'Pipeline',
      workflow: 'running',
      queueDepth: 4,
      status: { phase: 'running', batchSize: 64 },
    });
    const metrics = await call(base, '/metrics');
    expect(metrics.body).toContain('layer_udf_queue_depth{namespace="layer",name="tag-products"} 6');
    expect(metrics.body).toContain('layer_pipeline_queue_depth{namespace="layer",name="product-images"} 4');
    expect(JSON.parse((await call(base, '/v1/functions/layer/tag-products/status')).body)).toMatchObject({
      workflow: 'running',
      queueDepth: 6,
    });
  });

  it('/metrics leaves out a workload whose status query hangs instead of hanging the scrape', async () => {
    const deps: HttpApiDeps = {
      auth: async () => ({ mode: 'open' }),
      ready: () => true,
      statusTimeoutMs: 300,
      functions: {
        list: async () => [
          { namespace: 'layer', name: 'stuck', batchSize: 32 },
          { namespace: 'layer', name: 'fine', batchSize: 32 },
        ],
        lookup: async () => ({ batchSize: 32 }),
        // A workflow whose worker is gone: its query never answers.
        status: async (_n, name) => (name === 'stuck' ? new Promise<never>(() => undefined) : status(64, 1)),
        queueDepth: async () => 3,
        discoverNow: async () => undefined,
        replayDeadLetters: async () => 0,
      },
      pipelines: {
        list: async () => [],
        exists: async () => false,
        queueDepth: async () => 0,
        status: async () => undefined,
      },
    };
    const api = createHttpApi(deps);
    apis.push(api);
    const base = await api.listen();
    const started = Date.now();
    const metrics = await call(base, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('layer_udf_queue_depth{namespace="layer",name="fine"} 3');
    expect(metrics.body).not.toContain('name="stuck"');
    expect(Date.now() - started).toBeLessThan(30_000); // answered, not stuck (the bound is 300 ms)
  });

  it('read-only (a pod with no VectorStore): status and queue depth answer, control calls are refused', async () => {
    const base = await startApi('none', async () => ({ mode: 'readOnly' }));
    expect((await call(base, '/v1/queue-depth/functions/layer/tag-products')).status).toBe(200);
    expect((await call(base, '/v1/functions/layer/tag-products/status')).status).toBe(200);
    expect((await call(base, '/metrics')).status).toBe(200);
    const path = '/v1/functions/layer/tag-products';
    expect((await call(base, `${path}/discover`, undefined, 'POST')).status).toBe(403);
    expect((await call(base, `${path}/replay-dead-letters`, 'any-token', 'POST')).status).toBe(403);
  });

  it('deriveFromStore: the bearer must equal the upstream store key', async () => {
    const base = await startApi('derive');
    expect((await call(base, '/v1/queue-depth/functions/layer/tag-products', STORE_KEY)).status).toBe(200);
    const missing = await call(base, '/v1/queue-depth/functions/layer/tag-products');
    const wrong = await call(base, '/v1/queue-depth/functions/layer/tag-products', `${STORE_KEY}x`);
    for (const r of [missing, wrong]) {
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toEqual({ error: 'unauthorized' });
    }
    expect((await call(base, '/metrics')).status).toBe(401);
  });

  it('keys mode: scopes decide, wrong and missing keys get 401, nothing leaks', async () => {
    const base = await startApi('keys');
    const path = '/v1/functions/layer/tag-products';
    expect((await call(base, `${path}/status`, READ_KEY)).status).toBe(200);
    const noWrite = await call(base, `${path}/discover`, READ_KEY, 'POST');
    expect(noWrite).toEqual({ status: 403, body: JSON.stringify({ error: 'forbidden' }) });
    expect((await call(base, `${path}/replay-dead-letters`, READ_KEY, 'POST')).status).toBe(403);
    expect((await call(base, `${path}/discover`, ADMIN_KEY, 'POST')).status).toBe(202);
    expect(JSON.parse((await call(base, `${path}/replay-dead-letters`, ADMIN_KEY, 'POST')).body)).toEqual({
      cleared: 3,
    });
    // The store key is not a gateway key in keys mode.
    for (const token of [undefined, STORE_KEY, 'layer_guess', READ_KEY.slice(0, -1)]) {
      const r = await call(base, `${path}/status`, token);
      expect(r.status).toBe(401);
      expect(r.body).toBe(JSON.stringify({ error: 'unauthorized' }));
    }
  });
});
