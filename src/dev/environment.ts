// `layer dev up` / `layer dev down`: the local environment as background servers whose
// coordinates are written to <state>/state.json, so a later command (or a person) can find
// them and `dev down` can stop exactly what `dev up` started.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { startControlledCluster } from './controllers.js';
import { startKubeApiServer } from './kube-apiserver.js';
import { isOurProcess, processStartMarker, stopOurProcess, type ProcessIdentity } from './process.js';
import { startTemporalDevServer } from './temporal-server.js';
import { startTemporalCluster } from './temporal-cluster.js';
import type { Logger } from './binaries.js';

const DevStateSchema = z.object({
  temporal: z.object({
    address: z.string(),
    namespace: z.string(),
    uiUrl: z.string(),
    pid: z.number(),
    logFile: z.string(),
    /** `--temporal cluster`: the server processes and helpers; `pid` above is the first host. */
    cluster: z
      .object({
        hosts: z.array(z.object({ name: z.string(), address: z.string(), pid: z.number() })),
        forwarderPid: z.number(),
        uiPid: z.number().optional(),
        database: z.string(),
        numHistoryShards: z.number(),
      })
      .optional(),
  }),
  kube: z
    .object({
      serverUrl: z.string(),
      kubeconfigPath: z.string(),
      pids: z.object({ etcd: z.number(), apiserver: z.number() }),
      /** `--controllers`: kube-controller-manager, kube-scheduler, kwok and KEDA. */
      controllers: z
        .object({
          controllerManager: z.number(),
          scheduler: z.number(),
          kwok: z.number(),
          kedaOperator: z.number(),
          kedaAdapter: z.number(),
        })
        .optional(),
    })
    .optional(),
  store: z.object({ url: z.string(), pid: z.number(), dataDir: z.string(), logFile: z.string() }).optional(),
  /** pid → start marker, so a pid reused by another process is never taken for ours. */
  startMarkers: z.record(z.string(), z.string()).optional(),
});
export type DevState = z.infer<typeof DevStateSchema>;

/** What `layer dev up --json` prints: one object, stable keys. */
export interface DevEndpoints {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  kubeconfig: string | null;
  kubeServerUrl: string | null;
  storeUrl: string | null;
  stateDir: string;
}

export function endpointsOf(state: DevState, stateDir: string): DevEndpoints {
  return {
    temporalAddress: state.temporal.address,
    temporalNamespace: state.temporal.namespace,
    temporalUiUrl: state.temporal.uiUrl,
    kubeconfig: state.kube?.kubeconfigPath ?? null,
    kubeServerUrl: state.kube?.serverUrl ?? null,
    storeUrl: state.store?.url ?? null,
    stateDir,
  };
}

function stateFile(stateDir: string): string {
  return join(stateDir, 'state.json');
}

type Role =
  | 'temporal'
  | 'etcd'
  | 'kube-apiserver'
  | 'store'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'keda-operator'
  | 'keda-adapter'
  | 'temporal-server'
  | 'forwarder'
  | 'temporal-ui';

/** For state files without start markers: what each role's command line contains. */
const COMMAND_PATTERNS: Record<Role, RegExp> = {
  temporal: /\btemporal\b.*\bserver\b/,
  'temporal-server': /\btemporal-server\b/,
  forwarder: /\bdev\b.*\bforward\b/,
  'temporal-ui': /\btemporal-ui-server\b/,
  etcd: /\betcd\b/,
  'kube-apiserver': /\bkube-apiserver\b/,
  store: /\bstore\b/,
  'kube-controller-manager': /\bkube-controller-manager\b/,
  'kube-scheduler': /\bkube-scheduler\b/,
  kwok: /\bkwok\b/,
  'keda-operator': /\bkeda-operator\b/,
  'keda-adapter': /\bkeda-adapter\b/,
};

