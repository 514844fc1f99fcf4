// resolveHelm's order: $HELM → `helm` on PATH → the cache → go install. Fake helm scripts stand in
// for the binary (each prints its own version), so no build runs here.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisionError } from '../../../src/dev/binaries.js';
import { helmCachePath, resolveHelm } from '../../../src/dev/helm.js';

let dir: string;
const lines: string[] = [];
const log = (line: string) => void lines.push(line);

function fakeHelm(path: string, version: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\necho ${version}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'layer-resolve-helm-'));
  lines.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveHelm', () => {
  it('$HELM wins over PATH and the cache', async () => {
    const env = {
      HELM: fakeHelm(join(dir, 'env', 'helm'), 'v0-env'),
      PATH: dirname(fakeHelm(join(dir, 'path', 'helm'), 'v0-path')),
      LAYER_CACHE_DIR: join(dir, 'cache'),
    };
    fakeHelm(helmCachePath(env), 'v0-cache');
    expect(await resolveHelm(log, env)).toEqual({ path: env.HELM, source: 'env', version: 'v0-env' });
    expect(lines.join('\n')).toContain(`helm: ${env.HELM} (env; v0-env)`);
  });

  it('a $HELM that is not executable is an error naming it, not a silent fallback', async () => {
    const env = { HELM: join(dir, 'missing'), PATH: '', LAYER_CACHE_DIR: join(dir, 'cache') };
    await expect(resolveHelm(log, env)).rejects.toThrow(ProvisionError);
    await expect(resolveHelm(log, env)).rejects.toThrow(/HELM=.*missing is not an executable file/);
  });

  it('PATH before the cache', async () => {
    const onPath = fakeHelm(join(dir, 'path', 'helm'), 'v0-path');
    const env = { PATH: dirname(onPath), LAYER_CACHE_DIR: join(dir, 'cache') };
    fakeHelm(helmCachePath(env), 'v0-cache');
    expect(await resolveHelm(log, env)).toMatchObject({ path: onPath, source: 'path' });
  });

  it('the cache when nothing else has helm, without building', async () => {
    const env = { PATH: join(dir, 'empty'), LAYER_CACHE_DIR: join(dir, 'cache') };
    const cached = fakeHelm(helmCachePath(env), 'v0-cache');
    expect(await resolveHelm(log, env)).toEqual({ path: cached, source: 'cache', version: 'v0-cache' });
    expect(lines.some((l) => l.startsWith('building'))).toBe(false);
  });
});
