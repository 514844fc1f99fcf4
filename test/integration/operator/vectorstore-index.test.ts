// VectorStore and Index reconciliation on the real servers: the credential Secret is resolved and
// the endpoint probed with a cheap store call (the embedded store, with auth on); Index uniqueness
// and storeRef; a Function's indexSelector resolved to namespaces and handed to its workflow; and
// no Secret value anywhere in the reconcile workflows' histories.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import type { ReconcileRef } from '../../../src/contracts/reconcile.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { applyCr, condition, readCr, startHarness, testNamespace, type OperatorHarness } from './harness.js';

const STORE_KEY = `tpuf_${randomUUID()}`;
const WRONG_KEY = `tpuf_wrong_${randomUUID()}`;
let h: OperatorHarness;
let store: StoreServer;
let ns: string;
const reconciled: ReconcileRef[] = [];

async function reconcile(ref: ReconcileRef): Promise<void> {
  reconciled.push(ref);
  await h.reconcile(ref);
}

function vectorStore(name: string, secret: string, url = store.url) {
  return {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'VectorStore',
    metadata: { name, namespace: ns },
    spec: {
      endpoint: { url, region: 'test' },
      credential: { secretRef: { name: secret, key: 'api-key' } },
      inboundAuth: { mode: 'deriveFromStore' },
    },
  };
}

function index(name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'Index',
    metadata: { name, namespace: ns, labels },
    spec,
  };
}

beforeAll(async () => {
  store = await startStoreServer({ memory: true, apiKeys: [STORE_KEY] });
  h = await startHarness();
  ns = await testNamespace(h.admin, 'opvs');
  for (const [name, key] of [
    ['store-credential', STORE_KEY],
    ['wrong-credential', WRONG_KEY],
  ] as const) {
    await h.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name }, stringData: { 'api-key': key } },
    });
  }
  await applyCr(h.custom, loadSeed('infraRules'));
});

afterAll(async () => {
  await h?.close();
  await store?.close();
});

describe('VectorStore', () => {
  it('credential resolved and endpoint reachable → Ready', async () => {
    await applyCr(h.custom, vectorStore('main', 'store-credential'));
    await reconcile({ kind: 'VectorStore', namespace: ns, name: 'main' });
    const cr = await readCr(h.custom, 'VectorStore', ns, 'main');
    expect(condition(cr, 'CredentialResolved')).toMatchObject({ status: 'True', reason: 'SecretFound' });
    expect(condition(cr, 'EndpointReachable')).toMatchObject({ status: 'True', reason: 'Reachable' });
    expect(condition(cr, 'Ready')).toMatchObject({
      status: 'True',
      observedGeneration: cr?.metadata.generation,
    });
  });

  it('a key the store refuses → CredentialRejected; a missing Secret → SecretNotFound', async () => {
    await applyCr(h.custom, vectorStore('wrong', 'wrong-credential'));
    await applyCr(h.custom, vectorStore('nosecret', 'does-not-exist'));
    await reconcile({ kind: 'VectorStore', namespace: ns, name: 'wrong' });
    await reconcile({ kind: 'VectorStore', namespace: ns, name: 'nosecret' });
    const wrong = await readCr(h.custom, 'VectorStore', ns, 'wrong');
    expect(condition(wrong, 'EndpointReachable')).toMatchObject({
      status: 'False',
      reason: 'CredentialRejected',
    });
    expect(JSON.stringify(wrong)).not.toContain(WRONG_KEY);
    const missing = await readCr(h.custom, 'VectorStore', ns, 'nosecret');
    expect(condition(missing, 'CredentialResolved')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
    });
    expect(condition(missing, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
  });
});

describe('VectorStore in keys mode', () => {
  it('the worker bearer key missing from its Secret → not Ready, naming the key; present → Ready (issue 28 item 13)', async () => {
    const keysStore = (name: string, workerSecretName: string) => ({
      ...vectorStore(name, 'store-credential'),
      spec: {
        ...vectorStore(name, 'store-credential').spec,
        inboundAuth: {
          mode: 'keys',
          keys: [{ name: 'ops', apiKey: 'k-ops', scopes: ['admin'] }],
          workerSecretName,
          workerSecretKey: 'worker-api-key',
        },
      },
    });
    // The release Secret exists but lacks the worker key.
    await h.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'release-no-worker-key' }, stringData: { other: 'x' } },
    });
    await h.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'release-with-worker-key' }, stringData: { 'worker-api-key': 'w' } },
    });
    await applyCr(h.custom, keysStore('keys-missing', 'release-no-worker-key'));
    await applyCr(h.custom, keysStore('keys-ok', 'release-with-worker-key'));
    await reconcile({ kind: 'VectorStore', namespace: ns, name: 'keys-missing' });
    await reconcile({ kind: 'VectorStore', namespace: ns, name: 'keys-ok' });
    const missing = await readCr(h.custom, 'VectorStore', ns, 'keys-missing');
    expect(condition(missing, 'WorkerKeyResolved')).toMatchObject({
      status: 'False',
      reason: 'SecretKeyMissing',
    });
    expect(condition(missing, 'WorkerKeyResolved')?.message).toContain(
      `Secret ${ns}/release-no-worker-key has no key worker-api-key`,
    );
    expect(condition(missing, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretKeyMissing' });
    const ok = await readCr(h.custom, 'VectorStore', ns, 'keys-ok');
    expect(condition(ok, 'WorkerKeyResolved')).toMatchObject({ status: 'True', reason: 'SecretFound' });
    expect(condition(ok, 'Ready')).toMatchObject({ status: 'True' });
  });
});

