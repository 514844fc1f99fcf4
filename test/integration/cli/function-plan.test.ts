// `layer function plan -f function.yaml`: exact counts per target namespace from the real
// (embedded) store through the official client, batches, an estimate from a push worker's
// sample batch or a given rate — and nothing written: the namespace's schema and updated_at
// are what they were, and no row gained an attribute.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPushServer } from '../../../packages/worker/src/index.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { runLayer, type LayerRun } from '../../helpers/layer-cli.js';
import type { FunctionPlan } from '../../../src/cli/commands/function-plan.js';

let dir: string;
let server: StoreServer;
let store: StoreClient;

/** 300 products in `plan-a`: 40 already at v1, 10 dead-lettered, 50 in a category the filter skips. */
async function seed(): Promise<void> {
  const rows = Array.from({ length: 300 }, (_, i) => {
    const id = i + 1;
    return {
      id,
      title: `product ${id}`,
      category: id <= 50 ? 'archived' : 'live',
      ...(id > 50 && id <= 90 ? { tags: ['done'], tags_v: 'v1' } : {}),
      ...(id > 90 && id <= 100 ? { tags_error: '{"type":"HandlerFailed"}' } : {}),
    };
  });
  await store.upsertRows('plan-a', rows);
  // `plan-b` has rows but has never seen the engine's attributes.
  await store.upsertRows(
    'plan-b',
    Array.from({ length: 70 }, (_, i) => ({ id: i + 1, title: `b ${i + 1}`, category: 'live' })),
  );
}

function manifest(extra: { dispatch?: 'push' | 'pull' } = {}): string {
  const fn = loadSeed('function');
  const file = join(dir, `fn-${extra.dispatch ?? 'pull'}.yaml`);
  writeFileSync(
    file,
    stringify({
      ...fn,
      metadata: { name: 'plan-me' },
      spec: {
        ...fn.spec,
        targetNamespaces: ['plan-a', 'plan-b'],
        filter: ['category', 'Eq', 'live'],
        worker: { ...fn.spec.worker, dispatch: extra.dispatch ?? 'pull', batchSize: 32 },
        schedule: { ...fn.spec.schedule, maxInFlightBatches: 4 },
        scaling: { ...fn.spec.scaling, replicas: { min: 0, max: 3 } },
      },
    }),
  );
  return file;
}

