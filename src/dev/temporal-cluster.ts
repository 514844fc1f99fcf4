// A production-shaped Temporal cluster on this machine: temporal-server processes on their own
// loopback addresses (127.0.0.2, 127.0.0.3, …), each running frontend + history + matching +
// worker, joined through Temporal's membership (ringpop over the cluster_membership table), on
// PostgreSQL with SQL visibility, behind one client address (a TCP forwarder on 127.0.0.1). The
// schema is set up with temporal-sql-tool; the namespace and Layer's search attributes are
// registered through the API. Used by `layer dev up --temporal cluster` and by the integration
// tests that ask for it (test/helpers/temporal-cluster.ts). Each host can be killed and restarted
// on its own, and reports its CPU time, for the chaos tests and benchmarks.
//
// Over 400 lines on purpose: startTemporalCluster is one ordered start-up (ports, schema, hosts,
// forwarder, namespace) that must undo every step it took when a later one fails; split, that
// cleanup would cross files.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import { ProvisionError, type Logger } from './binaries.js';
import { freePorts, waitFor } from './net.js';
import { packageRoot } from './paths.js';
import { startProcess, type ManagedProcess } from './process.js';
import { resolveTemporalServer, resolveTemporalUiServer } from './temporal-cluster-binaries.js';
import {
  clusterConfigTemplatePath,
  clusterDatabases,
  clusterDynamicConfigPath,
  hostTemplateEnv,
  parsePostgresUrl,
  planClusterHosts,
  PORTS_PER_HOST,
  MAX_MEMBERSHIP_PORT,
  hostIp,
  renderConfigTemplate,
  schemaSteps,
  serverArgs,
  validateClusterInput,
  TEMPORAL_SERVER_VERSION,
  type ClusterHost,
  type ClusterPlanInput,
  type PostgresTarget,
} from './temporal-cluster-config.js';
import { startTcpForwarder, type TcpForwarder } from './tcp-forwarder.js';

const exec = promisify(execFile);

export interface TemporalClusterOptions {
  log: Logger;
  /** Rendered configs and logs. */
  stateDir: string;
  /** Server processes (default 2). */
  hosts?: number;
  /** Fixed when the database is first set up (default 16). */
  numHistoryShards?: number;
  /** Persistence database; visibility is `<database>_visibility` (default layer_temporal). */
  database?: string;
  namespace?: string;
  /** Also the Temporal UI server, pointed at the cluster. */
  ui?: boolean;
  /** Keep running after this process exits (`layer dev up`): the forwarder becomes its own process. */
  detached?: boolean;
  /** Client port on 127.0.0.1 (default: a free one). */
  port?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ClusterHostHandle extends ClusterHost {
  frontendAddress: string;
  logFile: string;
  configFile: string;
  /** Current pid (changes on restart). */
  pid(): number;
  alive(): boolean;
  /** Signal the process (SIGKILL by default) and wait until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again with the same config (same address and ports). */
  restart(): Promise<void>;
  /** User + system CPU seconds of the current process, from /proc/<pid>/stat. */
  cpuSeconds(): number;
}

export interface TemporalCluster {
  /** The one client address (the forwarder). */
  address: string;
  namespace: string;
  hosts: ClusterHostHandle[];
  database: string;
  visibilityDatabase: string;
  postgres: PostgresTarget;
  uiUrl?: string;
  /** Pids of detached helper processes (forwarder, UI) for `dev down`. */
  helperPids: { forwarder?: number; ui?: number };
  forwarder?: TcpForwarder;
  stop(): Promise<void>;
}

/** CPU seconds (utime + stime) of a process from /proc/<pid>/stat; 0 when it is gone. */
export function processCpuSeconds(pid: number, clockTicks = 100): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) are the 12th and 13th after the comm field.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return 0;
  }
}

