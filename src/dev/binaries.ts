// Finding (or building) the real server binaries the project runs locally: the Temporal CLI
// (its dev server) and kube-apiserver + etcd. Nothing here downloads a prebuilt binary — this
// project must also work where only package registries are reachable — so the cache is filled
// by `go build` from the Go module proxy; see docs/adr/0001-real-servers-from-go-modules.md.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { binCacheDir, packageRoot } from './paths.js';

const exec = promisify(execFile);

/** Temporal CLI release built from source; its go.mod has no `replace`, so `go install` works. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** Kubernetes release built by the tool module in test/k8s-bin (staging modules at v0.34.4). */
export const KUBERNETES_VERSION = 'v1.34.4';

export type Logger = (line: string) => void;

export interface ResolvedBinary {
  path: string;
  /** Where it came from, for the log line a person reads. */
  source: 'env' | 'path' | 'cache' | 'built';
  version: string;
}

export class ProvisionError extends Error {
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(`${component}: ${message}`);
    this.name = 'ProvisionError';
  }
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function versionOf(path: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await exec(path, args, { timeout: 30_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? 'unknown';
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

export async function goAvailable(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const go =
    findOnPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  return go;
}

/**
 * Serialise builds of one cache entry across processes (the test run and `layer dev up` may
 * both want it): mkdir is atomic, and a lock older than an hour is a crashed build.
 */
export async function withBuildLock<T>(dir: string, fn: () => Promise<T>, log: Logger): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.build.lock');
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 3_600_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the holder just finished; try again
      }
      if (!announced) log(`waiting for another process building into ${dir}`);
      announced = true;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function goBuild(
  component: string,
  go: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<void> {
  log(`building ${component} with ${go} ${args.join(' ')} (first run only; several minutes on 2 cores)`);
  const started = Date.now();
  try {
    await exec(go, args, {
      cwd,
      env: { ...env, CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60 * 60_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ProvisionError(
      component,
      `go build failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  log(`built ${component} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * The Temporal CLI, in order: $TEMPORAL_CLI → `temporal` on PATH → the cache → `go install`
 * into the cache. Returns undefined when none of these can work (no Go): the caller then
 * falls back to @temporalio/testing's own download, which needs internet.
 */
export async function resolveTemporalCli(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary | undefined> {
  let found: Omit<ResolvedBinary, 'version'> | undefined;
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new ProvisionError(
        'temporal',
        `TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file; unset it or point it at the Temporal CLI`,
      );
    }
    found = { path: env.TEMPORAL_CLI, source: 'env' };
  }
  found ??= (() => {
    const onPath = findOnPath('temporal', env);
    return onPath ? { path: onPath, source: 'path' as const } : undefined;
  })();
  const dir = join(binCacheDir(env), `temporal-${TEMPORAL_CLI_VERSION}`);
  const cached = join(dir, 'temporal');
  if (!found && isExecutable(cached)) found = { path: cached, source: 'cache' };
  if (!found) {
    const go = await goAvailable(env);
    if (!go) return undefined;
    await withBuildLock(
      dir,
      async () => {
        if (isExecutable(cached)) return;
        const tmp = join(dir, `tmp-${process.pid}`);
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        await goBuild(
          'temporal',
          go,
          [
            'install',
            '-trimpath',
            // Stamp the release into `temporal --version` as its own release build does.
            `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION.slice(1)}`,
            `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
          ],
          tmp,
          { ...env, GOBIN: tmp, GOFLAGS: '-mod=mod' },
          log,
        );
        renameSync(join(tmp, 'temporal'), cached);
        rmSync(tmp, { recursive: true, force: true });
      },
      log,
    );
    found = { path: cached, source: 'built' };
  }
  const version = await versionOf(found.path, ['--version']);
  log(`temporal CLI: ${found.path} (${found.source}; ${version})`);
  return { ...found, version };
}

export interface KubeBinaries {
  apiserver: ResolvedBinary;
  etcd: ResolvedBinary;
}

/** Where the tool module that builds kube-apiserver and etcd lives. */
export function k8sToolModuleDir(): string {
  return join(packageRoot(), 'test', 'k8s-bin');
}

/**
 * kube-apiserver and etcd, in order: $KUBE_APISERVER and $ETCD → $LAYER_KUBE_ASSETS/{kube-apiserver,etcd}
 * → the cache → `go build` of the tool module into the cache. Throws ProvisionError when
 * nothing works (no Go and no prebuilt binaries), naming what to install.
 */
export async function resolveKubeBinaries(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeBinaries> {
  const describe = async (path: string, source: ResolvedBinary['source'], versionArgs: string[]) => ({
    path,
    source,
    version: await versionOf(path, versionArgs),
  });
  const pick = async (
    apiserver: string,
    etcd: string,
    source: ResolvedBinary['source'],
  ): Promise<KubeBinaries> => {
    const bins = {
      apiserver: await describe(apiserver, source, ['--version']),
      etcd: await describe(etcd, source, ['--version']),
    };
    log(
      `kube-apiserver: ${apiserver} (${source}; ${bins.apiserver.version}); etcd: ${etcd} (${bins.etcd.version})`,
    );
    return bins;
  };
  if (env.KUBE_APISERVER || env.ETCD) {
    if (!env.KUBE_APISERVER || !env.ETCD || !isExecutable(env.KUBE_APISERVER) || !isExecutable(env.ETCD)) {
      throw new ProvisionError(
        'kube-apiserver',
        'set both KUBE_APISERVER and ETCD to executable files, or neither',
      );
    }
    return pick(env.KUBE_APISERVER, env.ETCD, 'env');
  }
  if (env.LAYER_KUBE_ASSETS) {
    const a = join(env.LAYER_KUBE_ASSETS, 'kube-apiserver');
    const e = join(env.LAYER_KUBE_ASSETS, 'etcd');
    if (!isExecutable(a) || !isExecutable(e)) {
      throw new ProvisionError(
        'kube-apiserver',
        `LAYER_KUBE_ASSETS=${env.LAYER_KUBE_ASSETS} must hold executable kube-apiserver and etcd`,
      );
    }
    return pick(a, e, 'env');
  }
  const dir = join(binCacheDir(env), `kubernetes-${KUBERNETES_VERSION}`);
  const apiserver = join(dir, 'kube-apiserver');
  const etcd = join(dir, 'etcd');
  if (isExecutable(apiserver) && isExecutable(etcd)) return pick(apiserver, etcd, 'cache');
  const go = await goAvailable(env);
  if (!go) {
    throw new ProvisionError(
      'kube-apiserver',
      'no cached kube-apiserver/etcd and no Go toolchain to build them: install Go >= 1.25, or set LAYER_KUBE_ASSETS to a folder holding kube-apiserver and etcd',
    );
  }
  const moduleDir = k8sToolModuleDir();
  if (!existsSync(join(moduleDir, 'go.mod')))
    throw new ProvisionError('kube-apiserver', `tool module missing at ${moduleDir}`);
  await withBuildLock(
    dir,
    async () => {
      if (isExecutable(apiserver) && isExecutable(etcd)) return;
      const tmp = join(dir, `tmp-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      const ldflags = [
        '-s',
        '-w',
        `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
        `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
      ].join(' ');
      // One `go build` of both mains shares the compile of their common packages.
      await goBuild(
        'kube-apiserver + etcd',
        go,
        [
          'build',
          '-trimpath',
          `-ldflags=${ldflags}`,
          '-o',
          tmp + '/',
          'k8s.io/kubernetes/cmd/kube-apiserver',
          'go.etcd.io/etcd/server/v3',
        ],
        moduleDir,
        { ...env, GOFLAGS: '-mod=mod' },
        log,
      );
      renameSync(join(tmp, 'kube-apiserver'), apiserver);
      // Go names the binary of module path go.etcd.io/etcd/server/v3 after its last non-version element.
      renameSync(join(tmp, 'server'), etcd);
      rmSync(tmp, { recursive: true, force: true });
    },
    log,
  );
  return pick(apiserver, etcd, 'built');
}
