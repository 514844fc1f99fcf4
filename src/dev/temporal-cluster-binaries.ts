// The binaries of the local Temporal cluster — temporal-server, temporal-sql-tool and the Temporal
// UI server — resolved by findOrBuildGoTool (src/dev/binaries.ts): $ENV_VAR → PATH → the binary
// cache → `go build` of a tool module (test/temporal-server-bin, test/temporal-ui-bin: versions
// pinned in go.mod, every dependency in go.sum) into the cache. Each path is logged with where it
// came from.
import { join } from 'node:path';
import { findOrBuildGoTool, type GoTool, type Logger, type ResolvedBinary } from './binaries.js';
import { packageRoot } from './paths.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './temporal-cluster-config.js';

/**
 * The tool module pins the release; a newer Go than its `go` line is fine, an older one must fail
 * with Go's own message rather than fetch another toolchain.
 */
const TOOL_MODULE_BUILD = { buildEnv: { GOFLAGS: '-mod=mod' }, localToolchain: true } as const;

export const TEMPORAL_SERVER_MODULE: GoTool = {
  component: 'temporal-server',
  version: TEMPORAL_SERVER_VERSION,
  moduleDir: join(packageRoot(), 'test', 'temporal-server-bin'),
  mains: [
    { name: 'temporal-server', envVar: 'TEMPORAL_SERVER', target: 'go.temporal.io/server/cmd/server' },
    { name: 'temporal-sql-tool', envVar: 'TEMPORAL_SQL_TOOL', target: 'go.temporal.io/server/cmd/tools/sql' },
  ],
  ...TOOL_MODULE_BUILD,
};

// Its own tool module: its main is named `server` too, and two mains named alike cannot share
// one `go build -o dir/`.
const TEMPORAL_UI_MODULE: GoTool = {
  component: 'temporal-ui-server',
  version: TEMPORAL_UI_SERVER_VERSION,
  moduleDir: join(packageRoot(), 'test', 'temporal-ui-bin'),
  mains: [
    {
      name: 'temporal-ui-server',
      envVar: 'TEMPORAL_UI_SERVER',
      target: 'github.com/temporalio/ui-server/v2/cmd/server',
    },
  ],
  ...TOOL_MODULE_BUILD,
};

/**
 * Every binary of `mod` by findOrBuildGoTool's order, each logged with where it came from and
 * its version: the module's, or "as installed" for one found on PATH.
 */
export async function resolveToolModule(
  mod: GoTool,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, ResolvedBinary>> {
  const found = await findOrBuildGoTool(mod, log, env);
  const resolved: Record<string, ResolvedBinary> = {};
  for (const { name } of mod.mains) {
    const f = found[name]!;
    resolved[name] = { ...f, version: f.source === 'path' ? 'as installed' : mod.version };
    log(`${name}: ${f.path} (${f.source}; ${resolved[name].version})`);
  }
  return resolved;
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