describe('Index', () => {
  it('one Index per namespace; storeRef must exist', async () => {
    await applyCr(
      h.custom,
      index('products', { team: 'search' }, { backend: { storeRef: { name: 'main' } } }),
    );
    await reconcile({ kind: 'Index', namespace: ns, name: 'products' });
    await applyCr(h.custom, index('products-again', {}, { namespace: 'products' }));
    await applyCr(h.custom, index('orphan', {}, { backend: { storeRef: { name: 'nope' } } }));
    for (const name of ['products', 'products-again', 'orphan'])
      await reconcile({ kind: 'Index', namespace: ns, name });
    const first = await readCr(h.custom, 'Index', ns, 'products');
    expect(condition(first, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(first, 'StoreResolved')).toMatchObject({ status: 'True', reason: 'StoreFound' });
    const dup = await readCr(h.custom, 'Index', ns, 'products-again');
    expect(condition(dup, 'NamespaceUnique')).toMatchObject({
      status: 'False',
      reason: 'DuplicateNamespace',
    });
    expect(condition(dup, 'NamespaceUnique')?.message).toContain(`${ns}/products`);
    const orphan = await readCr(h.custom, 'Index', ns, 'orphan');
    expect(condition(orphan, 'StoreResolved')).toMatchObject({ status: 'False', reason: 'StoreNotFound' });
  });

  it("a Function's indexSelector resolves to namespaces, listed in its status and handed to its workflow", async () => {
    await applyCr(h.custom, index('reviews', { team: 'search' }, { namespace: 'reviews-v2' }));
    const seed = loadSeed('function');
    const { targetNamespaces: _t, ...spec } = seed.spec;
    await applyCr(h.custom, {
      ...seed,
      metadata: { name: 'by-label', namespace: ns },
      spec: { ...spec, indexSelector: { matchLabels: { team: 'search' } } },
    });
    await reconcile({ kind: 'Function', namespace: ns, name: 'by-label' });
    const cr = await readCr(h.custom, 'Function', ns, 'by-label');
    expect(condition(cr, 'TargetsResolved')).toMatchObject({ status: 'True', reason: 'TargetsFound' });
    expect(condition(cr, 'TargetsResolved')?.message).toContain('products, reviews-v2');
    expect(h.engine.syncsFor(ns, 'by-label').at(-1)).toMatchObject({
      spec: { targetNamespaces: ['products', 'reviews-v2'] },
    });
  });
});

describe('secrets', () => {
  it('no Secret value appears in any reconcile workflow history', async () => {
    expect(reconciled.length).toBeGreaterThan(0);
    const ids = [...new Set(reconciled.map((r) => reconcileWorkflowId(r.kind, r.namespace, r.name)))];
    let scanned = 0;
    for (const id of ids) {
      for await (const wf of h.client.workflow.list({ query: `WorkflowId = "${id}"` })) {
        const history = await h.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        const text = flatten(history);
        // The scan sees decoded payloads (the input names the namespace), so a key would show.
        expect(text).toContain(ns);
        for (const secret of [STORE_KEY, WRONG_KEY]) {
          expect(text).not.toContain(secret);
          expect(text).not.toContain(Buffer.from(secret).toString('base64'));
        }
        scanned++;
      }
    }
    expect(scanned).toBeGreaterThanOrEqual(ids.length);
  });
});

/** Every string and every payload's bytes (decoded as UTF-8) in a history, concatenated. */
function flatten(v: unknown, out: string[] = []): string {
  if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
  else if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) flatten(x, out);
  return out.join('\n');
}
