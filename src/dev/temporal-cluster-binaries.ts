// The binaries of the local Temporal cluster — temporal-server, temporal-sql-tool and the Temporal
// UI server — resolved like the Temporal CLI: $ENV_VAR → PATH → the binary cache → `go build` of
// a tool module (test/temporal-server-bin, test/temporal-ui-bin: versions pinned in go.mod, every
// dependency in go.sum) into the cache. Each path is logged with where it came from.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  findOnPath,
  goAvailable,
  goBuild,
  isExecutable,
  ProvisionError,
  withBuildLock,
  type Logger,
  type ResolvedBinary,
} from './binaries.js';
import { binCacheDir, packageRoot } from './paths.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './temporal-cluster-config.js';

export interface ToolBinary {
  /** File name in the cache and on PATH. */
  name: string;
  /** Environment variable that names a prebuilt binary. */
  envVar: string;
  /** Go package of its main. */
  pkg: string;
  /** What `go build -o dir/` names it (the package's last path element). */
  builtAs: string;
}

export interface ToolModule {
  component: string;
  version: string;
  /** Folder under test/ holding go.mod/go.sum. */
  moduleDir: string;
  binaries: readonly ToolBinary[];
}

export const TEMPORAL_SERVER_MODULE: ToolModule = {
  component: 'temporal-server',
  version: TEMPORAL_SERVER_VERSION,
  moduleDir: 'temporal-server-bin',
  binaries: [
    {
      name: 'temporal-server',
      envVar: 'TEMPORAL_SERVER',
      pkg: 'go.temporal.io/server/cmd/server',
      builtAs: 'server',
    },
    {
      name: 'temporal-sql-tool',
      envVar: 'TEMPORAL_SQL_TOOL',
      pkg: 'go.temporal.io/server/cmd/tools/sql',
      builtAs: 'sql',
    },
  ],
};

const TEMPORAL_UI_MODULE: ToolModule = {
  component: 'temporal-ui-server',
  version: TEMPORAL_UI_SERVER_VERSION,
  moduleDir: 'temporal-ui-bin',
  binaries: [
    {
      name: 'temporal-ui-server',
      envVar: 'TEMPORAL_UI_SERVER',
      pkg: 'github.com/temporalio/ui-server/v2/cmd/server',
      builtAs: 'server',
    },
  ],
};

/**
 * Every binary of `mod`: each from its env var, else PATH, else the cache; whatever is still
 * missing is built together (one `go build` shares the compile of common packages) into the cache.
 * Throws ProvisionError naming the fix when an env var is wrong or nothing can build.
 */
export async function resolveToolModule(
  mod: ToolModule,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, ResolvedBinary>> {
  const dir = join(binCacheDir(env), `${mod.component}-${mod.version}`);
  const found: Record<string, ResolvedBinary> = {};
  const missing: ToolBinary[] = [];
  for (const b of mod.binaries) {
    const fromEnv = env[b.envVar];
    if (fromEnv) {
      if (!isExecutable(fromEnv))
        throw new ProvisionError(
          b.name,
          `${b.envVar}=${fromEnv} is not an executable file; unset it or point it at ${b.name} ${mod.version}`,
        );
      found[b.name] = { path: fromEnv, source: 'env', version: mod.version };
      continue;
    }
    const onPath = findOnPath(b.name, env);
    if (onPath) {
      found[b.name] = { path: onPath, source: 'path', version: 'as installed' };
      continue;
    }
    const cached = join(dir, b.name);
    if (isExecutable(cached)) found[b.name] = { path: cached, source: 'cache', version: mod.version };
    else missing.push(b);
  }
  if (missing.length > 0) {
    const go = await goAvailable(env);
    const names = missing.map((b) => b.name).join(' + ');
    if (!go)
      throw new ProvisionError(
        mod.component,
        `${names} not found and no Go toolchain to build ${mod.version}: install Go >= 1.26.8, or set ${missing.map((b) => b.envVar).join(' / ')} to prebuilt binaries`,
      );
    const moduleDir = join(packageRoot(), 'test', mod.moduleDir);
    if (!existsSync(join(moduleDir, 'go.mod')))
      throw new ProvisionError(mod.component, `tool module missing at ${moduleDir}`);
    await withBuildLock(
      dir,
      async () => {
        const still = missing.filter((b) => !isExecutable(join(dir, b.name)));
        if (still.length === 0) return;
        const tmp = join(dir, `tmp-${process.pid}`);
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        try {
          await goBuild(
            `${still.map((b) => b.name).join(' + ')} ${mod.version}`,
            go,
            ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp + '/', ...still.map((b) => b.pkg)],
            moduleDir,
            // The tool module pins the release; a newer Go than its `go` line is fine, an older one
            // must fail with Go's own message rather than fetch another toolchain.
            { ...env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local' },
            log,
          );
          // Two mains named `server` cannot share one -o folder, so each module builds its own.
          for (const b of still) renameSync(join(tmp, b.builtAs), join(dir, b.name));
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      },
      log,
    );
    for (const b of missing)
      found[b.name] = { path: join(dir, b.name), source: 'built', version: mod.version };
  }
  for (const b of mod.binaries) {
    const r = found[b.name]!;
    log(`${b.name}: ${r.path} (${r.source}; ${r.version})`);
  }
  return found;
}

export interface TemporalServerBinaries {
  server: ResolvedBinary;
  sqlTool: ResolvedBinary;
}

/** temporal-server and temporal-sql-tool of TEMPORAL_SERVER_VERSION. */
export async function resolveTemporalServer(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TemporalServerBinaries> {
  const r = await resolveToolModule(TEMPORAL_SERVER_MODULE, log, env);
  return { server: r['temporal-server']!, sqlTool: r['temporal-sql-tool']! };
}

/** The Temporal UI server of TEMPORAL_UI_SERVER_VERSION. */
export async function resolveTemporalUiServer(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  return (await resolveToolModule(TEMPORAL_UI_MODULE, log, env))['temporal-ui-server']!;
}
