// Where the local environment keeps things. Built binaries are shared by every checkout on the
// machine (they are slow to build and never change for a pinned version); runtime state
// (databases, logs, pid files) is project-local so two checkouts never share a server.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PathEnv {
  LAYER_CACHE_DIR?: string;
  XDG_CACHE_HOME?: string;
  LAYER_STATE_DIR?: string;
}

/** Cache for built binaries: $LAYER_CACHE_DIR, else $XDG_CACHE_HOME/layer-orchestrator, else ~/.cache/layer-orchestrator. */
export function cacheDir(env: PathEnv = process.env): string {
  if (env.LAYER_CACHE_DIR) return resolve(env.LAYER_CACHE_DIR);
  return join(
    env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'),
    'layer-orchestrator',
  );
}

export function binCacheDir(env: PathEnv = process.env): string {
  return join(cacheDir(env), 'bin');
}

/** Runtime state of `layer dev up`: $LAYER_STATE_DIR, else ./.layer/dev under the working directory. */
export function devStateDir(env: PathEnv = process.env, cwd = process.cwd()): string {
  return env.LAYER_STATE_DIR ? resolve(env.LAYER_STATE_DIR) : join(cwd, '.layer', 'dev');
}

let root: string | undefined;

/**
 * The repository (or installed package) root: the nearest folder above this file whose
 * package.json is ours. Found by walking up because this file sits at src/dev/ in a clone but at
 * dist/src/dev/ in a build (docs/adr/0042-production-build-and-images.md).
 */
export function packageRoot(): string {
  if (root) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'layer-orchestrator')
          return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    if (dirname(dir) === dir) return (root = resolve(here, '..', '..'));
  }
}
