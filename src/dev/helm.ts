// The `helm` CLI, found or built like the other real binaries this project runs (ADR 0001,
// ADR 0040): $HELM → `helm` on PATH → the cache → `go install helm.sh/helm/v3/cmd/helm@v3.22.0`
// into the cache. Helm's go.mod has no `replace`, so no tool module is needed (unlike
// kube-apiserver and MinIO). Used by the chart tests (test/integration/helm) and
// `layer dev provision --helm`.
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
import { binCacheDir } from './paths.js';

const exec = promisify(execFile);

/** Helm release built from the Go module proxy. */
const HELM_VERSION = 'v3.22.0';
/**
 * The Kubernetes version helm assumes for `.Capabilities.KubeVersion` when it renders without a
 * cluster (`helm template`, `helm lint`); helm's own Makefile stamps the client-go minor of its
 * go.mod (k8s.io/client-go v0.37.0 for v3.22.0), and so do we.
 */
const HELM_K8S_VERSION = { major: '1', minor: '37' };

async function helmVersionOf(path: string): Promise<string> {
  try {
    const { stdout } = await exec(path, ['version', '--short'], { timeout: 30_000 });
    return stdout.trim().split('\n')[0] ?? 'unknown';
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Where `resolveHelm` keeps the binary it builds. */
export function helmCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(binCacheDir(env), `helm-${HELM_VERSION}`, 'helm');
}

/**
 * The helm CLI, in order: $HELM → `helm` on PATH → the cache → `go install` into the cache
 * (serialised across processes by the cache entry's build lock). Throws ProvisionError when
 * none of these can work, naming what to install.
 *
 * @example
 * const helm = await resolveHelm(console.error);
 * execFileSync(helm.path, ['lint', 'deploy/helm/layer']);
 */
export async function resolveHelm(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  let found: Omit<ResolvedBinary, 'version'> | undefined;
  if (env.HELM) {
    if (!isExecutable(env.HELM)) {
      throw new ProvisionError(
        'helm',
        `HELM=${env.HELM} is not an executable file; unset it or point it at helm`,
      );
    }
    found = { path: env.HELM, source: 'env' };
  }
  if (!found) {
    const onPath = findOnPath('helm', env);
    if (onPath) found = { path: onPath, source: 'path' };
  }
  const cached = helmCachePath(env);
  const dir = join(cached, '..');
  if (!found && isExecutable(cached)) found = { path: cached, source: 'cache' };
  if (!found) {
    const go = await goAvailable(env);
    if (!go) {
      throw new ProvisionError(
        'helm',
        'no helm found and no Go toolchain to build it: install Go >= 1.26, put `helm` on PATH or set HELM',
      );
    }
    await withBuildLock(
      dir,
      async () => {
        if (isExecutable(cached)) return;
        const tmp = join(dir, `tmp-${process.pid}`);
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        const ldflags = [
          '-s',
          '-w',
          // What helm's Makefile stamps: `helm version` and the default .Capabilities.KubeVersion.
          `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
          `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${HELM_K8S_VERSION.major}`,
          `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM_K8S_VERSION.minor}`,
          `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${HELM_K8S_VERSION.major}`,
          `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM_K8S_VERSION.minor}`,
        ].join(' ');
        await goBuild(
          `helm ${HELM_VERSION}`,
          go,
          ['install', '-trimpath', `-ldflags=${ldflags}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`],
          tmp,
          { ...env, GOBIN: tmp, GOFLAGS: '-mod=mod' },
          log,
        );
        renameSync(join(tmp, 'helm'), cached);
        rmSync(tmp, { recursive: true, force: true });
      },
      log,
    );
    found = { path: cached, source: 'built' };
  }
  const version = await helmVersionOf(found.path);
  log(`helm: ${found.path} (${found.source}; ${version})`);
  return { ...found, version };
}
