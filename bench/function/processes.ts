// bench:function's processes: the dev server, store and orchestrator it starts (each its own
// child, tracked by bench/harness.ts so nothing outlives the run), and the seeding of namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import type { TemporalDevServer } from '../../src/dev/temporal-server.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { seedProducts, type SeedOptions } from '../../src/store/seed.js';
import { storeLagArgs, waitUntilIndexed } from '../../src/store/lag-profile.js';
import { childProcesses } from '../harness.js';
import { startStoreChild, waitForPollers } from '../servers.js';
import { log, STORE_LAG, TEMPORAL_NAMESPACE } from './settings.js';

let temporal: TemporalDevServer | undefined;
export const { track, stopChild, killAll: killChildren } = childProcesses(log, async () => temporal?.stop());

/** The dev server to stop on SIGINT/SIGTERM (it is not one of the tracked children). */
export function stopOnSignal(server: TemporalDevServer): void {
  temporal = server;
}

/** Seeds a namespace; under --store-lag also waits until the store has indexed the seed. */
export async function seed(store: StoreClient, opts: SeedOptions): Promise<void> {
  await seedProducts(store, opts);
  if (STORE_LAG) await waitUntilIndexed(store, opts.namespace);
}

export async function startStore(): Promise<{ url: string; child: ChildProcess }> {
  const store = await startStoreChild(['--memory', ...(STORE_LAG ? storeLagArgs() : [])], {
    output: 'capture',
  });
  track(store.child, 'store');
  return store;
}

export async function startOrchestrator(
  address: string,
  storeUrl: string,
  bundleFile: string,
): Promise<{ child: ChildProcess; finalLine: Promise<string> }> {
  const entry = fileURLToPath(new URL('../orchestrator-process.ts', import.meta.url));
  const child = track(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        entry,
        '--temporal',
        address,
        '--namespace',
        TEMPORAL_NAMESPACE,
        '--store',
        storeUrl,
        '--bundle',
        bundleFile,
      ],
      // stdin stays open: the child stops itself when it closes (the bench died). The glibc
      // arena cap is the image's (Dockerfile, docs/adr/0118): the memory figure is the image's.
      { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, MALLOC_ARENA_MAX: '2' } },
    ),
    'orchestrator',
  );
  let out = '';
  let saidReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (saidReady = resolve));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('orchestrator ready')) saidReady();
  });
  const finalLine = new Promise<string>((resolve) =>
    child.once('exit', () => resolve(out.trim().split('\n').pop() ?? '')),
  );
  // Ready when Temporal sees it poll (not when it says so on stdout) — and when it says so: a
  // second orchestrator's queue still lists the first one's pollers for a while.
  await waitForPollers(address, TEMPORAL_NAMESPACE, ORCHESTRATOR_TASK_QUEUE, child, 'orchestrator');
  await Promise.race([ready, finalLine]);
  return { child, finalLine };
}
