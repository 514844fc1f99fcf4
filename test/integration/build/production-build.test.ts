// The production image's steps without a Docker engine (docs/adr/0042): the build stage's
// `npm run build` in a copy of the sources, then the runtime stage's install — the packed package
// (bin/ and dist/ only) with the lock, `npm ci --omit=dev` — in a folder outside the repository,
// where neither tsx nor the sources exist. From there the compiled CLI must answer, the store
// must serve HTTP, and the workflow bundle must build from the compiled workflows.
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = new URL('../../..', import.meta.url).pathname;
let work: string;
let app: string;
/** The build stage's folder: sources, tsx (dev dependencies) and the build side by side, as in a clone. */
let clone: string;
/** The runtime's environment: no tsx to be found, HOME and caches on a fresh temp folder. */
let runEnv: NodeJS.ProcessEnv;

function withoutDeps(src: string): boolean {
  return !/\/(node_modules|dist)(\/|$)/.test(src.slice(repo.length));
}

async function layer(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, ['bin/layer.js', ...args], { cwd: app, env: runEnv, timeout: 30_000 });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'layer-build-'));
  // Build stage (Dockerfile: COPY . . && npm ci && npm run build): the sources the build reads,
  // with the repository's node_modules standing in for its `npm ci`.
  const src = (clone = join(work, 'src-copy'));
  mkdirSync(src);
  for (const entry of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'bin',
    'src',
    'examples',
    'packages',
    'scripts',
  ]) {
    if (existsSync(join(repo, entry)))
      cpSync(join(repo, entry), join(src, entry), { recursive: true, filter: withoutDeps });
  }
  symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'), 'dir');
  // The deps stage (package.json + lock, `npm ci --omit=dev`) needs no build, so it runs beside
  // the build stage, as BuildKit runs the two.
  app = join(work, 'app');
  mkdirSync(app);
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(repo, file), join(app, file));
  await Promise.all([
    exec('npm', ['run', 'build'], { cwd: src, timeout: 180_000 }),
    exec('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      timeout: 180_000,
      env: { ...process.env, NODE_ENV: 'production' },
    }),
  ]);
  expect(existsSync(join(src, 'dist', 'src', 'cli', 'main.js'))).toBe(true);

  // Runtime stage: the packed package (what `files` ships) over those production dependencies.
  await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: src, timeout: 60_000 });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
  await exec('tar', ['xzf', join(work, tarball), '--strip-components=1', '-C', app]);
  // The image's root filesystem is read-only: nothing under the app may be written at runtime.
  await exec('chmod', ['-R', 'a-w', app]);
  const home = join(work, 'home');
  mkdirSync(home);
  runEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: home,
    NODE_ENV: 'production',
  };
}, 300_000);

afterAll(() => {
  if (!work) return;
  if (app && existsSync(app)) execFileSync('chmod', ['-R', 'u+w', app]);
  rmSync(work, { recursive: true, force: true });
});

