// A real Temporal server on this machine: the Temporal CLI's dev server (`temporal server
// start-dev`), with the UI, the project's search attributes registered, free ports, and an
// optional SQLite file so state survives restarts. Used by the test global setup, benchmarks,
// `npm start` and `layer dev up`.
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import { resolveTemporalCli, ProvisionError, type Logger } from './binaries.js';
import { freePorts, waitFor } from './net.js';
import { startProcess } from './process.js';

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
}

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string;
  /** The CLI binary, or 'sdk-download' when @temporalio/testing fetched its own. */
  cliPath: string;
  pid?: number;
  logFile?: string;
  stop(): Promise<void>;
}

export function searchAttributeArgs(): string[] {
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
  const cli = await resolveTemporalCli(opts.log, env);
  if (!cli) {
    // No binary and no Go: let the SDK download the CLI (needs internet; CI of this project
    // always has Go, so there this path is never taken).
    if (opts.detached) {
      throw new ProvisionError(
        'temporal',
        'no Temporal CLI and no Go to build it: install Go >= 1.25 or put `temporal` on PATH',
      );
    }
    opts.log('temporal CLI: not found and no Go toolchain; falling back to @temporalio/testing download');
    const testEnv = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        ui: true,
        uiPort,
        namespace,
        dbFilename: opts.dbFile,
        extraArgs: searchAttributeArgs(),
      },
    });
    return { address, namespace, uiUrl, cliPath: 'sdk-download', stop: () => testEnv.teardown() };
  }
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
  try {
    await waitFor(`Temporal dev server on ${address}`, () => isServing(address, namespace), {
      timeoutMs: 60_000,
      isAlive: proc.exitReason,
    });
  } catch (err) {
    await proc.stop();
    throw new ProvisionError('temporal', (err as Error).message);
  }
  opts.log(`temporal dev server ready at ${address} (UI ${uiUrl}, log ${logFile})`);
  return { address, namespace, uiUrl, cliPath: cli.path, pid: proc.pid, logFile, stop: () => proc.stop() };
}
