import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveGoToolBinary, type GoToolBinary } from '../../../src/dev/binaries.js';

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
