import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleCacheKey, cachedBundle } from '../../../src/workers/workflow-bundle-cache.js';

describe('workflow bundle cache', () => {
  it('keys on every source file, the lock file and the options', () => {
    const root = mkdtempSync(join(tmpdir(), 'layer-bundle-'));
    mkdirSync(join(root, 'src', 'workflows'), { recursive: true });
    writeFileSync(join(root, 'package-lock.json'), '{"v":1}');
    writeFileSync(join(root, 'src', 'workflows', 'a.ts'), 'export const a = 1;');
    const key = () => bundleCacheKey(root, [join(root, 'src')], { entry: 'x' });
    const first = key();
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(key()).toBe(first);
    expect(bundleCacheKey(root, [join(root, 'src')], { entry: 'y' })).not.toBe(first);
    writeFileSync(join(root, 'src', 'workflows', 'a.ts'), 'export const a = 2;');
    const edited = key();
    expect(edited).not.toBe(first);
    writeFileSync(join(root, 'package-lock.json'), '{"v":2}');
    expect(key()).not.toBe(edited);
  });

  it('builds once per key and serves the file afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-bundle-cache-'));
    let builds = 0;
    const build = async () => ({ code: `bundle ${++builds}` });
    expect(await cachedBundle(dir, 'k1', build)).toEqual({ code: 'bundle 1' });
    expect(await cachedBundle(dir, 'k1', build)).toEqual({ code: 'bundle 1' });
    expect(await cachedBundle(dir, 'k2', build)).toEqual({ code: 'bundle 2' });
    expect(builds).toBe(2);
  });
});