function layer(...args: string[]): Promise<LayerRun> {
  return runLayer({ LAYER_STATE_DIR: join(dir, 'no-dev-env'), LAYER_STORE_URL: server.url }, args);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'layer-plan-'));
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url, apiKey: 'test' });
  await seed();
  // The engine's attributes are declared in plan-a (as a running Function leaves them).
  await store.write('plan-a', { schema: { tags_v: 'string', tags_error: 'string' } } as never);
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('layer function plan', () => {
  it('counts exactly what discovery would select, per namespace, and writes nothing', async () => {
    const before = await Promise.all(['plan-a', 'plan-b'].map((ns) => store.metadata(ns)));
    const run = await layer('function', 'plan', '-f', manifest(), '--json', '--rows-per-second', '40');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as FunctionPlan;
    // plan-a: 250 live, minus 40 at v1, minus 10 dead-lettered; plan-b: all 70.
    expect(plan.namespaces).toEqual({ 'plan-a': 200, 'plan-b': 70 });
    expect(plan.rows).toBe(270);
    // The same counts the store gives for the engine's own filter (batches never span namespaces).
    expect(
      await store.countRows('plan-a', [
        'And',
        [
          ['category', 'Eq', 'live'],
          [
            'Or',
            [
              ['tags_v', 'NotEq', 'v1'],
              ['tags_v', 'Eq', null],
            ],
          ],
          ['tags_error', 'Eq', null],
        ],
      ] as never),
    ).toBe(200);
    expect(plan.batches).toBe(Math.ceil(200 / 32) + Math.ceil(70 / 32));
    // 40 rows/s per call × 4 batches in flight = 160 rows/s → 270 / 160 s on 3 workers.
    expect(plan.estimate).toMatchObject({
      source: 'given',
      rowsPerSecond: 160,
      workers: 3,
      batchesInFlight: 4,
    });
    expect(plan.estimate!.seconds).toBeCloseTo(270 / 160, 2);
    expect(plan.estimate!.workerHours).toBeCloseTo(((270 / 160) * 3) / 3600, 2);

    const after = await Promise.all(['plan-a', 'plan-b'].map((ns) => store.metadata(ns)));
    expect(after).toEqual(before);
    const b = await store.query('plan-b', { rank_by: ['id', 'asc'], limit: 100, include_attributes: true });
    expect(b.rows?.every((r) => !('tags_v' in r) && !('tags_error' in r))).toBe(true);
  });

  it('times a sample batch on a reachable push worker and estimates from it', async () => {
    const seen: number[] = [];
    const worker = createPushServer(async (rows) => {
      seen.push(rows.length);
      await new Promise((r) => setTimeout(r, 100));
      return rows.map((r) => ({ id: r.id, value: ['x'] }));
    });
    const port = await worker.listen(0);
    try {
      const run = await layer(
        'function',
        'plan',
        '-f',
        manifest({ dispatch: 'push' }),
        '--push-url',
        `http://127.0.0.1:${port}`,
        '--sample',
        '16',
        '--json',
      );
      expect(run.code, run.stderr).toBe(0);
      const plan = JSON.parse(run.stdout) as FunctionPlan;
      expect(plan.rows).toBe(270);
      expect(seen).toEqual([16]);
      expect(plan.estimate!.source).toBe('sample');
      expect(plan.estimate!.sample!.rows).toBe(16);
      // 16 rows in ≥ 100 ms: at most 160 rows/s per call, × 4 in flight.
      expect(plan.estimate!.rowsPerSecond).toBeLessThanOrEqual(640);
      expect(plan.estimate!.rowsPerSecond).toBeGreaterThan(0);
      // The sample wrote nothing back.
      const rows = await store.query('plan-a', {
        rank_by: ['id', 'asc'],
        limit: 300,
        filters: ['tags', 'Eq', ['x']] as never,
      });
      expect(rows.rows ?? []).toHaveLength(0);
    } finally {
      await worker.close();
    }
  });

  it('says what is missing for an estimate, and names a bad flag', async () => {
    const run = await layer('function', 'plan', '-f', manifest());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would process 270 rows in 10 batches');
    expect(run.stdout).toContain('pass --rows-per-second');
    const bad = await layer('function', 'plan', '-f', manifest(), '--rows-per-second', 'fast');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--rows-per-second');
  });

  it("plans the seed's own Function on a namespace without tags_v: every row, nothing written", async () => {
    // plan-b has never seen tags_v; the seed's filter names it. The store (like the service)
    // refuses unknown filter attributes, so the plan folds them as null on every row.
    const fn = loadSeed('function');
    const file = join(dir, 'seed-fn.yaml');
    writeFileSync(file, stringify({ ...fn, spec: { ...fn.spec, targetNamespaces: ['plan-b'] } }));
    const before = await store.metadata('plan-b');
    const run = await layer('function', 'plan', '-f', file, '--json', '--rows-per-second', '10');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as FunctionPlan).namespaces).toEqual({ 'plan-b': 70 });
    expect(await store.metadata('plan-b')).toEqual(before);
    // A filter that can match nothing on an absent attribute counts 0, still without a 400.
    writeFileSync(
      file,
      stringify({
        ...fn,
        spec: { ...fn.spec, targetNamespaces: ['plan-b'], filter: ['tags_v', 'Eq', 'v1'] },
      }),
    );
    const none = await layer('function', 'plan', '-f', file, '--json', '--rows-per-second', '10');
    expect(none.code, none.stderr).toBe(0);
    expect((JSON.parse(none.stdout) as FunctionPlan).namespaces).toEqual({ 'plan-b': 0 });
  });

  it('a target namespace that does not exist is an error naming it, not "0 rows"', async () => {
    const fn = loadSeed('function');
    const file = join(dir, 'missing-ns.yaml');
    writeFileSync(
      file,
      stringify({ ...fn, spec: { ...fn.spec, targetNamespaces: ['plan-a', 'plan-nope'] } }),
    );
    const run = await layer('function', 'plan', '-f', file, '--rows-per-second', '10');
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain('would process');
    expect(run.stderr).toContain("namespace 'plan-nope' was not found");
    expect(run.stderr).toContain('spec.targetNamespaces');
    expect(run.stderr).not.toContain('start the store');
  });

  it('a store URL that answers 404 to everything is an error, not "0 rows"', async () => {
    const notAStore = createServer((_req, res) => res.writeHead(404).end('Not Found'));
    await new Promise<void>((r) => notAStore.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(notAStore.address() as AddressInfo).port}`;
      const fn = loadSeed('function');
      const file = join(dir, 'seed-404.yaml');
      writeFileSync(file, stringify(fn));
      const run = await runLayer({ LAYER_STATE_DIR: join(dir, 'no-dev-env'), LAYER_STORE_URL: url }, [
        'function',
        'plan',
        '-f',
        file,
        '--rows-per-second',
        '10',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stdout).not.toContain('would process');
      expect(run.stderr).toContain(`was not found in the store at ${url}`);
      expect(run.stderr).toContain('not a Turbopuffer-compatible store');
    } finally {
      await new Promise((r) => notAStore.close(r));
    }
  });

  it('an empty file says it holds no Function; a Pipeline file says plan is for Functions', async () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    const run = await layer('function', 'plan', '-f', empty);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${empty} holds no Function`);
    const pipeline = join(dir, 'pipeline.yaml');
    writeFileSync(pipeline, stringify(loadSeed('pipeline')));
    const p = await layer('function', 'plan', '-f', pipeline);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toMatch(/Pipeline \S+: layer function plan is for Functions/);
  });
});
