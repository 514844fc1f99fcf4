// The binaries of a cluster where controllers act (`layer dev up --kube --controllers`, the
// controller tests): kube-controller-manager and kube-scheduler from test/k8s-bin (the apiserver's
// tool module, so they share its build cache and version), kwok from test/kwok-bin, and the KEDA
// operator and metrics API server from test/keda-bin. Each tool module is its own `go build` into
// its own cache folder under its own lock, so the three cold builds run at once.
// See docs/adr/0084-controllers-from-go-modules.md.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  goAvailable,
  goBuild,
  isExecutable,
  KUBERNETES_VERSION,
  ProvisionError,
  withBuildLock,
  type Logger,
} from './binaries.js';
import { binCacheDir, packageRoot } from './paths.js';

/** kwok release test/kwok-bin pins (its go.mod requires k8s.io/* v0.36, hence its own module). */
const KWOK_VERSION = 'v0.8.0';
/**
 * KEDA release test/keda-bin pins. v2.21.1 declares `go 1.27.4`, newer than the Go this project
 * builds with, so v2.21.0 (`go 1.26.0`) it is.
 */
export const KEDA_VERSION = 'v2.21.0';

const exec = promisify(execFile);

/** Folder beside keda-operator holding KEDA's own CRDs (config/crd/bases of the pinned release). */
const KEDA_CRD_FOLDER = 'keda-crds';

export interface ControllerBinaries {
  /** KEDA's CRD YAML files. */
  kedaCrdDir: string;
  controllerManager: string;
  scheduler: string;
  kwok: string;
  kedaOperator: string;
  kedaAdapter: string;
}

/** The file names under $LAYER_CONTROLLER_ASSETS (and in the cache). */
const CONTROLLER_BINARY_NAMES: Record<Exclude<keyof ControllerBinaries, 'kedaCrdDir'>, string> = {
  controllerManager: 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  kwok: 'kwok',
  kedaOperator: 'keda-operator',
  kedaAdapter: 'keda-adapter',
};

interface ToolBuild {
  component: string;
  /** Cache folder name (versioned). */
  cacheName: string;
  moduleDir: string;
  /** Main packages, and the file name each `go build -o dir/` writes → the name we keep. */
  mains: { pkg: string; built: string; name: string }[];
  ldflags: string[];
  /** Extra files to keep beside the binaries, copied from the module cache after the build. */
  afterBuild?: (dir: string, go: string, env: NodeJS.ProcessEnv) => Promise<void>;
}

