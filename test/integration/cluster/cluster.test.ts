// The project's workflows on the production-shaped Temporal cluster (two temporal-server
// processes on 127.0.0.2 and 127.0.0.3 on PostgreSQL, behind one forwarder address): a pull
// Function, a push Function and a Pipeline end to end with every value checked, exactly as on the
// dev server; then the Temporal UI server pointed at the cluster lists the Function's workflow in
// a real headless Chromium. The cluster is started for this file only (test/helpers/temporal-cluster.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { createPushServer } from '../../../packages/worker/src/function-worker.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { submitPipelineItems } from '../../../src/client/pipeline-client.js';
import { startClusterForFile, type ClusterForFile } from '../../helpers/temporal-cluster.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
  type EngineHarness,
} from '../function/harness.js';
import {
  byDocument,
  pipelineSpec,
  readChunks,
  startPipeline,
  startPipelineHarness,
  startWorker,
  statusOf as pipelineStatusOf,
  type PipelineHarness,
} from '../pipeline/harness.js';
import { chunker, paragraphs } from '../pipeline/chunker.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../.layer/artifacts/temporal-cluster');
const haveChromium = existsSync(CHROMIUM);
const itWithBrowser = haveChromium || process.env.CI === 'true' ? it : it.skip;

let cluster: ClusterForFile;
let h: EngineHarness;
let p: PipelineHarness;
let pullWorkflowId = '';
let pullName = '';

beforeAll(async () => {
  cluster = await startClusterForFile({ hosts: 2, numHistoryShards: 16, ui: true });
  h = await startEngineHarness();
  p = await startPipelineHarness();
}, 45 * 60_000);

afterAll(async () => {
  await p?.close();
  await h?.close();
  await cluster?.stop();
});

describe('the Layer workflows on a two-host Temporal cluster on PostgreSQL', () => {
  it('is two server processes on their own loopback addresses behind one client address', () => {
    expect(cluster.hosts.map((x) => x.ip)).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(cluster.hosts.every((x) => x.alive())).toBe(true);
    expect(cluster.address).toMatch(/^127\.0\.0\.1:\d+$/);
    // The harnesses' connections went through the forwarder to both frontends in turn.
    expect(Object.keys(cluster.forwarder!.connections).sort()).toEqual(
      cluster.hosts.map((x) => x.frontendAddress).sort(),
    );
    for (const x of cluster.hosts) expect(x.cpuSeconds()).toBeGreaterThan(0);
  });

  it('runs a pull Function to exactly the expected values', async () => {
    const ns = uniqueName('products');
    pullName = uniqueName('tag');
    await seedRows(h.store, ns, range(1, 201));
    await seedRows(h.store, ns, range(201, 211), () => ({ tags: ['kept'], tags_v: 'v1' }));
    const seen = new Map<string, number>();
    const spec = baseSpec(pullName, ns);
    const worker = startPullWorker(h, spec, taggingHandler(seen));
    try {
      const { workflowId } = await startFunction(h, spec);
      pullWorkflowId = workflowId;
      const status = await eventually(
        () => statusOf(h, spec),
        (s) => s.counters.processed === 200 && s.pendingRows === 0 && s.phase === 'idle',
        120_000,
        '200 rows processed and idle',
      );
      expect(status.counters.deadLettered).toBe(0);
      const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
      expect(rows).toHaveLength(210);
      for (const r of rows) {
        const id = r.id as number;
        expect(r.tags_v).toBe('v1');
        expect(r.tags).toEqual(id > 200 ? ['kept'] : ['product', 'number', String(id), 'deluxe']);
      }
      expect(seen.size).toBe(200);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it('runs a push Function through a worker serving /run to exactly the expected values', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('push');
    await seedRows(h.store, ns, range(1, 51));
    const requests: number[] = [];
    const server = createPushServer(async (rows) => {
      requests.push(rows.length);
      return rows.map((r) => ({ id: r.id, value: ['pushed', String(r.inputs.title).split(' ')[2] ?? ''] }));
    });
    const port = await server.listen(0);
    try {
      const spec = baseSpec(name, ns, {
        worker: { dispatch: 'push', batchSize: 16, timeoutSeconds: 5, pushUrl: `http://127.0.0.1:${port}` },
      });
      await startFunction(h, spec);
      const s = await eventually(
        () => statusOf(h, spec),
        (x) => x.counters.processed === 50,
        120_000,
        '50 rows via push',
      );
      expect(s.counters.batches).toBe(4);
      expect(s.counters.deadLettered).toBe(0);
      expect(requests.sort((a, b) => a - b)).toEqual([2, 16, 16, 16]);
      const rows = await readAll(h.store, ns, ['tags', 'tags_v']);
      expect(rows).toHaveLength(50);
      for (const r of rows) expect(r).toMatchObject({ tags: ['pushed', String(r.id)], tags_v: 'v1' });
    } finally {
      await server.close();
    }
  });

  it('runs a Pipeline over submitted items to exactly their chunks', async () => {
    const name = uniqueName('submit');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, { worker: { dispatch: 'pull', batchSize: 5, timeoutSeconds: 20 } });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    await startPipeline(p, spec);
    const items = Array.from({ length: 12 }, (_, i) => ({
      key: `item-${i}`,
      payload: {
        text: Array.from({ length: 1 + (i % 3) }, (_, k) => `item ${i} paragraph ${k + 1}`).join('\n\n'),
      },
    }));
    expect(await submitPipelineItems(p.client, ref, items)).toEqual({ accepted: 12, duplicates: 0 });
    const calls = new Map<string, number>();
    const worker = startWorker(p, spec, { process: chunker(calls) });
    try {
      const st = await eventually(
        () => pipelineStatusOf(p, ref),
        (s) => s.queue.done === 12 && s.phase === 'idle',
        120_000,
        'all items done',
      );
      expect(st.queue).toEqual({ pending: 0, inFlight: 0, done: 12, failed: 0 });
      expect(calls.size).toBe(12);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      const docs = byDocument(await readChunks(p.store, ns));
      expect(Object.keys(docs).sort()).toEqual(items.map((i) => i.key).sort());
      for (const it of items) expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
    } finally {
      await worker.stop();
    }
  });

  itWithBrowser('shows the Function in the Temporal UI server pointed at the cluster', async () => {
    if (!haveChromium)
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    expect(pullWorkflowId).toBe(functionWorkflowId('test', pullName));
    mkdirSync(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // Listed through SQL visibility, filtered by a Layer search attribute.
      const query = `LayerKind = 'Function' AND LayerName = '${pullName}'`;
      await page.goto(
        `${cluster.uiUrl}/namespaces/${cluster.namespace}/workflows?query=${encodeURIComponent(query)}`,
      );
      const text = await eventually(
        async () => page.innerText('body').catch(() => ''),
        (t) => t.includes(pullWorkflowId),
        60_000,
        'the Function in the workflow list',
      );
      expect(text).toContain('functionWorkflow');
      await page.screenshot({ path: join(ARTIFACTS, 'workflow-list.png') });
    } finally {
      await browser.close();
    }
  });
});
