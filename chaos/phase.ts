// One phase of the chaos run: the whole work — a Function whose spec changes version mid-run, a
// Pipeline with a tenth of its documents revised — with or without the fault schedule, then the
// verdict.
import {
  getPipelineStatus,
  startOrUpdatePipeline,
  submitPipelineItems,
} from '../src/client/pipeline-client.js';
import { startOrUpdateFunction } from '../src/client/function-client.js';
import type { FunctionRuntimeSpec } from '../src/contracts/function.js';
import type { PipelineItem } from '../packages/worker/src/contracts/pipeline.js';
import type { PipelineRuntimeSpec } from '../src/contracts/pipeline.js';
import { waitUntilIndexed } from '../src/store/lag-profile.js';
import { seededRandom } from './fault-proxy.js';
import type { Cluster } from './processes.js';
import { startKilling } from './schedule.js';
import {
  DOCS,
  FAULT_RATE,
  FINAL_VERSION,
  FUNCTION_QUEUE,
  log,
  ORCHESTRATOR_QUEUE,
  PIPELINE_QUEUE,
  retrying,
  REVISED_DOCS,
  ROWS,
  SEED,
  sleep,
  STORE_LAG,
  TIMEOUT_MS,
} from './settings.js';
import { verdict, type PhaseResult } from './verdict.js';
import { DIM, itemText, OUTPUT, poisonIds, versionNumber } from './work.js';

function functionSpec(name: string, namespace: string, version: string): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'chaos',
    name,
    generation: versionNumber(version),
    targetNamespaces: [namespace],
    inputs: ['id'],
    output: { attribute: OUTPUT, kind: 'embedding', version, dim: DIM },
    worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 30, taskQueue: FUNCTION_QUEUE },
    schedule: { discoveryIntervalSeconds: 2, leaseSeconds: 30, maxInFlightBatches: 8, maxConcurrentScans: 1 },
    retry: { maxAttempts: 5, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
    paused: false,
  };
}

function pipelineSpec(name: string, namespace: string): PipelineRuntimeSpec {
  return {
    k8sNamespace: 'chaos',
    name,
    targetNamespace: namespace,
    worker: { dispatch: 'pull', batchSize: 32, timeoutSeconds: 30, taskQueue: PIPELINE_QUEUE },
    schedule: { leaseSeconds: 30, maxInFlightBatches: 8, maxPendingItems: 20_000 },
    retry: { maxAttempts: 8, initialBackoffSeconds: 1, maxBackoffSeconds: 5 },
  };
}

const docKey = (i: number) => `doc-${i}`;
const items = (from: number, to: number, revision: number): PipelineItem[] =>
  Array.from({ length: to - from }, (_, i) => ({
    key: docKey(from + i),
    payload: { text: itemText(docKey(from + i), revision) },
  }));

export async function runPhase(c: Cluster, label: string, faults: boolean): Promise<PhaseResult> {
  const random = seededRandom(SEED ^ (faults ? 0x5eed : 0x0f0f));
  const fnNamespace = `chaos-rows-${label}-${SEED}`;
  const docNamespace = `chaos-docs-${label}-${SEED}`;
  const fnName = `chaos-fn-${label}-${SEED}`;
  const pipeName = `chaos-pipe-${label}-${SEED}`;
  log(`${label}: seeding ${ROWS} rows`);
  for (let i = 1; i <= ROWS; i += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, ROWS - i + 1) }, (_, k) => ({
      id: i + k,
      title: `row ${i + k}`,
    }));
    await c.direct.upsertRows(fnNamespace, rows as never);
  }
  if (STORE_LAG) await waitUntilIndexed(c.direct, fnNamespace);
  const started = Date.now();
  const killer = faults ? startKilling(c, random) : undefined;
  if (faults) c.proxy.setRate(FAULT_RATE);
  const poison = new Set(poisonIds(ROWS));
  const revision = new Map<string, number>();
  try {
    await retrying('start the Function', () =>
      startOrUpdateFunction(c.client, functionSpec(fnName, fnNamespace, 'v1'), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    const pipeRef = { k8sNamespace: 'chaos', name: pipeName };
    await retrying('start the Pipeline', () =>
      startOrUpdatePipeline(c.client, pipelineSpec(pipeName, docNamespace), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    for (let i = 0; i < DOCS; i += 500) {
      const part = items(i, Math.min(DOCS, i + 500), 1);
      await retrying('submit items', () => submitPipelineItems(c.client, pipeRef, part));
      for (const it of part) revision.set(it.key, 1);
    }
    log(`${label}: Function and Pipeline started, ${DOCS} items submitted`);

    // Mid-run: the spec changes to the final version once 40% of the rows are done, and a tenth
    // of the documents are revised.
    await waitUntil(
      `${label}: 40% of rows at v1`,
      async () => (await c.direct.countRows(fnNamespace, [`${OUTPUT}_v`, 'Eq', 'v1'] as never)) >= ROWS * 0.4,
      started,
    );
    await retrying('change the Function spec', () =>
      startOrUpdateFunction(c.client, functionSpec(fnName, fnNamespace, FINAL_VERSION), {
        taskQueue: ORCHESTRATOR_QUEUE,
      }),
    );
    log(`${label}: Function spec changed to ${FINAL_VERSION}`);
    const revised = items(0, REVISED_DOCS, 2);
    await retrying('submit revised items', () => submitPipelineItems(c.client, pipeRef, revised));
    for (const it of revised) revision.set(it.key, 2);
    log(`${label}: ${REVISED_DOCS} documents revised`);

    const expectedDone = ROWS - poison.size;
    await waitUntil(
      `${label}: every row at ${FINAL_VERSION} and every poison row dead-lettered`,
      async () =>
        (await c.direct.countRows(fnNamespace, [`${OUTPUT}_v`, 'Eq', FINAL_VERSION] as never)) >=
          expectedDone &&
        (await c.direct.countRows(fnNamespace, [`${OUTPUT}_error`, 'NotEq', null] as never)) >= poison.size,
      started,
    );
    await waitUntil(
      `${label}: the Pipeline queue drained`,
      async () => {
        const s = await getPipelineStatus(c.client, pipeRef);
        return s.queue.pending === 0 && s.queue.inFlight === 0;
      },
      started,
    );
  } finally {
    c.proxy.setRate(0);
    await killer?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  // Queries show what is indexed (and the outstanding-write budget beyond): verify what is written.
  if (STORE_LAG) await retrying('wait until indexed', () => waitUntilIndexed(c.direct, fnNamespace));
  log(`${label}: work finished in ${seconds.toFixed(1)} s; verifying`);
  return { seconds, ...(await verdict(c, fnNamespace, docNamespace, poison, revision)) };
}

async function waitUntil(what: string, done: () => Promise<boolean>, startedMs: number): Promise<void> {
  let last = 0;
  while (!(await done().catch(() => false))) {
    if (Date.now() - startedMs > TIMEOUT_MS)
      throw new Error(`timed out after ${TIMEOUT_MS / 60_000} min waiting for ${what}`);
    if (Date.now() - last > 30_000) {
      log(`waiting for ${what}`);
      last = Date.now();
    }
    await sleep(1_000);
  }
}