function pidsOf(state: DevState): [Role, number][] {
  return [
    ...(state.store ? [['store', state.store.pid] as [Role, number]] : []),
    ...(state.kube?.controllers
      ? ([
          ['keda-adapter', state.kube.controllers.kedaAdapter],
          ['keda-operator', state.kube.controllers.kedaOperator],
          ['kwok', state.kube.controllers.kwok],
          ['kube-scheduler', state.kube.controllers.scheduler],
          ['kube-controller-manager', state.kube.controllers.controllerManager],
        ] as [Role, number][])
      : []),
    ...(state.kube
      ? [
          ['kube-apiserver', state.kube.pids.apiserver] as [Role, number],
          ['etcd', state.kube.pids.etcd] as [Role, number],
        ]
      : []),
    ...(state.temporal.cluster
      ? [
          ...(state.temporal.cluster.uiPid !== undefined
            ? [['temporal-ui', state.temporal.cluster.uiPid] as [Role, number]]
            : []),
          ['forwarder', state.temporal.cluster.forwarderPid] as [Role, number],
          ...state.temporal.cluster.hosts.map((h) => ['temporal-server', h.pid] as [Role, number]),
        ]
      : [['temporal', state.temporal.pid] as [Role, number]]),
  ];
}

function identity(state: DevState, role: Role, pid: number): ProcessIdentity {
  const startMarker = state.startMarkers?.[String(pid)];
  return { pid, commandPattern: COMMAND_PATTERNS[role], ...(startMarker ? { startMarker } : {}) };
}

function isRunning(state: DevState, role: Role, pid: number): boolean {
  return isOurProcess(identity(state, role, pid));
}

/** The running environment, or undefined when none is (stale state from a reboot counts as none). */
export function readDevState(stateDir: string): DevState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  const parsed = DevStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) return undefined;
  const t = parsed.data.temporal;
  const alive = t.cluster
    ? isRunning(parsed.data, 'forwarder', t.cluster.forwarderPid) &&
      t.cluster.hosts.some((h) => isRunning(parsed.data, 'temporal-server', h.pid))
    : isRunning(parsed.data, 'temporal', t.pid);
  return alive ? parsed.data : undefined;
}

function writeDevState(stateDir: string, state: DevState): void {
  const startMarkers: Record<string, string> = {};
  for (const [, pid] of pidsOf(state)) {
    const marker = state.startMarkers?.[String(pid)] ?? processStartMarker(pid);
    if (marker) startMarkers[String(pid)] = marker;
  }
  writeFileSync(stateFile(stateDir), JSON.stringify({ ...state, startMarkers }, null, 2) + '\n');
}

export interface DevUpOptions {
  stateDir: string;
  kube: boolean;
  /** `dev` (default): the Temporal CLI's dev server; `cluster`: temporal-server processes on PostgreSQL. */
  temporal?: 'dev' | 'cluster';
  /** For `cluster`: server processes, history shards, database name. */
  cluster?: { hosts?: number; numHistoryShards?: number; database?: string };
  /** With kube: also the controllers, kwok nodes and KEDA (src/dev/controllers.ts). */
  controllers?: boolean;
  log: Logger;
  /** Starts the embedded store and returns its coordinates (wired by the store module). */
  startStore?: (stateDir: string) => Promise<DevState['store']>;
}

