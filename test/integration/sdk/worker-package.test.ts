// @hevlayer/worker as a user gets it: build and `npm pack` packages/worker, install the tarball
// into an empty project (its dependencies come from the npm registry), copy the tag-products
// example there and run it as its own process against the real Temporal dev server. A Function
// started with the real orchestrator worker gets every row tagged by that process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTaskQueue } from '../../../packages/worker/src/contracts/names.js';
import { tagsForTitle } from '../../../examples/tag-products/handler.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  statusOf,
  uniqueName,
  type EngineHarness,
} from '../function/harness.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const pkgDir = join(root, 'packages/worker');
const tsxLoader = join(root, 'node_modules/tsx/dist/esm/index.mjs');

let h: EngineHarness;
let project: string;
let tarball: string;
let worker: ChildProcess | undefined;
let workerLog = '';

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'layer-worker-pkg-'));
  await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: pkgDir });
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], {
    cwd: pkgDir,
  });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = join(project, info.filename);
  expect(info.files.map((f) => f.path)).toContain('dist/index.js');
  const app = join(project, 'app');
  cpSync(join(root, 'examples/tag-products'), app, {
    recursive: true,
    filter: (src) => !/node_modules|dist/.test(src),
  });
  // The example's package.json names @hevlayer/worker from the registry; before publishing, the
  // tarball stands in for it exactly as `npm install ./hevlayer-worker-x.tgz` would.
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  manifest.dependencies['@hevlayer/worker'] = `file:${tarball}`;
  delete manifest.devDependencies;
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev'], { cwd: app, timeout: 300_000 });
  h = await startEngineHarness();
}, 600_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((r) => worker!.once('exit', r));
  }
  await h?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('@hevlayer/worker packed and installed like a user would', () => {
  it('installs only worker dependencies (nothing of the orchestrator)', () => {
    const installed = JSON.parse(
      readFileSync(join(project, 'app/node_modules/@hevlayer/worker/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies).sort()).toEqual([
      '@aws-sdk/client-s3',
      // Pipeline sources (docs/adr/0121): SQS, and @aws-sdk/core for the query protocol of
      // SQS-compatible servers (ADR 0122); Kafka through @platformatic/kafka below.
      '@aws-sdk/client-sqs',
      '@aws-sdk/core',
      // Tracing (started only when OTEL_EXPORTER_OTLP_ENDPOINT is set, docs/adr/0064).
      '@opentelemetry/api',
      '@opentelemetry/context-async-hooks',
      '@opentelemetry/exporter-trace-otlp-proto',
      '@opentelemetry/resources',
      '@opentelemetry/sdk-trace-base',
      '@platformatic/kafka',
      '@temporalio/activity',
      '@temporalio/client',
      '@temporalio/common',
      '@temporalio/interceptors-opentelemetry',
      '@temporalio/worker',
      '@temporalio/workflow',
      '@turbopuffer/turbopuffer',
      'zod',
    ]);
  });

  it('the example worker, run from the installed package, tags every row of a Function', async () => {
    const ns = uniqueName('pkg-products');
    const name = uniqueName('pkg-tag');
    await seedRows(h.store, ns, range(1, 41));
    const spec = baseSpec(name, ns);
    const app = join(project, 'app');
    worker = spawn(process.execPath, ['--import', tsxLoader, 'main.ts'], {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LAYER_TEMPORAL_ADDRESS: temporalAddress(),
        LAYER_TEMPORAL_NAMESPACE: temporalNamespace(),
        LAYER_TASK_QUEUE: functionTaskQueue(spec.k8sNamespace, name),
        LAYER_DISPATCH: 'pull',
        LAYER_WORKER_CONCURRENCY: '2',
        LAYER_STORE_URL: h.storeServer.url,
        LAYER_STORE_API_KEY: 'test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
    // The worker resolved the package from the temp project, not from this repository.
    const resolved = await run(
      process.execPath,
      ['-e', "console.log(import.meta.resolve('@hevlayer/worker'))", '--input-type=module'],
      { cwd: app },
    );
    expect(resolved.stdout.trim()).toContain(join(app, 'node_modules/@hevlayer/worker/dist/index.js'));
    await startFunction(h, spec);
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    await eventually(
      () => statusOf(h, ref),
      (s) => s.counters.processed === 40,
      90_000,
      '40 rows processed by the packaged worker',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker output:\n${workerLog}`);
    });
    expect(workerLog).toContain('tag-products pull worker polling');
    const rows = await readAll(h.store, ns, ['title', 'tags']);
    expect(rows).toHaveLength(40);
    for (const row of rows) expect(row.tags).toEqual(tagsForTitle(row.title));
  });

  it("the image's warm step leaves V8's code cache that the worker's start reads", async () => {
    // The Dockerfile's build stage (`npm run build`), with esbuild standing in for tsc: the dev
    // dependencies were left out of this install.
    const app = join(project, 'app');
    mkdirSync(join(app, 'dist'), { recursive: true });
    for (const file of ['main', 'handler']) {
      const { code } = transformSync(readFileSync(join(app, `${file}.ts`), 'utf8'), {
        loader: 'ts',
        format: 'esm',
      });
      writeFileSync(join(app, 'dist', `${file}.js`), code);
    }
    // The warm step exactly as the Dockerfile runs it (docs/adr/0132).
    const dockerfile = readFileSync(join(root, 'examples/tag-products/Dockerfile'), 'utf8');
    const warm = /^RUN node --input-type=module -e "(.+)"$/m.exec(dockerfile)?.[1];
    expect(warm, 'the Dockerfile warms the compile cache').toBeDefined();
    const cache = join(project, 'compile-cache');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_COMPILE_CACHE: cache };
    await run(process.execPath, ['--input-type=module', '-e', warm!], { cwd: app, env });
    expect(readdirSync(cache)).not.toHaveLength(0);
    // The image's CMD, with no environment: it stops where it first needs its settings, after
    // every module has loaded, and Node says for each module whether the cache was accepted.
    const started = await run(process.execPath, ['dist/main.js'], {
      cwd: app,
      env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    }).catch((err: { stderr: string }) => err);
    const accepted = started.stderr
      .split('\n')
      .filter((line) => line.includes('was accepted'))
      .map((line) => /for (?:ESM|CommonJS) (\S+)/.exec(line)?.[1] ?? '');
    for (const module of [
      '@hevlayer/worker/dist/function-worker.js',
      '@temporalio/worker/lib/worker.js',
      'dist/handler.js',
    ])
      expect(
        accepted.some((file) => file.endsWith(module)),
        `${module} read from the cache`,
      ).toBe(true);
  });
});
