// Pure planning for the local production-shaped Temporal cluster (`layer dev up --temporal
// cluster`): which server release, how deploy/temporal/config-template.yaml renders for each
// server process, where PostgreSQL is, and the temporal-sql-tool steps that set the schema up.
// No I/O here: src/dev/temporal-cluster.ts runs what these functions decide, and
// test/unit/dev/temporal-cluster-config.test.ts checks them as tables.
import { join } from 'node:path';
import { packageRoot } from './paths.js';

/**
 * The Temporal server release built by the tool module in test/temporal-server-bin: the newest the
 * Go module proxy serves whose `go` line the project's Go (1.26.8) meets — v1.32.2 asks 1.26.10.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
/** The Temporal UI server (v2) built by test/temporal-ui-bin (v2.55.1+ ask Go 1.26.9 or later). */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.55.0';

/** The config template, the single source (see its header). */
export function clusterConfigTemplatePath(): string {
  return join(packageRoot(), 'deploy', 'temporal', 'config-template.yaml');
}
export function clusterDynamicConfigPath(): string {
  return join(packageRoot(), 'deploy', 'temporal', 'dynamicconfig.yaml');
}

export class ClusterConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ClusterConfigError';
  }
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const DEFAULT = /^default\s+\.Env\.([A-Za-z_][A-Za-z0-9_]*)\s+"((?:[^"\\]|\\.)*)"$/;
const PLAIN = /^\.Env\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Renders the subset of the server's Go template syntax the template uses —
 * `{{ default .Env.NAME "value" }}` (sprig: the value when NAME is unset or empty) and
 * `{{ .Env.NAME }}` (empty when unset) — exactly as the server renders it from its environment.
 * Any other action throws naming it, so the template cannot drift into syntax only one of the two
 * renderers understands. The `# enable-template` marker is dropped: the output is plain YAML.
 */
