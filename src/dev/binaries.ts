// Finding (or fetching) the real server binaries the project runs locally: the Temporal CLI
// (its dev server) and kube-apiserver + etcd. The Temporal CLI is downloaded from its release
// when the internet answers within seconds, and otherwise built with `go build` from the Go
// module proxy — this project must also work where only package registries are reachable; see
// docs/adr/0001-real-servers-from-go-modules.md and docs/adr/0042-production-build-and-images.md.
//
// Over 400 lines on purpose: each binary's find → download → `go build` chain shares one build
// lock, cache layout and version check (the helpers at the top); a file per binary would repeat them.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  accessSync,
  chmodSync,
  constants,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { gunzipSync } from 'node:zlib';
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
  source: 'env' | 'path' | 'cache' | 'download' | 'built';
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

/** The first executable `name` on env.PATH. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
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

/** Whether a process with this pid is alive (signal 0 checks without signalling). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Serialise builds of one cache entry across processes (the test run and `layer dev up` may
 * both want it): mkdir is atomic. The holder writes its pid into the lock, so a lock whose
 * holder died (a test run killed mid-build) is taken over at once rather than after an hour;
 * a lock without a pid file is a crashed build when older than an hour.
 */
export async function withBuildLock<T>(dir: string, fn: () => Promise<T>, log: Logger): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.build.lock');
  const owner = join(lock, 'pid');
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, String(process.pid));
      break;
    } catch {
      try {
        const pid = Number(readFileSync(owner, 'utf8'));
        const stale =
          Number.isInteger(pid) && pid > 0 && pid !== process.pid
            ? !processAlive(pid)
            : Date.now() - statSync(lock).mtimeMs > 3_600_000;
        if (stale) {
          log(`taking over the build lock of ${dir} (its holder, pid ${pid || 'unknown'}, is gone)`);
          rmSync(lock, { recursive: true, force: true });
          continue;
        }
      } catch {
        // no pid yet (the holder is between mkdir and write) or it just finished; try again
        try {
          if (Date.now() - statSync(lock).mtimeMs > 3_600_000) rmSync(lock, { recursive: true, force: true });
        } catch {
          // gone
        }
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

/**
 * One Go build's limit. The slowest (KEDA, kube-apiserver, temporal-server) take ~45 min cold on 2
 * busy cores, and one passed 60 min when many builds and test runs shared the machine. 85 min keeps
 * a slow but progressing build inside CI's 90 while still ending a hung one with a reason;
 * LAYER_GO_BUILD_TIMEOUT_MIN changes it.
 */
export const GO_BUILD_TIMEOUT_MS = 85 * 60_000;

/** The limit for this environment: LAYER_GO_BUILD_TIMEOUT_MIN (whole minutes) or the default. */
export function goBuildTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.LAYER_GO_BUILD_TIMEOUT_MIN;
  if (raw === undefined || raw === '') return GO_BUILD_TIMEOUT_MS;
  const minutes = Number(raw);
  if (!Number.isInteger(minutes) || minutes < 1)
    throw new ProvisionError(
      'go build',
      `LAYER_GO_BUILD_TIMEOUT_MIN is ${JSON.stringify(raw)}: set it to a whole number of minutes (1 or more), or unset it for ${GO_BUILD_TIMEOUT_MS / 60_000}`,
    );
  return minutes * 60_000;
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
  const timeoutMs = goBuildTimeoutMs(env);
  const started = Date.now();
  try {
    await exec(go, args, {
      cwd,
      env: { ...env, CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string; killed?: boolean; signal?: string | null };
    // A build stopped by the timeout ends mid-download with no error of its own: say so, or the
    // message is 15 "go: downloading" lines and no reason.
    if (e.killed || e.signal)
      throw new ProvisionError(
        component,
        `go build stopped by ${e.signal ?? 'a signal'} after ${((Date.now() - started) / 60_000).toFixed(0)} min ` +
          `(the limit is ${timeoutMs / 60_000} min, LAYER_GO_BUILD_TIMEOUT_MIN; a machine this busy builds slowly). Run the same ` +
          `command again: finished binaries stay in the cache and Go's build cache keeps the compiled packages.`,
      );
    throw new ProvisionError(
      component,
      `go build failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  log(`built ${component} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * One binary built with `go build` from a tool module of this repository (test/*-bin): what
 * `resolveGoToolBinary` needs to find it or build it.
 */
export interface GoToolBinary {
  /** Name in errors and log lines. */
  component: string;
  /** File name in the cache and on PATH. */
  name: string;
  /** Variable that points at a binary of the user's own. */
  envVar: string;
  /** Cache key: a new version builds afresh. */
  version: string;
  /** The tool module (holds go.mod and go.sum). */
  moduleDir: string;
  /** What `go build` builds, from moduleDir. */
  target: string;
  /** Linker flags beyond `-s -w` (version stamps). */
  ldflags?: string;
  /** Build behind `nice -n 19`: for builds long enough to starve the machine's other work. */
  nice?: boolean;
  /** Extra environment for the build (e.g. GOFLAGS). */
  buildEnv?: NodeJS.ProcessEnv;
}

/**
 * The one resolution order of the project's binaries (ADR 0001): $envVar → `name` on PATH → the
 * binary cache → `go build` of the tool module into the cache, serialised across processes by the
 * cache's build lock; the choice is logged.
 */
export async function resolveGoToolBinary(
  tool: GoToolBinary,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  const fromEnv = env[tool.envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv))
      throw new ProvisionError(
        tool.component,
        `${tool.envVar}=${fromEnv} is not an executable file; unset it or point it at ${tool.name}`,
      );
    log(`${tool.component}: ${fromEnv} (from ${tool.envVar})`);
    return { path: fromEnv, source: 'env', version: 'unknown' };
  }
  const onPath = findOnPath(tool.name, env);
  if (onPath) {
    log(`${tool.component}: ${onPath} (on PATH)`);
    return { path: onPath, source: 'path', version: 'unknown' };
  }
  const dir = join(binCacheDir(env), `${tool.name}-${tool.version}`);
  const cached = join(dir, tool.name);
  if (isExecutable(cached)) {
    log(`${tool.component}: ${cached} (cache; ${tool.version})`);
    return { path: cached, source: 'cache', version: tool.version };
  }
  const go = await goAvailable(env);
  if (!go)
    throw new ProvisionError(
      tool.component,
      `no cached ${tool.name} and no Go toolchain to build it: install Go >= 1.26, put ${tool.name} on PATH or set ${tool.envVar}`,
    );
  if (!existsSync(join(tool.moduleDir, 'go.mod')))
    throw new ProvisionError(tool.component, `tool module missing at ${tool.moduleDir}`);
  const nice = tool.nice ? findOnPath('nice', env) : undefined;
  await withBuildLock(
    dir,
    async () => {
      if (isExecutable(cached)) return;
      const tmp = join(dir, `tmp-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        const build = [
          'build',
          '-trimpath',
          `-ldflags=-s -w${tool.ldflags ? ` ${tool.ldflags}` : ''}`,
          '-o',
          join(tmp, tool.name),
          tool.target,
        ];
        await goBuild(
          `${tool.name} ${tool.version}`,
          nice ?? go,
          nice ? ['-n', '19', go, ...build] : build,
          tool.moduleDir,
          { ...env, ...tool.buildEnv },
          log,
        );
        renameSync(join(tmp, tool.name), cached);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    log,
  );
  log(`${tool.component}: ${cached} (built; ${tool.version})`);
  return { path: cached, source: 'built', version: tool.version };
}

/** Where the Temporal CLI's release archives live (goreleaser: `temporal_cli_<v>_<os>_<arch>.tar.gz`). */
const TEMPORAL_CLI_DOWNLOAD_BASE = 'https://github.com/temporalio/cli/releases/download';
/** How long the release server gets to answer before the Go build is used instead. */
const TEMPORAL_CLI_DOWNLOAD_TIMEOUT_MS = 15_000;

/** The release archive for this machine, or undefined where the release has none we can unpack. */
export function temporalCliAsset(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string | undefined {
  const os = platform === 'linux' || platform === 'darwin' ? platform : undefined;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
  if (!os || !cpu) return undefined;
  return `temporal_cli_${TEMPORAL_CLI_VERSION.slice(1)}_${os}_${cpu}.tar.gz`;
}

/** The bytes of the regular file `name` (its base name) in a tar archive, or undefined. */
export function fileFromTar(tar: Buffer, name: string): Buffer | undefined {
  const field = (at: number, len: number) =>
    tar
      .subarray(at, at + len)
      .toString('latin1')
      .replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= tar.length;) {
    const path = field(at + 345, 155) ? `${field(at + 345, 155)}/${field(at, 100)}` : field(at, 100);
    if (!path) return undefined; // the two zero blocks that end an archive
    const size = parseInt(field(at + 124, 12).trim() || '0', 8);
    const type = field(at + 156, 1);
    const body = at + 512;
    if ((type === '' || type === '0') && path.split('/').pop() === name)
      return tar.subarray(body, body + size);
    at = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export interface TemporalCliResolveOptions {
  /** fetch for the release download (tests pass their own). */
  fetch?: typeof globalThis.fetch;
  /** The Go toolchain; null: none (default: `go` on PATH or /usr/local/go/bin/go). */
  go?: string | null;
}

async function fetchWithDeadline(
  fetchImpl: typeof globalThis.fetch,
  url: string,
  answerMs: number,
): Promise<Buffer> {
  // `answerMs` bounds the wait for the server's first answer (DNS, connect, headers) — what an
  // offline machine spends; the body of a reachable server then gets minutes.
  const abort = new AbortController();
  let timer = setTimeout(
    () => abort.abort(new Error(`no answer within ${(answerMs / 1000).toFixed(1)} s`)),
    answerMs,
  );
  try {
    const res = await fetchImpl(url, { signal: abort.signal, redirect: 'follow' });
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error('download took over 5 minutes')), 5 * 60_000);
    return Buffer.from(await res.arrayBuffer());
  } catch (err) {
    const reason = abort.signal.aborted ? (abort.signal.reason as Error) : (err as Error);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `${url}: ${reason.message}${cause && !abort.signal.aborted ? ` (${cause.code ?? cause.message})` : ''}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Download the release archive of the pinned Temporal CLI, check it against the release's
 * checksums.txt and write `temporal` to `dest`. Throws with the reason when anything fails.
 */
async function downloadTemporalCli(
  dest: string,
  env: NodeJS.ProcessEnv,
  fetchImpl: typeof globalThis.fetch = globalThis.fetch,
): Promise<void> {
  const asset = temporalCliAsset();
  if (!asset) throw new Error(`no release archive for ${process.platform}/${process.arch}`);
  const base = `${(env.LAYER_TEMPORAL_CLI_DOWNLOAD_URL ?? TEMPORAL_CLI_DOWNLOAD_BASE).replace(/\/+$/, '')}/${TEMPORAL_CLI_VERSION}`;
  const answerMs = Number(env.LAYER_TEMPORAL_CLI_DOWNLOAD_TIMEOUT_MS) || TEMPORAL_CLI_DOWNLOAD_TIMEOUT_MS;
  const sums = (await fetchWithDeadline(fetchImpl, `${base}/checksums.txt`, answerMs)).toString('utf8');
  const expected = sums
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find(([, file]) => file === asset)?.[0];
  if (!expected) throw new Error(`${base}/checksums.txt lists no ${asset}`);
  const archive = await fetchWithDeadline(fetchImpl, `${base}/${asset}`, answerMs);
  const actual = createHash('sha256').update(archive).digest('hex');
  if (actual !== expected) throw new Error(`${asset}: sha256 ${actual}, checksums.txt says ${expected}`);
  const binary = fileFromTar(gunzipSync(archive), 'temporal');
  if (!binary) throw new Error(`${asset} holds no \`temporal\` file`);
  writeFileSync(dest, binary);
  chmodSync(dest, 0o755);
}

/**
 * The Temporal CLI, in order: $TEMPORAL_CLI → `temporal` on PATH → the cache → the release
 * download into the cache (seconds where the internet answers; given up after
 * LAYER_TEMPORAL_CLI_DOWNLOAD_TIMEOUT_MS, 15 s, without an answer; LAYER_TEMPORAL_CLI_DOWNLOAD=0
 * skips it) → `go install` into the cache. Logs which path it took and why a faster one did not
 * work; throws ProvisionError naming both reasons when neither the download nor Go works.
 */
export async function resolveTemporalCli(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  opts: TemporalCliResolveOptions = {},
): Promise<ResolvedBinary> {
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
    found = await withBuildLock(
      dir,
      async () => {
        // Another process may have filled the cache while this one waited for the lock.
        if (isExecutable(cached)) return { path: cached, source: 'cache' as const };
        const tmp = join(dir, `tmp-${process.pid}`);
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        try {
          let downloadFailure = 'skipped (LAYER_TEMPORAL_CLI_DOWNLOAD=0)';
          if (env.LAYER_TEMPORAL_CLI_DOWNLOAD !== '0') {
            const started = Date.now();
            log(`temporal CLI: not cached; downloading the ${TEMPORAL_CLI_VERSION} release`);
            try {
              await downloadTemporalCli(join(tmp, 'temporal'), env, opts.fetch);
              renameSync(join(tmp, 'temporal'), cached);
              log(`temporal CLI: downloaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
              return { path: cached, source: 'download' as const };
            } catch (err) {
              downloadFailure = (err as Error).message;
              log(
                `temporal CLI: download failed after ${((Date.now() - started) / 1000).toFixed(1)} s (${downloadFailure}); building from the Go module proxy instead`,
              );
            }
          }
          const go = opts.go === undefined ? await goAvailable(env) : (opts.go ?? undefined);
          if (!go) {
            throw new ProvisionError(
              'temporal',
              `not found, the release download failed (${downloadFailure}) and there is no Go toolchain to build it: install Go >= 1.25, put \`temporal\` on PATH or set TEMPORAL_CLI`,
            );
          }
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
          return { path: cached, source: 'built' as const };
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      },
      log,
    );
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
function k8sToolModuleDir(): string {
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

/** client_golang release whose promlint the tool module in test/promlint-bin builds. */
const PROMLINT_VERSION = 'v1.23.2';

/**
 * promlint — the check `promtool check metrics` runs, built from test/promlint-bin (client_golang
 * only, about half a minute cold; all of Prometheus would take many minutes): $PROMLINT → the
 * cache → `go build` into the cache. Throws ProvisionError without Go.
 */
export async function resolvePromlint(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.PROMLINT) {
    if (!isExecutable(env.PROMLINT))
      throw new ProvisionError('promlint', `PROMLINT=${env.PROMLINT} is not executable`);
    return env.PROMLINT;
  }
  const dir = join(binCacheDir(env), `promlint-${PROMLINT_VERSION}`);
  const bin = join(dir, 'promlint');
  if (isExecutable(bin)) return bin;
  const go = await goAvailable(env);
  if (!go)
    throw new ProvisionError(
      'promlint',
      'no cached promlint and no Go toolchain to build it: install Go, or set PROMLINT',
    );
  const moduleDir = join(packageRoot(), 'test', 'promlint-bin');
  await withBuildLock(
    dir,
    async () => {
      if (isExecutable(bin)) return;
      const tmp = join(dir, `tmp-${process.pid}`);
      await goBuild(
        'promlint',
        go,
        ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, '.'],
        moduleDir,
        env,
        log,
      );
      renameSync(tmp, bin);
    },
    log,
  );
  return bin;
}
