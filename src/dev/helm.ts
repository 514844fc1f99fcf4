// The `helm` CLI, found or built like the other real binaries this project runs (ADR 0001,
// ADR 0040): $HELM → `helm` on PATH → the cache → `go install helm.sh/helm/v3/cmd/helm@v3.22.0`
// into the cache. Helm's go.mod has no `replace`, so no tool module is needed (unlike
// kube-apiserver and MinIO). Used by the chart tests (test/integration/helm) and
// `layer dev provision --helm`.
import { join } from 'node:path';
import {
  findOrBuildGoTool,
  goToolCacheDir,
  versionOf,
  type GoTool,
  type Logger,
  type ResolvedBinary,
} from './binaries.js';

/** Helm release built from the Go module proxy. */
const HELM_VERSION = 'v3.22.0';
/**
 * The Kubernetes version helm assumes for `.Capabilities.KubeVersion` when it renders without a
 * cluster (`helm template`, `helm lint`); helm's own Makefile stamps the client-go minor of its
 * go.mod (k8s.io/client-go v0.37.0 for v3.22.0), and so do we.
 */
const HELM_K8S_VERSION = { major: '1', minor: '37' };

const HELM: GoTool = {
  component: 'helm',
  version: HELM_VERSION,
  mains: [{ name: 'helm', envVar: 'HELM', target: `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}` }],
  // What helm's Makefile stamps: `helm version` and the default .Capabilities.KubeVersion.
  ldflags: [
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${HELM_K8S_VERSION.major}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM_K8S_VERSION.minor}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${HELM_K8S_VERSION.major}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM_K8S_VERSION.minor}`,
  ].join(' '),
  buildEnv: { GOFLAGS: '-mod=mod' },
};

/** Where `resolveHelm` keeps the binary it builds. */
export function helmCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(goToolCacheDir(HELM, env), 'helm');
}

/**
 * The helm CLI, in order: $HELM → `helm` on PATH → the cache → `go install` into the cache
 * (serialised across processes by the cache entry's build lock). Its version is what the binary
 * says. Throws ProvisionError when none of these can work, naming what to install.
 *
 * @example
 * const helm = await resolveHelm(console.error);
 * execFileSync(helm.path, ['lint', 'deploy/helm/layer']);
 */
export async function resolveHelm(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  const found = (await findOrBuildGoTool(HELM, log, env)).helm!;
  const version = await versionOf(found.path, ['version', '--short']);
  log(`helm: ${found.path} (${found.source}; ${version})`);
  return { ...found, version };
}