describe('the production install (Dockerfile runtime stage)', () => {
  it('holds the build and production dependencies only: no sources, no tsx, no dev tools', () => {
    const top = readdirSync(app).sort();
    expect(top).toEqual(expect.arrayContaining(['bin', 'dist', 'node_modules', 'package.json']));
    expect(top).not.toContain('src');
    for (const dev of ['tsx', 'typescript', 'vitest', 'eslint', 'esbuild'])
      expect(existsSync(join(app, 'node_modules', dev)), `${dev} installed`).toBe(false);
    expect(existsSync(join(app, 'dist', 'src', 'workflows', 'index.js'))).toBe(true);
  });

  it('runs the compiled CLI with plain node: --help and operator --help', async () => {
    const [root, operator] = await Promise.all([layer(['--help']), layer(['operator', '--help'])]);
    expect(root.stdout).toContain('Usage: layer');
    expect(operator.stdout).toContain('Usage: layer operator');
  });

  it("accepts every docker-compose command of our image, each option named in that command's help", async () => {
    const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: unknown; command?: string[] }>;
    };
    const ours = Object.entries(compose.services).filter(
      ([, s]) =>
        s.build === '.' || (s.build as { dockerfile?: string } | undefined)?.dockerfile === 'Dockerfile',
    );
    expect(ours.length).toBeGreaterThan(0);
    await Promise.all(
      ours.map(async ([name, service]) => {
        const args = service.command ?? ['operator'];
        // The command words are those up to the first option (values follow options).
        const firstOption = args.findIndex((a) => a.startsWith('-'));
        const command = firstOption === -1 ? args : args.slice(0, firstOption);
        const { stdout } = await layer([...command, '--help']).catch((err: Error) => {
          throw new Error(`service ${name}: \`layer ${command.join(' ')} --help\` failed: ${err.message}`);
        });
        expect(stdout, `service ${name}`).toContain(`Usage: layer ${command.join(' ')}`);
        for (const option of args.filter((a) => a.startsWith('--')))
          expect(stdout, `service ${name}: ${option} in \`layer ${command.join(' ')} --help\``).toContain(
            option.split('=')[0],
          );
      }),
    );
  });

  it('serves the store over HTTP', async () => {
    const child = spawn(process.execPath, ['bin/layer.js', 'store', 'serve', '--memory', '--port', '0'], {
      cwd: app,
      env: runEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`store did not start in 30 s: ${output}`)), 30_000);
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          const match = /store listening on (\S+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`store exited with ${code}: ${output}`)));
      });
      const write = await fetch(new URL('/v2/namespaces/build-check', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ upsert_rows: [{ id: 1, title: 'from the built image' }] }),
      });
      expect(write.status, await write.clone().text()).toBe(200);
      const list = (await (await fetch(new URL('/v1/namespaces', url))).json()) as {
        namespaces: { id: string }[];
      };
      expect(list.namespaces.map((n) => n.id)).toContain('build-check');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('ships the workflow bundle the build wrote and never runs webpack at start-up', async () => {
    // Webpack in the orchestrator process cost ~250 MB of RSS it never gave back (docs/adr/0107):
    // a build must read dist/workflow-bundle.js instead, without loading webpack's compiler.
    expect(existsSync(join(app, 'dist', 'workflow-bundle.js'))).toBe(true);
    // And the reconcile Worker's, which holds the reconcile workflow alone (docs/adr/0115).
    expect(existsSync(join(app, 'dist', 'reconcile-workflow-bundle.js'))).toBe(true);
    const script = [
      "import { createRequire } from 'node:module';",
      "const m = await import('./dist/src/workers/orchestrator-worker.js');",
      'const bundle = await m.bundleOrchestratorWorkflows();',
      'const reconcile = await m.bundleReconcileWorkflows();',
      "const cache = createRequire(process.cwd() + '/').cache;",
      "const webpack = Object.keys(cache).some((k) => k.endsWith('/webpack/lib/webpack.js'));",
      'console.log(JSON.stringify({ entry: m.WORKFLOWS_ENTRY, prebuilt: m.PREBUILT_WORKFLOW_BUNDLE, bytes: bundle.code.length, reconcileBytes: reconcile.code.length, webpack }));',
    ].join('\n');
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: runEnv,
      timeout: 90_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      entry: string;
      prebuilt: string;
      bytes: number;
      reconcileBytes: number;
      webpack: boolean;
    };
    expect(result.entry).toBe(join(app, 'dist', 'src', 'workflows', 'index.js'));
    expect(result.prebuilt).toBe(join(app, 'dist', 'workflow-bundle.js'));
    expect(result.bytes).toBe(readFileSync(join(app, 'dist', 'workflow-bundle.js'), 'utf8').length);
    expect(result.reconcileBytes).toBe(
      readFileSync(join(app, 'dist', 'reconcile-workflow-bundle.js'), 'utf8').length,
    );
    expect(result.reconcileBytes).toBeLessThan(result.bytes);
    expect(result.webpack).toBe(false);
  }, 90_000);

  it('bundles the workflows from the compiled JavaScript when the build has no bundle', async () => {
    const script = [
      "const m = await import('./dist/src/workers/orchestrator-worker.js');",
      'const bundle = await m.buildOrchestratorWorkflowBundle();',
      'console.log(JSON.stringify({ entry: m.WORKFLOWS_ENTRY, bytes: bundle.code.length }));',
    ].join('\n');
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: runEnv,
      timeout: 90_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { entry: string; bytes: number };
    expect(result.entry).toBe(join(app, 'dist', 'src', 'workflows', 'index.js'));
    expect(result.bytes).toBeGreaterThan(10_000);
  }, 90_000);
});

describe('bin/layer.js in a clone that holds a build', () => {
  it('runs the sources, never a possibly stale dist/, unless LAYER_FROM_SOURCE=0', async () => {
    // Stand a marker in for the built CLI: whichever file runs prints itself.
    writeFileSync(join(clone, 'dist', 'src', 'cli', 'main.js'), "console.log('ran dist/');\n");
    const run = (extra: NodeJS.ProcessEnv) =>
      exec(process.execPath, ['bin/layer.js', '--help'], {
        cwd: clone,
        env: { ...process.env, ...extra },
        timeout: 60_000,
      });
    const [fromClone, forced] = await Promise.all([
      run({ LAYER_FROM_SOURCE: '' }),
      run({ LAYER_FROM_SOURCE: '0' }),
    ]);
    expect(fromClone.stdout).toContain('Usage: layer');
    expect(forced.stdout.trim()).toBe('ran dist/');
  }, 60_000);
});
