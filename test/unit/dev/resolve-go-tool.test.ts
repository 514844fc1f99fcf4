import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findOrBuildGoTool,
  goBinaryName,
  resolveGoToolBinary,
  type GoTool,
  type GoToolBinary,
} from '../../../src/dev/binaries.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'resolve-go-tool-'));
  dirs.push(d);
  return d;
}

function executable(path: string): string {
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

const tool = (moduleDir: string): GoToolBinary => ({
  component: 'demo',
  name: 'demo-tool',
  envVar: 'LAYER_DEMO_TOOL',
  version: 'v1.2.3',
  moduleDir,
  target: '.',
});

describe('resolveGoToolBinary', () => {
  it('takes the env var first, then PATH, then the cache, and logs each choice', async () => {
    const root = scratch();
    const own = executable(join(root, 'mine'));
    const pathDir = join(root, 'path');
    mkdirSync(pathDir);
    const cacheDir = join(root, 'cache');
    mkdirSync(join(cacheDir, 'bin', 'demo-tool-v1.2.3'), { recursive: true });
    const cached = executable(join(cacheDir, 'bin', 'demo-tool-v1.2.3', 'demo-tool'));
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const base = { PATH: pathDir, LAYER_CACHE_DIR: cacheDir };

    expect(await resolveGoToolBinary(tool(root), log, { ...base, LAYER_DEMO_TOOL: own })).toMatchObject({
      path: own,
      source: 'env',
    });
    expect(await resolveGoToolBinary(tool(root), log, base)).toEqual({
      path: cached,
      source: 'cache',
      version: 'v1.2.3',
    });
    const onPath = executable(join(pathDir, 'demo-tool'));
    expect(await resolveGoToolBinary(tool(root), log, base)).toMatchObject({ path: onPath, source: 'path' });
    expect(lines).toEqual([
      `demo: ${own} (from LAYER_DEMO_TOOL)`,
      `demo: ${cached} (cache; v1.2.3)`,
      `demo: ${onPath} (on PATH)`,
    ]);
  });

  it('refuses an env var that is not an executable, naming the variable and the fix', async () => {
    const root = scratch();
    await expect(
      resolveGoToolBinary(tool(root), () => undefined, { LAYER_DEMO_TOOL: join(root, 'absent'), PATH: '' }),
    ).rejects.toThrow(
      /LAYER_DEMO_TOOL=.*absent is not an executable file; unset it or point it at demo-tool/,
    );
  });

  it('says the tool module is missing rather than running go in an empty folder', async () => {
    const root = scratch();
    await expect(
      resolveGoToolBinary(tool(join(root, 'no-module')), () => undefined, {
        ...process.env,
        PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin`,
        LAYER_CACHE_DIR: join(root, 'cache'),
      }),
    ).rejects.toThrow(/tool module missing at .*no-module|no Go toolchain/);
  });
});

describe('goBinaryName', () => {
  it.each([
    ['go.temporal.io/server/cmd/server', 'server'],
    ['go.temporal.io/server/cmd/tools/sql', 'sql'],
    // A major-version suffix is not a name: Go takes the element before it.
    ['go.etcd.io/etcd/server/v3', 'server'],
    ['helm.sh/helm/v3/cmd/helm@v3.22.0', 'helm'],
  ])('%s builds as %s', (target, name) => {
    expect(goBinaryName(target)).toBe(name);
  });
});

/**
 * A stand-in for `go build` / `go install` on PATH: writes an executable where Go would put each
 * main (-o file, -o dir/ under the package's name, or $GOBIN), so the build path runs in
 * milliseconds.
 */
function fakeGo(dir: string): void {
  writeFileSync(
    join(dir, 'go'),
    [
      '#!/bin/sh',
      // The test's PATH holds only this script.
      'PATH=/usr/bin:/bin:$PATH',
      'cmd=$1; shift; out=',
      'while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift 2;; -*) shift;; *) break;; esac; done',
      'for t in "$@"; do',
      '  p=${t%%@*}; b=$(basename "$p")',
      '  case $b in v[0-9]*) b=$(basename "$(dirname "$p")");; esac',
      '  if [ "$cmd" = install ]; then f="$GOBIN/$b"; elif [ "${out%/}" != "$out" ]; then f="$out$b"; else f=$out; fi',
      '  printf \'#!/bin/sh\\n\' > "$f"; chmod +x "$f"',
      'done',
    ].join('\n'),
  );
  chmodSync(join(dir, 'go'), 0o755);
}

describe('findOrBuildGoTool', () => {
  function setUp() {
    const root = scratch();
    const bin = join(root, 'bin');
    mkdirSync(bin);
    fakeGo(bin);
    const moduleDir = join(root, 'module');
    mkdirSync(moduleDir);
    writeFileSync(join(moduleDir, 'go.mod'), 'module example.com/tool\n\ngo 1.26.0\n');
    const env = { PATH: bin, LAYER_CACHE_DIR: join(root, 'cache') };
    return { root, bin, moduleDir, env };
  }

  it('builds only the mains nothing else supplies, in one build, under their own names', async () => {
    const { root, moduleDir, env } = setUp();
    const mine = executable(join(root, 'mine'));
    const tool: GoTool = {
      component: 'pair',
      version: 'v1',
      moduleDir,
      mains: [
        { name: 'pair-server', envVar: 'PAIR_SERVER', target: 'example.com/a/cmd/server' },
        { name: 'pair-sql', envVar: 'PAIR_SQL', target: 'example.com/a/cmd/tools/sql' },
        { name: 'pair-etcd', envVar: 'PAIR_ETCD', target: 'example.com/etcd/etcdmain/v3' },
      ],
    };
    const lines: string[] = [];
    const found = await findOrBuildGoTool(tool, (l) => lines.push(l), { ...env, PAIR_SQL: mine });
    const dir = join(env.LAYER_CACHE_DIR, 'bin', 'pair-server-v1');
    expect(found).toEqual({
      'pair-server': { path: join(dir, 'pair-server'), source: 'built' },
      'pair-sql': { path: mine, source: 'env' },
      'pair-etcd': { path: join(dir, 'pair-etcd'), source: 'built' },
    });
    expect(lines.filter((l) => l.startsWith('building'))).toHaveLength(1);
    expect(lines[0]).toContain('building pair-server + pair-etcd v1');
    // Built once, the cache answers the next time without a build.
    lines.length = 0;
    expect((await findOrBuildGoTool(tool, (l) => lines.push(l), env))['pair-sql']).toEqual({
      path: join(dir, 'pair-sql'),
      source: 'built',
    });
    expect(await findOrBuildGoTool(tool, (l) => lines.push(l), env)).toMatchObject({
      'pair-server': { source: 'cache' },
      'pair-etcd': { source: 'cache' },
    });
  });

  it('without a tool module, go-installs into the cache folder a cacheName names', async () => {
    const { env } = setUp();
    const tool: GoTool = {
      component: 'helmish',
      version: 'v3.0.0',
      cacheName: 'helmish-cache',
      mains: [{ name: 'helmish', envVar: 'HELMISH', target: 'example.com/helmish/v3/cmd/helmish@v3.0.0' }],
    };
    expect((await findOrBuildGoTool(tool, () => undefined, env)).helmish).toEqual({
      path: join(env.LAYER_CACHE_DIR, 'bin', 'helmish-cache', 'helmish'),
      source: 'built',
    });
  });

  it('with fromPath false, a binary on PATH is passed over for the cache', async () => {
    const { root, bin, env } = setUp();
    executable(join(bin, 'demo-tool'));
    const dir = join(env.LAYER_CACHE_DIR, 'bin', 'demo-tool-v1.2.3');
    mkdirSync(dir, { recursive: true });
    const cached = executable(join(dir, 'demo-tool'));
    expect(await resolveGoToolBinary({ ...tool(root), fromPath: false }, () => undefined, env)).toMatchObject(
      { path: cached, source: 'cache' },
    );
  });
});
