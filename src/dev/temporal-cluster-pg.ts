// PostgreSQL side of the local Temporal cluster, through the `psql` client (no driver dependency):
// the write counters the benchmarks report per 1,000 rows and the connection reset the chaos run
// injects. Database names come from clusterDatabases(), which admits only [a-z0-9_] identifiers,
// so they are safe to put in SQL text.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PostgresTarget } from './temporal-cluster-config.js';

const exec = promisify(execFile);

/** Cumulative write counters of a set of databases (sum over them). */
export interface PostgresWriteCounters {
  /** pg_stat_database.xact_commit: committed transactions (our own stats queries add one each). */
  commits: number;
  /** pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del: rows inserted, updated or deleted. */
  rowsWritten: number;
}

function assertIdentifier(db: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(db))
    throw new Error(`database "${db}" is not a plain lower-case PostgreSQL identifier`);
  return db;
}

/** Runs one query with psql and returns its rows as arrays of fields (unaligned, tab-separated). */
async function psqlRows(pg: PostgresTarget, database: string, sql: string): Promise<string[][]> {
  const { stdout } = await exec(
    'psql',
    [
      '-X',
      '-A',
      '-t',
      '-F',
      '\t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      pg.host,
      '-p',
      String(pg.port),
      '-U',
      pg.user,
      '-d',
      database,
      '-c',
      sql,
    ],
    { timeout: 30_000, env: { ...process.env, PGPASSWORD: pg.password, PGCONNECT_TIMEOUT: '10' } },
  ).catch((err: Error & { stderr?: string; code?: string }) => {
    const hint =
      err.code === 'ENOENT'
        ? ' (no psql on PATH: install the PostgreSQL client, e.g. apt-get install postgresql-client)'
        : '';
    throw new Error(
      `psql on ${pg.host}:${pg.port}/${database}${hint}: ${(err.stderr ?? err.message).trim()}`,
      {
        cause: err,
      },
    );
  });
  return parsePsqlRows(stdout);
}

/** psql -A -t -F '\t' output → rows of fields. */
export function parsePsqlRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

/** Sum of the write counters over `databases`. Statistics reach the views within ~1 s of a commit. */
export async function postgresWriteCounters(
  pg: PostgresTarget,
  databases: readonly string[],
): Promise<PostgresWriteCounters> {
  const names = databases.map((d) => `'${assertIdentifier(d)}'`).join(',');
  const [commitRow] = await psqlRows(
    pg,
    'postgres',
    `SELECT COALESCE(SUM(xact_commit), 0) FROM pg_stat_database WHERE datname IN (${names})`,
  );
  let rowsWritten = 0;
  for (const db of databases) {
    const [row] = await psqlRows(
      pg,
      assertIdentifier(db),
      'SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables',
    );
    rowsWritten += Number(row?.[0] ?? 0);
  }
  return { commits: Number(commitRow?.[0] ?? 0), rowsWritten };
}

/** The delta between two counter readings. */
export function writeCountersDelta(
  before: PostgresWriteCounters,
  after: PostgresWriteCounters,
): PostgresWriteCounters {
  return { commits: after.commits - before.commits, rowsWritten: after.rowsWritten - before.rowsWritten };
}

/**
 * Resets every connection to `databases` (pg_terminate_backend), as a PostgreSQL failover or a
 * network blip would: Temporal's pools see their connections die mid-use. Returns how many ended.
 */
export async function terminateConnections(
  pg: PostgresTarget,
  databases: readonly string[],
): Promise<number> {
  const names = databases.map((d) => `'${assertIdentifier(d)}'`).join(',');
  const rows = await psqlRows(
    pg,
    'postgres',
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (${names}) AND pid <> pg_backend_pid()`,
  );
  return rows.filter((r) => r[0] === 't').length;
}