export async function devUp(opts: DevUpOptions): Promise<DevState> {
  mkdirSync(opts.stateDir, { recursive: true });
  let state = readDevState(opts.stateDir);
  if (state && (opts.temporal ?? 'dev') !== (state.temporal.cluster ? 'cluster' : 'dev')) {
    throw new Error(
      `temporal: a ${state.temporal.cluster ? 'cluster' : 'dev server'} from an earlier \`layer dev up\` is running at ${state.temporal.address}; run \`layer dev down\` first to switch to --temporal ${opts.temporal ?? 'dev'}`,
    );
  }
  if (!state && opts.temporal === 'cluster') {
    const cluster = await startTemporalCluster({
      log: opts.log,
      stateDir: join(opts.stateDir, 'temporal-cluster'),
      detached: true,
      ui: true,
      ...opts.cluster,
    });
    state = {
      temporal: {
        address: cluster.address,
        namespace: cluster.namespace,
        uiUrl: cluster.uiUrl ?? '',
        pid: cluster.hosts[0]!.pid(),
        logFile: cluster.hosts[0]!.logFile,
        cluster: {
          hosts: cluster.hosts.map((h) => ({ name: h.name, address: h.frontendAddress, pid: h.pid() })),
          forwarderPid: cluster.helperPids.forwarder!,
          ...(cluster.helperPids.ui !== undefined ? { uiPid: cluster.helperPids.ui } : {}),
          database: cluster.database,
          numHistoryShards: opts.cluster?.numHistoryShards ?? 16,
        },
      },
    };
    writeDevState(opts.stateDir, state);
  } else if (!state) {
    const temporal = await startTemporalDevServer({
      log: opts.log,
      dbFile: join(opts.stateDir, 'temporal.sqlite'),
      logFile: join(opts.stateDir, 'temporal.log'),
      detached: true,
    });
    if (temporal.pid === undefined || !temporal.logFile)
      throw new Error('dev up needs a Temporal CLI process it can leave running');
    state = {
      temporal: {
        address: temporal.address,
        namespace: temporal.namespace,
        uiUrl: temporal.uiUrl,
        pid: temporal.pid,
        logFile: temporal.logFile,
      },
    };
    writeDevState(opts.stateDir, state);
  } else {
    opts.log(
      `temporal ${state.temporal.cluster ? 'cluster' : 'dev server'} already running at ${state.temporal.address}`,
    );
  }
  const kubeUp = state.kube && isRunning(state, 'kube-apiserver', state.kube.pids.apiserver);
  if (opts.kube && kubeUp && opts.controllers && !state.kube?.controllers)
    throw new Error(
      'a kube-apiserver without controllers is already running: `layer dev down` first, then `layer dev up --kube --controllers`',
    );
  if (opts.kube && !kubeUp) {
    if (opts.controllers) {
      const cluster = await startControlledCluster({
        log: opts.log,
        stateDir: join(opts.stateDir, 'cluster'),
        detached: true,
      });
      const kube = cluster.kube;
      state = {
        ...state,
        kube: {
          serverUrl: kube.serverUrl,
          kubeconfigPath: kube.kubeconfigPath,
          pids: kube.pids,
          controllers: cluster.pids,
        },
      };
    } else {
      const kube = await startKubeApiServer({
        log: opts.log,
        stateDir: join(opts.stateDir, 'kube'),
        detached: true,
      });
      state = {
        ...state,
        kube: { serverUrl: kube.serverUrl, kubeconfigPath: kube.kubeconfigPath, pids: kube.pids },
      };
    }
    writeDevState(opts.stateDir, state);
  }
  if (opts.startStore && !(state.store && isRunning(state, 'store', state.store.pid))) {
    state = { ...state, store: await opts.startStore(opts.stateDir) };
    writeDevState(opts.stateDir, state);
  }
  return state;
}

/**
 * Stops everything `dev up` started; data stays unless `purge`. Returns what was stopped. A pid
 * that now belongs to another process (reused after a reboot) is left alone and reported.
 */
export async function devDown(
  stateDir: string,
  { purge = false, log = () => undefined }: { purge?: boolean; log?: Logger } = {},
): Promise<string[]> {
  const file = stateFile(stateDir);
  const stopped: string[] = [];
  if (existsSync(file)) {
    const parsed = DevStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) {
      const s = parsed.data;
      for (const [role, pid] of pidsOf(s)) {
        const outcome = await stopOurProcess(identity(s, role, pid));
        if (outcome === 'stopped') stopped.push(role);
        if (outcome === 'foreign')
          log(`${role}: pid ${pid} now belongs to another process (pid reused since dev up); left it alone`);
      }
    }
    rmSync(file, { force: true });
  }
  if (purge) rmSync(stateDir, { recursive: true, force: true });
  return stopped;
}
