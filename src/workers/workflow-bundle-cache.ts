// A disk cache of the workflow bundle for runs from the sources. Webpack-bundling the workflows
// costs ~3 s of CPU per process, and a test run starts some 25 workers and `layer` processes on
// a 2-core machine: they all built the same bundle. The key is a hash of every source file the
// bundle could include and of the lock file, so any edit makes a new bundle; a build (dist/) or
// LAYER_WORKFLOW_BUNDLE_CACHE=0 never uses the cache.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function* sourceFiles(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') yield* sourceFiles(path);
    } else if (/\.(ts|js|json)$/.test(e.name)) yield path;
  }
}

/** The cache key: every source file under `roots`, the lock file and the bundler options. */
export function bundleCacheKey(packageRoot: string, roots: readonly string[], options: unknown): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(options));
  for (const file of [join(packageRoot, 'package-lock.json'), ...roots.flatMap((r) => [...sourceFiles(r)])]) {
    hash.update(file);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('missing');
    }
  }
  return hash.digest('hex').slice(0, 32);
}

export async function cachedBundle(
  cacheDir: string,
  key: string,
  build: () => Promise<{ code: string }>,
): Promise<{ code: string }> {
  const file = join(cacheDir, `${key}.js`);
  try {
    return { code: readFileSync(file, 'utf8') };
  } catch {
    // not cached yet
  }
  const bundle = await build();
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: a concurrent reader never sees half a bundle.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bundle.code);
    renameSync(tmp, file);
  } catch {
    // a read-only checkout still runs, only without the cache
  }
  return bundle;
}
