// Shared rate limit overhead (docs/adr/0051), against a real Temporal dev server with the
// orchestrator Worker in this process:
//   1. permit latency: one caller, sequential acquires on a budget too large to ever wait
//      → acquire_p50_ms / acquire_p99_ms (what each handler call pays for the limit)
//   2. limiter ceiling: --callers concurrent callers for --seconds on one key, budget never binding
//      → acquires_per_s (the most permits one key hands out, i.e. handler calls per second)
// plus Temporal history events per permit (over every continue-as-new run). A measuring script:
// it asserts nothing. Run it on a quiet machine. Human-readable first; the last line is JSON.
//
// Usage: npx tsx bench/rate-limit.ts [--sequential N] [--callers N] [--seconds S]
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { rateLimitWorkflowId } from '../packages/worker/src/contracts/rate-limit.js';
import { createRateLimitGate } from '../packages/worker/src/claim-execution/rate-limit-gate.js';
import { startTemporalDevServer } from '../src/dev/temporal-server.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { bundleOrchestratorWorkflows, createOrchestratorWorker } from '../src/workers/orchestrator-worker.js';
import { arg, load1 } from './harness.js';

const SEQUENTIAL = arg('sequential', 500);
const CALLERS = arg('callers', 16);
const SECONDS = arg('seconds', 20);
const TASK_QUEUE = 'layer-orchestrator-bench';
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = await startTemporalDevServer({ log: (s: string) => log(`  ${s}`) });
  const connection = await NativeConnection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const worker = await createOrchestratorWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue: TASK_QUEUE,
    // The limiter touches no store; the Function activities need one wired all the same.
    storeFor: () => createStoreClient({ baseUrl: 'http://127.0.0.1:1' }),
    workflowBundle: await bundleOrchestratorWorkflows(),
  });
  const running = worker.run();
  const gate = (key: string, holder: string) =>
    createRateLimitGate({
      client,
      k8sNamespace: 'bench',
      holder,
      rateLimit: { key, requestsPerSecond: 100_000 },
      defaultTaskQueue: TASK_QUEUE,
    });
  try {
    // 1. latency
    const one = gate('latency', 'Function bench/one');
    await one.acquire(1); // starts the limiter
    const ms: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i += 1) {
      const t = performance.now();
      await one.acquire(32);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    log(
      `permit latency over ${SEQUENTIAL} sequential acquires: p50 ${round(pct(ms, 0.5))} ms, p99 ${round(pct(ms, 0.99))} ms (load ${load1()})`,
    );

    // 2. ceiling
    let acquired = 0;
    const until = Date.now() + SECONDS * 1000;
    await gate('ceiling', 'Function bench/warm').acquire(1);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, c) => {
        const g = gate('ceiling', `Function bench/caller-${c % 4}`);
        while (Date.now() < until) {
          await g.acquire(32);
          acquired += 1;
        }
      }),
    );
    const perS = acquired / ((performance.now() - started) / 1000);
    log(
      `limiter ceiling: ${CALLERS} callers for ${SECONDS} s → ${round(perS)} permits/s on one key (load ${load1()})`,
    );

    // history events per permit, over every run of the ceiling key's limiter
    let events = 0;
    let runId: string | undefined;
    for (;;) {
      const history = await client.workflow
        .getHandle(rateLimitWorkflowId('bench', 'ceiling'), runId)
        .fetchHistory();
      events += history.events?.length ?? 0;
      const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (!previous) break;
      runId = previous;
    }
    const perPermit = events / (acquired + 1);
    log(`history: ${events} events for ${acquired + 1} permits (${round(perPermit, 2)} per permit)`);
    log(
      JSON.stringify({
        acquire_p50_ms: round(pct(ms, 0.5), 2),
        acquire_p99_ms: round(pct(ms, 0.99), 2),
        acquires_per_s: round(perS),
        callers: CALLERS,
        history_events_per_permit: round(perPermit, 2),
        load_avg_1m: load1(),
      }),
    );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await temporal.stop();
  }
}

await main();