/** Runs the idempotent temporal-sql-tool steps; a step that finds its work done counts as done. */
async function setUpSchema(
  sqlTool: string,
  pg: PostgresTarget,
  database: string,
  visibilityDatabase: string,
  log: Logger,
): Promise<void> {
  for (const step of schemaSteps(pg, database, visibilityDatabase)) {
    try {
      await exec(sqlTool, step.args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
      log(`temporal-sql-tool: ${step.what}`);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const out = `${e.stdout ?? ''}\n${e.stderr ?? ''}`;
      if (step.alreadyDone?.test(out)) {
        log(`temporal-sql-tool: ${step.what} (already there)`);
        continue;
      }
      const hint = /connection refused|no such host|dial tcp/i.test(out)
        ? ` — is PostgreSQL running at ${pg.host}:${pg.port}? Set LAYER_TEMPORAL_POSTGRES_URL to point elsewhere`
        : '';
      throw new ProvisionError(
        'temporal-sql-tool',
        `${step.what} failed${hint}: ${out.trim().split('\n').slice(-8).join('\n') || e.message}`,
      );
    }
  }
}

/** Drops both databases of a cluster (test clean-up); missing ones are fine. */
export async function dropClusterDatabases(
  sqlTool: string,
  pg: PostgresTarget,
  database: string,
  visibilityDatabase: string,
): Promise<void> {
  for (const db of [database, visibilityDatabase]) {
    const [step] = schemaSteps(pg, db, db);
    const conn = step!.args.slice(0, -1);
    await exec(sqlTool, [...conn, 'drop-database', '--force'], { timeout: 60_000 }).catch(() => undefined);
  }
}

async function grpcCode(fn: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code === 'number') return code;
    throw err;
  }
}

/** Registers the namespace (if absent) and Layer's search attributes, then waits until every host sees both. */
async function registerNamespace(
  address: string,
  frontends: string[],
  namespace: string,
  log: Logger,
): Promise<void> {
  await waitFor(
    `namespace ${namespace} registered`,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 5_000 });
      try {
        // ALREADY_EXISTS (6) is success: a re-run on the same database.
        const code = await grpcCode(() =>
          connection.workflowService.registerNamespace({
            namespace,
            workflowExecutionRetentionPeriod: msToTs('3 days'),
          }),
        );
        if (code !== undefined && code !== 6)
          throw new Error(`registerNamespace ${namespace}: gRPC code ${code}`);
        if (code === undefined) log(`temporal cluster: registered namespace ${namespace}`);
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 90_000, intervalMs: 1_000 },
  );
  const types = { Keyword: 2, KeywordList: 7 } as const;
  for (const frontend of frontends) {
    await waitFor(
      `namespace ${namespace} with Layer's search attributes on ${frontend}`,
      async () => {
        const c = await Connection.connect({ address: frontend, connectTimeout: 2_000 });
        try {
          await c.workflowService.describeNamespace({ namespace });
          const listed = await c.operatorService.listSearchAttributes({ namespace });
          const missing = Object.keys(SEARCH_ATTRIBUTES).filter(
            (n) => !(n in (listed.customAttributes ?? {})),
          );
          if (missing.length === 0) return true;
          await c.operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(
              missing.map((n) => [n, types[SEARCH_ATTRIBUTES[n as keyof typeof SEARCH_ATTRIBUTES]]]),
            ),
          });
          log(`temporal cluster: added search attributes ${missing.join(', ')} to ${namespace}`);
          return false;
        } finally {
          await c.close();
        }
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
  }
}

function uiConfig(address: string, port: number, namespace: string): string {
  return [
    `temporalGrpcAddress: ${address}`,
    'host: 127.0.0.1',
    `port: ${port}`,
    'enableUi: true',
    `defaultNamespace: ${namespace}`,
    'publicPath: ""',
    'refreshInterval: 0s',
    'cors:',
    '  cookieInsecure: true',
    '  unsafeAllowAllOrigins: true',
    '  allowOrigins: []',
    'auth:',
    '  enabled: false',
    '',
  ].join('\n');
}

