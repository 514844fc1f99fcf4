// A real Temporal server on this machine: the Temporal CLI's dev server (`temporal server
// start-dev`), with the UI, the project's search attributes registered, free ports, and an
// optional SQLite file so state survives restarts. Used by the test global setup, benchmarks,
// `npm start` and `layer dev up`.
import { Connection } from '@temporalio/client';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import { resolveTemporalCli, type Logger } from './binaries.js';
import { freePorts } from './net.js';
import { startProcess, waitServing } from './process.js';

export interface TemporalDevServerOptions {
  log: Logger;
  /** SQLite file for persistence; in-memory when omitted. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  /** Keep running after this process exits (`layer dev up`). */
  detached?: boolean;
  logFile?: string;
  namespace?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * `KEY=value` dynamic config settings. The pass-priority test serves tasks by priority, one
   * partition per queue (ADR 0135); the project's dev server keeps the CLI's defaults: one
   * partition changed how a Function's claims spread over four worker pods.
   */
  dynamicConfig?: readonly string[];
}

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string;
  /** The Temporal CLI binary the server runs from. */
  cliPath: string;
  pid?: number;
  logFile?: string;
  stop(): Promise<void>;
}

function searchAttributeArgs(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
}

async function isServing(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const env = opts.env ?? process.env;
  const namespace = opts.namespace ?? 'default';
  const [port = 0, uiPort = 0] = opts.port && opts.uiPort ? [opts.port, opts.uiPort] : await freePorts(2);
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  // $TEMPORAL_CLI → PATH → cache → release download → go build; throws ProvisionError when none
  // works, so a test run (CI=true or not) fails instead of skipping.
  const cli = await resolveTemporalCli(opts.log, env);
  const logFile = opts.logFile ?? join(tmpdir(), `layer-temporal-${port}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...(opts.dynamicConfig ?? []).flatMap((v) => ['--dynamic-config-value', v]),
    ...searchAttributeArgs(),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
  ];
  const proc = startProcess({
    name: 'temporal',
    command: cli.path,
    args,
    logFile,
    env,
    detached: opts.detached,
  });
  await waitServing(
    proc,
    'temporal',
    `Temporal dev server on ${address}`,
    () => isServing(address, namespace),
    60_000,
  );
  opts.log(`temporal dev server ready at ${address} (UI ${uiUrl}, log ${logFile})`);
  return { address, namespace, uiUrl, cliPath: cli.path, pid: proc.pid, logFile, stop: () => proc.stop() };
}
