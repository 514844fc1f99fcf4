// Finding (or fetching) the real server binaries the project runs locally. findOrBuildGoTool is
// the one env var → PATH → cache → `go build` order of every binary built from Go modules (helm,
// MinIO, the Temporal cluster, goaws, kfake, OpenTofu, promlint and kube-apiserver + etcd here).
// The Temporal CLI is downloaded from its release when the internet answers within seconds, and
// otherwise built with `go install` from the Go module proxy — this project must also work where
// only package registries are reachable; see docs/adr/0001-real-servers-from-go-modules.md and
// docs/adr/0042-production-build-and-images.md.
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

/** The first line a binary prints for `args` (its version), or why it printed none. */
export async function versionOf(path: string, args: string[]): Promise<string> {
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

/** One main package of a Go tool: the file it becomes and the variable that can point elsewhere. */
export interface GoToolMain {
  /** File name in the cache and on PATH. */
  name: string;
  /** Variable that points at a binary of the user's own. */
  envVar: string;
  /** What `go build` builds, from the tool module (or `pkg@version` for `go install`). */
  target: string;
}

/**
 * Binaries of one Go tool, built together: what `findOrBuildGoTool` needs to find them or build
 * them. Built with `go build` from a tool module of this repository (test/*-bin: versions pinned in
 * go.mod, every dependency in go.sum), or without one with `go install pkg@version` when the
 * tool's own go.mod has no `replace` (helm).
 */
export interface GoTool {
  /** Name in errors and log lines. */
  component: string;
  /** Cache key: a new version builds afresh. */
  version: string;
  /** The cache folder's name; default `<first main's name>-<version>`. */
  cacheName?: string;
  /** The tool module (holds go.mod and go.sum); absent: `go install` of each target. */
  moduleDir?: string;
  mains: readonly GoToolMain[];
  /** Linker flags beyond `-s -w` (version stamps). */
  ldflags?: string;
  /** Build behind `nice -n 19`: for builds long enough to starve the machine's other work. */
  nice?: boolean;
  /** Extra environment for the build (e.g. GOFLAGS). */
  buildEnv?: NodeJS.ProcessEnv;
  /**
   * Build with the installed Go only (GOTOOLCHAIN=local unless the environment sets it): an older
   * Go than the module's `go` line fails with Go's own message rather than fetching another.
   */
  localToolchain?: boolean;
  /** False: never take a binary from PATH (one there is likely another release). */
  fromPath?: boolean;
}

/** A GoTool of one main, described in one object. */
export type GoToolBinary = Omit<GoTool, 'mains'> & GoToolMain;

/** Where a binary was found, before its caller decides what version to call it. */
export type FoundBinary = Omit<ResolvedBinary, 'version'>;

/** The name `go build -o dir/` and `go install` give a main: its package's last element, less a /vN suffix. */
export function goBinaryName(target: string): string {
  const parts = target.replace(/@.*$/, '').split('/');
  const last = parts.pop() ?? '';
  return /^v\d+$/.test(last) && parts.length > 0 ? parts.pop()! : last;
}

/** The `go` line of a module's go.mod (the oldest Go that builds it), or undefined. */
function goModGoVersion(moduleDir: string): string | undefined {
  try {
    return /^go (\S+)$/m.exec(readFileSync(join(moduleDir, 'go.mod'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The cache folder `tool`'s binaries are built into. */
export function goToolCacheDir(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  return join(binCacheDir(env), tool.cacheName ?? `${tool.mains[0]!.name}-${tool.version}`);
}

/**
 * The one resolution order of the project's binaries (ADR 0001), for every main of `tool`: its
 * $envVar → `name` on PATH → the binary cache; whatever is still missing is built together (one
 * `go build` shares the compile of common packages) into the cache, serialised across processes by
 * the cache's build lock. Logs only the build; callers log the choice in their own words. Throws
 * ProvisionError naming the fix when an env var is wrong or nothing can build.
 */
export async function findOrBuildGoTool(
  tool: GoTool,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, FoundBinary>> {
  const dir = goToolCacheDir(tool, env);
  const found: Record<string, FoundBinary> = {};
  const missing: GoToolMain[] = [];
  for (const m of tool.mains) {
    const fromEnv = env[m.envVar];
    if (fromEnv) {
      if (!isExecutable(fromEnv))
        throw new ProvisionError(
          tool.component,
          `${m.envVar}=${fromEnv} is not an executable file; unset it or point it at ${m.name} ${tool.version}`,
        );
      found[m.name] = { path: fromEnv, source: 'env' };
      continue;
    }
    const onPath = tool.fromPath === false ? undefined : findOnPath(m.name, env);
    const cached = join(dir, m.name);
    if (onPath) found[m.name] = { path: onPath, source: 'path' };
    else if (isExecutable(cached)) found[m.name] = { path: cached, source: 'cache' };
    else missing.push(m);
  }
  if (missing.length === 0) return found;
  const go = await goAvailable(env);
  const names = (ms: readonly GoToolMain[]) => ms.map((m) => m.name).join(' + ');
  if (!go) {
    const needs = tool.moduleDir && goModGoVersion(tool.moduleDir);
    throw new ProvisionError(
      tool.component,
      `${names(missing)} not found and no Go toolchain to build ${tool.version}: install Go${needs ? ` >= ${needs}` : ''}, ` +
        `${tool.fromPath === false ? '' : `put ${names(missing)} on PATH `}or set ${missing.map((m) => m.envVar).join(' / ')}`,
    );
  }
  if (tool.moduleDir !== undefined && !existsSync(join(tool.moduleDir, 'go.mod')))
    throw new ProvisionError(tool.component, `tool module missing at ${tool.moduleDir}`);
  const nice = tool.nice ? findOnPath('nice', env) : undefined;
  await withBuildLock(
    dir,
    async () => {
      const still = missing.filter((m) => !isExecutable(join(dir, m.name)));
      if (still.length === 0) return;
      const tmp = join(dir, `tmp-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        // One main built from the module is written under its name; several (and `go install`)
        // come out under their packages' names, and two mains named alike need two tools.
        const named = tool.moduleDir !== undefined && still.length === 1;
        const flags = ['-trimpath', `-ldflags=-s -w${tool.ldflags ? ` ${tool.ldflags}` : ''}`];
        const targets = still.map((m) => m.target);
        const args =
          tool.moduleDir === undefined
            ? ['install', ...flags, ...targets]
            : ['build', ...flags, '-o', named ? join(tmp, still[0]!.name) : tmp + '/', ...targets];
        await goBuild(
          `${names(still)} ${tool.version}`,
          nice ?? go,
          nice ? ['-n', '19', go, ...args] : args,
          tool.moduleDir ?? tmp,
          {
            ...env,
            ...tool.buildEnv,
            ...(tool.moduleDir === undefined ? { GOBIN: tmp } : {}),
            ...(tool.localToolchain ? { GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local' } : {}),
          },
          log,
        );
        for (const m of still)
          renameSync(join(tmp, named ? m.name : goBinaryName(m.target)), join(dir, m.name));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    log,
  );
  for (const m of missing) found[m.name] = { path: join(dir, m.name), source: 'built' };
  return found;
}

/**
 * One binary by findOrBuildGoTool's order, logging the choice: a binary of the user's own
 * (env var, PATH) has version 'unknown', a cached or built one the tool's version.
 */
export async function resolveGoToolBinary(
  tool: GoToolBinary,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  const found = (await findOrBuildGoTool({ ...tool, mains: [tool] }, log, env))[tool.name]!;
  const own = found.source === 'env' || found.source === 'path';
  const where =
    found.source === 'env' ? `from ${tool.envVar}` : own ? 'on PATH' : `${found.source}; ${tool.version}`;
  log(`${tool.component}: ${found.path} (${where})`);
  return { ...found, version: own ? 'unknown' : tool.version };
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

/**
 * kube-apiserver and etcd, in order: $KUBE_APISERVER and $ETCD → $LAYER_KUBE_ASSETS/{kube-apiserver,etcd}
 * → the cache → `go build` of the tool module into the cache. Throws ProvisionError when
 * nothing works (no Go and no prebuilt binaries), naming what to install.
 */
export async function resolveKubeBinaries(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeBinaries> {
  const pick = async (apiserver: FoundBinary, etcd: FoundBinary): Promise<KubeBinaries> => {
    const bins = {
      apiserver: { ...apiserver, version: await versionOf(apiserver.path, ['--version']) },
      etcd: { ...etcd, version: await versionOf(etcd.path, ['--version']) },
    };
    log(
      `kube-apiserver: ${apiserver.path} (${apiserver.source}; ${bins.apiserver.version}); etcd: ${etcd.path} (${bins.etcd.version})`,
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
    return pick({ path: env.KUBE_APISERVER, source: 'env' }, { path: env.ETCD, source: 'env' });
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
    return pick({ path: a, source: 'env' }, { path: e, source: 'env' });
  }
  const found = await findOrBuildGoTool(
    {
      component: 'kube-apiserver',
      version: KUBERNETES_VERSION,
      cacheName: `kubernetes-${KUBERNETES_VERSION}`,
      moduleDir: join(packageRoot(), 'test', 'k8s-bin'),
      // One `go build` of both mains shares the compile of their common packages.
      mains: [
        { name: 'kube-apiserver', envVar: 'KUBE_APISERVER', target: 'k8s.io/kubernetes/cmd/kube-apiserver' },
        { name: 'etcd', envVar: 'ETCD', target: 'go.etcd.io/etcd/server/v3' },
      ],
      ldflags: [
        `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
        `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
      ].join(' '),
      buildEnv: { GOFLAGS: '-mod=mod' },
      fromPath: false,
    },
    log,
    env,
  );
  return pick(found['kube-apiserver']!, found.etcd!);
}

/** client_golang release whose promlint the tool module in test/promlint-bin builds. */
const PROMLINT_VERSION = 'v1.23.2';

/**
 * promlint — the check `promtool check metrics` runs, built from test/promlint-bin (client_golang
 * only, about half a minute cold; all of Prometheus would take many minutes): $PROMLINT → the
 * cache → `go build` into the cache. Throws ProvisionError without Go.
 */
export async function resolvePromlint(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const promlint: GoToolBinary = {
    component: 'promlint',
    name: 'promlint',
    envVar: 'PROMLINT',
    version: PROMLINT_VERSION,
    moduleDir: join(packageRoot(), 'test', 'promlint-bin'),
    target: '.',
    fromPath: false,
  };
  return (await resolveGoToolBinary(promlint, log, env)).path;
}