export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalCluster> {
  const env = opts.env ?? process.env;
  const log = opts.log;
  const hostsCount = opts.hosts ?? 2;
  const numHistoryShards = opts.numHistoryShards ?? 16;
  validateClusterInput({ hosts: hostsCount, numHistoryShards });
  const { database, visibilityDatabase } = clusterDatabases(opts.database ?? 'layer_temporal');
  const namespace = opts.namespace ?? 'default';
  const postgres = parsePostgresUrl(env.LAYER_TEMPORAL_POSTGRES_URL);
  mkdirSync(opts.stateDir, { recursive: true });

  // Both builds may be cold: resolve them together.
  const [bins, uiBin] = await Promise.all([
    resolveTemporalServer(log, env),
    opts.ui ? resolveTemporalUiServer(log, env) : Promise.resolve(undefined),
  ]);
  await setUpSchema(bins.sqlTool.path, postgres, database, visibilityDatabase, log);

  const ports: number[] = [];
  for (let i = 0; i < hostsCount; i++)
    ports.push(...(await freeServerPorts(hostIp(i), PORTS_PER_HOST, ports)));
  // The client and UI ports are never stored by Temporal: any free port.
  const [clientFree, uiPort] = (await freePorts(2)) as [number, number];
  const clientPort = opts.port ?? clientFree;
  const address = `127.0.0.1:${clientPort}`;
  const plan: ClusterPlanInput = {
    hosts: hostsCount,
    numHistoryShards,
    ports,
    publicAddress: address,
    postgres,
    database,
    visibilityDatabase,
    dynamicConfigPath: clusterDynamicConfigPath(),
  };
  const template = readFileSync(clusterConfigTemplatePath(), 'utf8');
  const processes = new Map<string, ManagedProcess>();
  const spawnHost = (host: ClusterHost, configFile: string, logFile: string) => {
    const proc = startProcess({
      name: `temporal-server ${host.name} (${host.ip})`,
      command: bins.server.path,
      args: serverArgs(configFile),
      logFile,
      env,
      cwd: opts.stateDir,
      detached: opts.detached,
    });
    processes.set(host.name, proc);
    return proc;
  };
  const hosts: ClusterHostHandle[] = planClusterHosts(plan).map((host) => {
    const configFile = join(opts.stateDir, `${host.name}.yaml`);
    const logFile = join(opts.stateDir, `${host.name}.log`);
    writeFileSync(configFile, renderConfigTemplate(template, hostTemplateEnv(plan, host)));
    const frontendAddress = `${host.ip}:${host.ports.frontendGrpc}`;
    const handle: ClusterHostHandle = {
      ...host,
      frontendAddress,
      logFile,
      configFile,
      pid: () => processes.get(host.name)!.pid,
      alive: () => processes.get(host.name)?.exitReason() === undefined,
      kill: async (signal = 'SIGKILL') => {
        const proc = processes.get(host.name);
        if (!proc || proc.exitReason() !== undefined) return;
        process.kill(proc.pid, signal);
        await waitFor(`${host.name} to exit after ${signal}`, async () => proc.exitReason() !== undefined, {
          timeoutMs: 30_000,
          intervalMs: 50,
        });
      },
      restart: async () => {
        if (handle.alive())
          throw new Error(`${host.name} is still running (pid ${handle.pid()}); kill it first`);
        const proc = spawnHost(host, configFile, logFile);
        await waitFor(`${host.name} frontend on ${frontendAddress}`, () => frontendServes(frontendAddress), {
          timeoutMs: 120_000,
          intervalMs: 500,
          isAlive: proc.exitReason,
        });
      },
      cpuSeconds: () => processCpuSeconds(handle.pid()),
    };
    return handle;
  });

  let forwarder: TcpForwarder | undefined;
  let forwarderProc: ManagedProcess | undefined;
  let uiProc: ManagedProcess | undefined;
  const stop = async () => {
    await uiProc?.stop();
    await forwarder?.close();
    await forwarderProc?.stop();
    await Promise.all([...processes.values()].map((p) => p.stop(20_000)));
  };
  const hostServes = (h: (typeof hosts)[number]) =>
    waitFor(`${h.name} frontend on ${h.frontendAddress}`, () => frontendServes(h.frontendAddress), {
      timeoutMs: 180_000,
      intervalMs: 500,
      isAlive: processes.get(h.name)!.exitReason,
    });
  try {
    // The first host alone on a fresh database: each host writes the cluster's metadata record at
    // start-up, and two doing it at once lose the race with `duplicate key … cluster_metadata_info_pkey`
    // and exit. Once one serves, the record exists and the others only read it.
    const [first, ...others] = hosts;
    spawnHost(first!, first!.configFile, first!.logFile);
    await hostServes(first!);
    for (const h of others) spawnHost(h, h.configFile, h.logFile);
    const backends = hosts.map((h) => ({ host: h.ip, port: h.ports.frontendGrpc }));
    if (opts.detached) {
      forwarderProc = startProcess({
        name: 'temporal load balancer',
        command: process.execPath,
        args: [
          join(packageRoot(), 'bin', 'layer.js'),
          'dev',
          'forward',
          '--listen',
          address,
          '--to',
          backends.map((b) => `${b.host}:${b.port}`).join(','),
        ],
        logFile: join(opts.stateDir, 'forwarder.log'),
        detached: true,
      });
    } else {
      forwarder = await startTcpForwarder({ listenPort: clientPort, backends });
    }
    for (const h of others) await hostServes(h);
    await waitFor('the cluster through the load balancer', () => frontendServes(address), {
      timeoutMs: 60_000,
      isAlive: forwarderProc?.exitReason,
    });
    await registerNamespace(
      address,
      hosts.map((h) => h.frontendAddress),
      namespace,
      log,
    );
    let uiUrl: string | undefined;
    if (uiBin) {
      const uiDir = join(opts.stateDir, 'ui');
      mkdirSync(uiDir, { recursive: true });
      writeFileSync(join(uiDir, 'layer.yaml'), uiConfig(address, uiPort, namespace));
      uiUrl = `http://127.0.0.1:${uiPort}`;
      uiProc = startProcess({
        name: 'temporal-ui-server',
        command: uiBin.path,
        args: ['--root', opts.stateDir, '--config', 'ui', '--env', 'layer', 'start'],
        logFile: join(opts.stateDir, 'ui.log'),
        env,
        detached: opts.detached,
      });
      const url = uiUrl;
      await waitFor(`Temporal UI server on ${url}`, async () => (await fetch(url)).ok, {
        timeoutMs: 60_000,
        isAlive: uiProc.exitReason,
      });
    }
    log(
      `temporal cluster ${TEMPORAL_SERVER_VERSION} ready at ${address}: ${hosts
        .map((h) => `${h.name} ${h.frontendAddress} pid ${h.pid()}`)
        .join(
          ', ',
        )}; ${numHistoryShards} shards; databases ${database}, ${visibilityDatabase} on ${postgres.host}:${postgres.port}${uiUrl ? `; UI ${uiUrl}` : ''}`,
    );
    return {
      address,
      namespace,
      hosts,
      database,
      visibilityDatabase,
      postgres,
      helperPids: { forwarder: forwarderProc?.pid, ui: uiProc?.pid },
      ...(uiUrl ? { uiUrl } : {}),
      ...(forwarder ? { forwarder } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw new ProvisionError('temporal cluster', (err as Error).message);
  }
}

/** Whether `port` can be bound on `ip` right now. */
function canBind(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, ip, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` ports free on `ip` at or below MAX_MEMBERSHIP_PORT (Temporal stores them in a smallint),
 * from a random start in 15000–30000 so clusters of several checkouts rarely collide.
 */
async function freeServerPorts(ip: string, count: number, taken: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  let port = 15_000 + Math.floor(Math.random() * 15_000);
  for (let tries = 0; out.length < count && tries < 5_000; tries++, port++) {
    if (port > MAX_MEMBERSHIP_PORT) port = 15_000;
    if (taken.includes(port) || out.includes(port)) continue;
    if (await canBind(ip, port)) out.push(port);
  }
  if (out.length < count)
    throw new ProvisionError(
      'temporal cluster',
      `no ${count} free ports below ${MAX_MEMBERSHIP_PORT + 1} on ${ip}`,
    );
  return out;
}

/** Whether a frontend answers GetSystemInfo (it serves once membership and persistence are up). */
async function frontendServes(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}
