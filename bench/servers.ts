// Servers the benchmarks run as child processes, each waited on through what it serves — the
// store's namespace list (the probe `layer dev up` and the chaos run use), the operator's
// /readyz — never through a line it logs: log wording and format are not an interface (the
// operator's `listening on` line became JSON and bench:operator waited for it until its timeout).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { freePort, waitFor } from '../src/dev/net.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';

export const LAYER_BIN = fileURLToPath(new URL('../bin/layer.js', import.meta.url));

export interface ChildServer {
  url: string;
  child: ChildProcess;
}

/** undefined while the child runs; how it ended once it has (for waitFor's isAlive). */
function exitReason(child: ChildProcess, name: string, output: () => string): () => string | undefined {
  return () =>
    child.exitCode !== null || child.signalCode !== null
      ? `${name} exited (${child.signalCode ?? `code ${child.exitCode}`}); output:\n${output().slice(-4000)}`
      : undefined;
}

/**
 * `layer store serve <args>` on a free loopback port, ready once it answers a namespace list.
 * Its stdout and stderr go to ours (`inherit`) or are kept for the error should it exit early.
 */
export async function startStoreChild(
  args: string[],
  options: { output?: 'inherit' | 'capture'; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ChildServer> {
  const port = await freePort();
  const capture = options.output !== 'inherit';
  const child = spawn(
    process.execPath,
    [LAYER_BIN, 'store', 'serve', ...args, '--host', '127.0.0.1', '--port', String(port)],
    { stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'], env: options.env },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  // Any key: an open store ignores it, a keyed one (a bench passing --key) gets its own.
  const probe = createStoreClient({ baseUrl: url, apiKey: 'bench', maxRetries: 0, timeoutMs: 5_000 });
  try {
    await waitFor(`the store on ${url}`, async () => (await probe.listNamespaces(), true), {
      timeoutMs: options.timeoutMs ?? 120_000,
      isAlive: exitReason(child, 'store', () => out),
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Once ready, a captured stream is drained (a full pipe would block the store) and dropped.
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.removeAllListeners('data').resume();
  return { url, child };
}

/** Polls `url` until it answers 200 (a readiness probe), or fails naming it. */
export async function waitForHttpOk(
  url: string,
  child: ChildProcess,
  name: string,
  output: () => string,
  timeoutMs = 180_000,
): Promise<void> {
  await waitFor(
    `${name} ${url}`,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      return res.ok;
    },
    { timeoutMs, intervalMs: 250, isAlive: exitReason(child, name, output) },
  );
}

/**
 * Until a Worker polls `taskQueue` for workflow and for activity tasks — Temporal's own view
 * that a worker process is up (tsx compiled, bundle loaded), as the chaos run waits for its.
 */
export async function waitForPollers(
  address: string,
  namespace: string,
  taskQueue: string,
  child: ChildProcess,
  name: string,
  timeoutMs = 180_000,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    for (const taskQueueType of [1, 2]) {
      await waitFor(
        `${name} polling ${taskQueue}`,
        async () => {
          const res = await connection.workflowService.describeTaskQueue({
            namespace,
            taskQueue: { name: taskQueue },
            taskQueueType,
          });
          return (res.pollers ?? []).length > 0;
        },
        { timeoutMs, intervalMs: 250, isAlive: exitReason(child, name, () => '(see its output above)') },
      );
    }
  } finally {
    await connection.close();
  }
}
