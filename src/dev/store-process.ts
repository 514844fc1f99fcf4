// The embedded store as a background process for `layer dev up` / `npm start`, durable under
// the state directory so a re-run finds the same data.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { createStoreClient } from '../../packages/worker/src/store/client.js';
import { freePort, waitFor } from './net.js';
import { packageRoot } from './paths.js';
import { startProcess } from './process.js';
import type { DevState } from './environment.js';

export async function startStoreProcess(stateDir: string): Promise<NonNullable<DevState['store']>> {
  const dataDir = join(stateDir, 'store');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const logFile = join(stateDir, 'store.log');
  const proc = startProcess({
    name: 'store',
    command: process.execPath,
    args: [
      join(packageRoot(), 'bin', 'layer.js'),
      'store',
      'serve',
      '--data',
      dataDir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    logFile,
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const client = createStoreClient({ baseUrl: url, maxRetries: 0 });
  await waitFor(`embedded store on ${url}`, async () => (await client.listNamespaces(), true), {
    timeoutMs: 60_000,
    isAlive: proc.exitReason,
  });
  return { url, pid: proc.pid, dataDir, logFile };
}