async function buildTool(spec: ToolBuild, log: Logger, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = join(binCacheDir(env), spec.cacheName);
  const done = () =>
    spec.mains.every((m) => isExecutable(join(dir, m.name))) &&
    (!spec.afterBuild || existsSync(join(dir, KEDA_CRD_FOLDER)));
  if (done()) return dir;
  const go = await goAvailable(env);
  if (!go) {
    throw new ProvisionError(
      spec.component,
      'not cached and no Go toolchain to build it: install Go >= 1.26, or set LAYER_CONTROLLER_ASSETS to a folder holding ' +
        Object.values(CONTROLLER_BINARY_NAMES).join(', '),
    );
  }
  if (!existsSync(join(spec.moduleDir, 'go.mod')))
    throw new ProvisionError(spec.component, `tool module missing at ${spec.moduleDir}`);
  await withBuildLock(
    dir,
    async () => {
      if (done()) return;
      const tmp = join(dir, `tmp-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        await goBuild(
          spec.component,
          go,
          [
            'build',
            '-trimpath',
            `-ldflags=${['-s', '-w', ...spec.ldflags].join(' ')}`,
            '-o',
            tmp + '/',
            ...spec.mains.map((m) => m.pkg),
          ],
          spec.moduleDir,
          { ...env, GOFLAGS: '-mod=mod' },
          log,
        );
        await spec.afterBuild?.(tmp, go, { ...env, GOFLAGS: '-mod=mod' });
        for (const m of spec.mains) renameSync(join(tmp, m.built), join(dir, m.name));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    log,
  );
  return dir;
}

/** The three tool builds (exported for `layer dev provision` to report each). */
function controllerToolBuilds(): ToolBuild[] {
  const root = packageRoot();
  return [
    {
      component: 'kube-controller-manager + kube-scheduler',
      cacheName: `kube-controllers-${KUBERNETES_VERSION}`,
      moduleDir: join(root, 'test', 'k8s-bin'),
      mains: [
        {
          pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
          built: 'kube-controller-manager',
          name: CONTROLLER_BINARY_NAMES.controllerManager,
        },
        {
          pkg: 'k8s.io/kubernetes/cmd/kube-scheduler',
          built: 'kube-scheduler',
          name: CONTROLLER_BINARY_NAMES.scheduler,
        },
      ],
      ldflags: [
        `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
        `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
      ],
    },
    {
      component: 'kwok',
      cacheName: `kwok-${KWOK_VERSION}`,
      moduleDir: join(root, 'test', 'kwok-bin'),
      mains: [{ pkg: 'sigs.k8s.io/kwok/cmd/kwok', built: 'kwok', name: CONTROLLER_BINARY_NAMES.kwok }],
      // kwok stamps its own version (pkg/consts.Version) in its source.
      ldflags: [],
    },
    {
      component: 'keda operator + metrics API server',
      cacheName: `keda-${KEDA_VERSION}`,
      moduleDir: join(root, 'test', 'keda-bin'),
      mains: [
        {
          pkg: 'github.com/kedacore/keda/v2/cmd/operator',
          built: 'operator',
          name: CONTROLLER_BINARY_NAMES.kedaOperator,
        },
        {
          pkg: 'github.com/kedacore/keda/v2/cmd/adapter',
          built: 'adapter',
          name: CONTROLLER_BINARY_NAMES.kedaAdapter,
        },
      ],
      ldflags: [`-X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION}`],
      // The operator watches all six of its CRDs; the ones it ships are kept with the binaries.
      afterBuild: async (tmp, go, env) => {
        const { stdout } = await exec(go, ['list', '-m', '-f', '{{.Dir}}', 'github.com/kedacore/keda/v2'], {
          cwd: join(root, 'test', 'keda-bin'),
          env,
        });
        const crdDir = join(tmp, '..', KEDA_CRD_FOLDER);
        rmSync(crdDir, { recursive: true, force: true });
        cpSync(join(stdout.trim(), 'config', 'crd', 'bases'), crdDir, { recursive: true });
      },
    },
  ];
}

/**
 * kube-controller-manager, kube-scheduler, kwok, keda-operator and keda-adapter, in order:
 * $LAYER_CONTROLLER_ASSETS (a folder holding all five) → the cache → `go build` of the three tool
 * modules into the cache, concurrently. Throws ProvisionError naming the component and the tail
 * of the compiler's output when a build fails.
 */
export async function resolveControllerBinaries(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  opts: { keda?: boolean } = {},
): Promise<ControllerBinaries> {
  const names = CONTROLLER_BINARY_NAMES;
  if (env.LAYER_CONTROLLER_ASSETS) {
    const dir = env.LAYER_CONTROLLER_ASSETS;
    const missing = Object.values(names).filter((n) => !isExecutable(join(dir, n)));
    if (!existsSync(join(dir, KEDA_CRD_FOLDER))) missing.push(`${KEDA_CRD_FOLDER}/ (KEDA's CRDs)`);
    if (missing.length > 0)
      throw new ProvisionError(
        'controllers',
        `LAYER_CONTROLLER_ASSETS=${dir} lacks executable ${missing.join(', ')}; unset it to build them`,
      );
    return { ...mapNames((n) => join(dir, n)), kedaCrdDir: join(dir, KEDA_CRD_FOLDER) };
  }
  // Without KEDA its build (the longest) is skipped; its paths then point into an empty cache folder.
  const builds = controllerToolBuilds().filter(
    (b) => opts.keda !== false || !b.cacheName.startsWith('keda-'),
  );
  const [k8s, kwok, keda = join(binCacheDir(env), `keda-${KEDA_VERSION}`)] = await Promise.all(
    builds.map((b) => buildTool(b, log, env)),
  );
  const bins: ControllerBinaries = {
    kedaCrdDir: join(keda, KEDA_CRD_FOLDER),
    controllerManager: join(k8s!, names.controllerManager),
    scheduler: join(k8s!, names.scheduler),
    kwok: join(kwok!, names.kwok),
    kedaOperator: join(keda, names.kedaOperator),
    kedaAdapter: join(keda, names.kedaAdapter),
  };
  log(`controllers: ${Object.values(bins).join(', ')}`);
  return bins;
}

function mapNames(f: (name: string) => string): Omit<ControllerBinaries, 'kedaCrdDir'> {
  const n = CONTROLLER_BINARY_NAMES;
  return {
    controllerManager: f(n.controllerManager),
    scheduler: f(n.scheduler),
    kwok: f(n.kwok),
    kedaOperator: f(n.kedaOperator),
    kedaAdapter: f(n.kedaAdapter),
  };
}
