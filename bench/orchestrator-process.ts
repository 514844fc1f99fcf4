// The orchestrator Worker on its own, for bench/function.ts: a child process whose peak RSS and
// CPU time the bench reads from /proc, so they are the orchestrator's alone (not the bench's
// pull workers or the Temporal server). Takes a pre-built workflow bundle from a file so the
// webpack bundling step (a large, one-off allocation) does not count towards its peak RSS.
//
// Usage: tsx bench/orchestrator-process.ts --temporal HOST:PORT --namespace NS --store URL --bundle FILE
// Prints `orchestrator ready` once polling; on SIGTERM/SIGINT (or when its stdin closes, i.e. the
// bench died) it shuts the Worker down and prints one JSON line `{"max_rss_mb": …}`.
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { createOrchestratorWorker } from '../src/workers/orchestrator-worker.js';

function flag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (!value) throw new Error(`orchestrator-process: --${name} is required`);
  return value;
}

const address = flag('temporal');
const namespace = flag('namespace');
const storeUrl = flag('store');
const code = readFileSync(flag('bundle'), 'utf8');

Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address });
const store = createStoreClient({ baseUrl: storeUrl, apiKey: 'bench', timeoutMs: 120_000 });
const worker = await createOrchestratorWorker({
  connection,
  namespace,
  storeFor: () => store,
  workflowBundle: { code },
});

const stop = (): void => {
  if (worker.getState() === 'RUNNING') worker.shutdown();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The bench holds our stdin open; EOF means it is gone, so do not outlive it.
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

// Where the peak sits: V8's heap, memory outside it (the native bridge's buffers, ArrayBuffers),
// or neither (code, the Rust runtime): sampled each second, kept at the highest RSS seen.
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
let atPeak = { rss_mb: 0, heap_used_mb: 0, heap_total_mb: 0, external_mb: 0, array_buffers_mb: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (mb(m.rss) > atPeak.rss_mb)
    atPeak = {
      rss_mb: mb(m.rss),
      heap_used_mb: mb(m.heapUsed),
      heap_total_mb: mb(m.heapTotal),
      external_mb: mb(m.external),
      array_buffers_mb: mb(m.arrayBuffers),
    };
}, 1_000);
sampler.unref();

const run = worker.run();
process.stdout.write('orchestrator ready\n');
try {
  await run;
} finally {
  await connection.close();
  process.stdout.write(
    `${JSON.stringify({ max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), at_peak: atPeak })}\n`,
  );
  process.stdin.destroy();
}