export function renderConfigTemplate(
  template: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const body = template.replace(/^# enable-template\n/, '');
  return body.replace(ACTION, (whole, action: string) => {
    const d = DEFAULT.exec(action);
    if (d) {
      const value = env[d[1]!];
      return value === undefined || value === '' ? d[2]!.replace(/\\(.)/g, '$1') : value;
    }
    const p = PLAIN.exec(action);
    if (p) return env[p[1]!] ?? '';
    throw new ClusterConfigError(
      'config-template.yaml',
      `unsupported template action ${whole}: use {{ default .Env.NAME "value" }} or {{ .Env.NAME }}`,
    );
  });
}

/** Where PostgreSQL is, from LAYER_TEMPORAL_POSTGRES_URL (postgres://user[:password]@host[:port]). */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

const DEFAULT_TEMPORAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432';

export function parsePostgresUrl(raw: string | undefined): PostgresTarget {
  const value = raw === undefined || raw === '' ? DEFAULT_TEMPORAL_POSTGRES_URL : raw;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClusterConfigError(
      'LAYER_TEMPORAL_POSTGRES_URL',
      `"${value}" is not a URL; use postgres://user[:password]@host[:port], e.g. ${DEFAULT_TEMPORAL_POSTGRES_URL}`,
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new ClusterConfigError(
      'LAYER_TEMPORAL_POSTGRES_URL',
      `scheme "${url.protocol}" is not postgres:; use postgres://user[:password]@host[:port]`,
    );
  if (url.pathname !== '' && url.pathname !== '/')
    throw new ClusterConfigError(
      'LAYER_TEMPORAL_POSTGRES_URL',
      `names a database (${url.pathname}); leave it out — the databases are --temporal-db and its _visibility twin`,
    );
  const port = url.port ? Number(url.port) : 5432;
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
  };
}

/** One server process of the cluster: its own loopback address and ports. */
export interface ClusterHost {
  /** host-1, host-2, … (log files, and what a test kills). */
  name: string;
  ip: string;
  ports: {
    frontendGrpc: number;
    frontendHttp: number;
    frontendMembership: number;
    historyGrpc: number;
    historyMembership: number;
    matchingGrpc: number;
    matchingMembership: number;
    workerGrpc: number;
    workerMembership: number;
  };
}
export const PORTS_PER_HOST = 9;
/**
 * The highest port a server process may use: Temporal's SQL schema stores a member's port as a
 * smallint (cluster_membership.rpc_port), so 32768 and up — Linux's whole ephemeral range, where
 * "any free port" lands — make every host fail at start with `value "38115" is out of range for
 * type smallint`.
 */
export const MAX_MEMBERSHIP_PORT = 32_767;

export interface ClusterPlanInput {
  hosts: number;
  numHistoryShards: number;
  /** One free port per PORTS_PER_HOST × hosts, in order. */
  ports: readonly number[];
  /** The client address (the load balancer in front of the frontends). */
  publicAddress: string;
  postgres: PostgresTarget;
  database: string;
  visibilityDatabase: string;
  dynamicConfigPath: string;
  logLevel?: string;
  /** PostgreSQL connections per service pool (default 5; visibility gets a quarter, at least 2). */
  maxConns?: number;
}

/** Loopback addresses the server processes bind: 127.0.0.2, 127.0.0.3, … (127.0.0.1 is the forwarder). */
export function hostIp(index: number): string {
  return `127.0.0.${index + 2}`;
}

export function validateClusterInput(input: Pick<ClusterPlanInput, 'hosts' | 'numHistoryShards'>): void {
  if (!Number.isInteger(input.hosts) || input.hosts < 1 || input.hosts > 200)
    throw new ClusterConfigError('hosts', `${input.hosts} is not a whole number from 1 to 200 (default 2)`);
  if (
    !Number.isInteger(input.numHistoryShards) ||
    input.numHistoryShards < 1 ||
    input.numHistoryShards > 16_384
  )
    throw new ClusterConfigError(
      'numHistoryShards',
      `${input.numHistoryShards} is not a whole number from 1 to 16384 (default 16); it is fixed when the database is first set up`,
    );
}

export function planClusterHosts(input: ClusterPlanInput): ClusterHost[] {
  validateClusterInput(input);
  if (input.ports.length < input.hosts * PORTS_PER_HOST)
    throw new ClusterConfigError(
      'ports',
      `${input.ports.length} ports for ${input.hosts} hosts; need ${input.hosts * PORTS_PER_HOST}`,
    );
  const high = input.ports.find((port) => port > MAX_MEMBERSHIP_PORT);
  if (high !== undefined)
    throw new ClusterConfigError(
      'ports',
      `${high} is above ${MAX_MEMBERSHIP_PORT}: Temporal's PostgreSQL schema keeps a host's ports in cluster_membership.rpc_port, a smallint, and membership fails with "out of range for type smallint"; pick server ports below ${MAX_MEMBERSHIP_PORT + 1}`,
    );
  return Array.from({ length: input.hosts }, (_, i) => {
    const p = input.ports.slice(i * PORTS_PER_HOST, (i + 1) * PORTS_PER_HOST) as number[];
    return {
      name: `host-${i + 1}`,
      ip: hostIp(i),
      ports: {
        frontendGrpc: p[0]!,
        frontendHttp: p[1]!,
        frontendMembership: p[2]!,
        historyGrpc: p[3]!,
        historyMembership: p[4]!,
        matchingGrpc: p[5]!,
        matchingMembership: p[6]!,
        workerGrpc: p[7]!,
        workerMembership: p[8]!,
      },
    };
  });
}

/** The environment the template renders from for one host (the same names docker-compose sets). */
export function hostTemplateEnv(input: ClusterPlanInput, host: ClusterHost): Record<string, string> {
  // Each of the four services of a process opens its own pools: 2 hosts × 4 × (5 + 2) stays well
  // under PostgreSQL's default max_connections of 100.
  const maxConns = input.maxConns ?? 5;
  return {
    LOG_LEVEL: input.logLevel ?? 'warn',
    NUM_HISTORY_SHARDS: String(input.numHistoryShards),
    DBNAME: input.database,
    VISIBILITY_DBNAME: input.visibilityDatabase,
    POSTGRES_SEEDS: input.postgres.host,
    DB_PORT: String(input.postgres.port),
    POSTGRES_USER: input.postgres.user,
    POSTGRES_PWD: input.postgres.password,
    SQL_MAX_CONNS: String(maxConns),
    SQL_VIS_MAX_CONNS: String(Math.max(2, Math.floor(maxConns / 4))),
    BIND_ON_IP: host.ip,
    TEMPORAL_BROADCAST_ADDRESS: host.ip,
    FRONTEND_GRPC_PORT: String(host.ports.frontendGrpc),
    FRONTEND_HTTP_PORT: String(host.ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(host.ports.frontendMembership),
    HISTORY_GRPC_PORT: String(host.ports.historyGrpc),
    HISTORY_MEMBERSHIP_PORT: String(host.ports.historyMembership),
    MATCHING_GRPC_PORT: String(host.ports.matchingGrpc),
    MATCHING_MEMBERSHIP_PORT: String(host.ports.matchingMembership),
    WORKER_GRPC_PORT: String(host.ports.workerGrpc),
    WORKER_MEMBERSHIP_PORT: String(host.ports.workerMembership),
    PUBLIC_FRONTEND_ADDRESS: input.publicAddress,
    DYNAMIC_CONFIG_FILE_PATH: input.dynamicConfigPath,
  };
}

/** The `temporal-server` arguments of one host: every service in one process. */
export function serverArgs(configFile: string): string[] {
  return [
    '--config-file',
    configFile,
    '--allow-no-auth',
    'start',
    '--service',
    'frontend',
    '--service',
    'history',
    '--service',
    'matching',
    '--service',
    'worker',
  ];
}

export interface SchemaStep {
  /** What the log line says. */
  what: string;
  args: string[];
  /** The step may find its work done (a re-run on an existing database): this output is success. */
  alreadyDone?: RegExp;
}

/**
 * temporal-sql-tool steps that create both databases and bring their schemas to this release's
 * version, idempotently: create tolerates an existing database, setup-schema -v 0.0 only adds the
 * versioning tables, update-schema applies only versions newer than the database's. The schemas
 * are the ones embedded in the tool (`--schema-name postgresql/v12/…`), so no schema files ship.
 */
export function schemaSteps(pg: PostgresTarget, database: string, visibilityDatabase: string): SchemaStep[] {
  const conn = (db: string) => [
    '--plugin',
    'postgres12',
    '--ep',
    pg.host,
    '--port',
    String(pg.port),
    '--user',
    pg.user,
    ...(pg.password ? ['--password', pg.password] : []),
    '--db',
    db,
  ];
  return [
    [database, 'temporal'],
    [visibilityDatabase, 'visibility'],
  ].flatMap(([db, schema]) => [
    {
      what: `create database ${db}`,
      args: [...conn(db!), 'create-database'],
      alreadyDone: /already exists/,
    },
    { what: `versioning tables in ${db}`, args: [...conn(db!), 'setup-schema', '-v', '0.0'] },
    {
      what: `${schema} schema of ${db} to the release's version`,
      args: [...conn(db!), 'update-schema', '--schema-name', `postgresql/v12/${schema}`],
    },
  ]);
}

/** Database names of one cluster: `name` and `name_visibility`, valid PostgreSQL identifiers. */
export function clusterDatabases(name: string): { database: string; visibilityDatabase: string } {
  if (!/^[a-z_][a-z0-9_]{0,51}$/.test(name))
    throw new ClusterConfigError(
      'database',
      `"${name}" is not a lower-case PostgreSQL identifier of at most 52 characters (letters, digits, _), e.g. layer_temporal`,
    );
  return { database: name, visibilityDatabase: `${name}_visibility` };
}
