// Shared set-up for Function engine tests: the real Temporal dev server (global setup), an
// embedded store over HTTP, the orchestrator Worker and pull workers built from the SDK.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import {
  unpackClaimReport,
  type ClaimReport,
  type PackedClaimReport,
} from '../../../packages/worker/src/contracts/claims.js';
import { claimBatches, type FunctionClaimInput } from '../../../packages/worker/src/contracts/function.js';
import { type FunctionRuntimeSpec, type FunctionStatus } from '../../../src/contracts/function.js';
import { functionTaskQueue, functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import {
  getFunctionStatus,
  startOrUpdateFunction,
  type FunctionRef,
} from '../../../src/client/function-client.js';
import { runFunctionWorker, type FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import { startStoreServer, type StoreServer, type StoreServerOptions } from '../../../src/store/server.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import {
  bundleOrchestratorWorkflows,
  createOrchestratorWorker,
} from '../../../src/workers/orchestrator-worker.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import { recordHistories as recordClientHistories } from '../../helpers/history-json.js';
import { eventually } from '../../helpers/eventually.js';
import { perFile } from '../../helpers/per-file.js';

export interface EngineHarness {
  /** This file's own orchestrator task queue (workers of other test files never poll it). */
  taskQueue: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  storeServer: StoreServer;
  store: StoreClient;
  bundle: { code: string };
  orchestrator: Worker;
  orchestratorRun: Promise<void>;
  /** A fresh orchestrator (after stopping the first one). */
  startOrchestrator(): Promise<void>;
  stopOrchestrator(): Promise<void>;
  close(): Promise<void>;
}

export interface EngineHarnessOptions {
  dataConverter?: DataConverter;
  /** The store accepts only these bearers (the harness's own clients use 'test'). */
  storeApiKeys?: string[];
  /** The store models the service's indexing lag and write limits (ADR 0098). */
  storeLag?: Pick<StoreServerOptions, 'indexLag' | 'writeRateLimit'>;
  /** The store records the largest request of each kind (storeServer.store.audit, ADR 0112). */
  storeAudit?: boolean;
}

/** One engine harness for the test file: started before its first test, closed after its last. */
export function engineHarnessPerFile(opts: EngineHarnessOptions = {}): EngineHarness {
  return perFile(() => startEngineHarness(opts));
}

export async function startEngineHarness(opts: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const storeServer = await startStoreServer({
    memory: true,
    ...(opts.storeApiKeys ? { apiKeys: opts.storeApiKeys } : {}),
    ...opts.storeLag,
    ...(opts.storeAudit ? { auditRequests: true } : {}),
  });
  const store = createStoreClient({ baseUrl: storeServer.url, apiKey: 'test' });
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({
    connection,
    namespace: temporalNamespace(),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const bundle = await bundleOrchestratorWorkflows();
  const h = {
    taskQueue: `layer-orchestrator-test-${randomUUID().slice(0, 8)}`,
    client,
    connection,
    nativeConnection,
    storeServer,
    store,
    bundle,
  } as EngineHarness;
  h.startOrchestrator = async () => {
    h.orchestrator = await createOrchestratorWorker({
      connection: nativeConnection,
      namespace: temporalNamespace(),
      storeFor: () => store,
      workflowBundle: bundle,
      taskQueue: h.taskQueue,
      ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    });
    h.orchestratorRun = h.orchestrator.run();
  };
  h.stopOrchestrator = async () => {
    if (h.orchestrator.getState() === 'RUNNING') h.orchestrator.shutdown();
    await h.orchestratorRun;
  };
  h.close = async () => {
    await h.stopOrchestrator();
    await nativeConnection.close();
    await connection.close();
    await storeServer.close();
  };
  await h.startOrchestrator();
  return h;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function seedRows(
  store: StoreClient,
  namespace: string,
  ids: number[],
  extra: (id: number) => Record<string, unknown> = () => ({}),
) {
  const rows = ids.map((id) => ({
    id,
    title: `Product number ${id} deluxe`,
    category: id % 2 ? 'odd' : 'even',
    ...extra(id),
  }));
  for (let i = 0; i < rows.length; i += 5000)
    await store.upsertRows(namespace, rows.slice(i, i + 5000) as never);
}

/**
 * Under `storeLag`, folds every write so far into the store's index at once (the seed), so only
 * the Function's own writes lag behind the indexer (ADR 0098).
 */
export function indexWritesSoFar(h: EngineHarness): void {
  const lag = h.storeServer.store.lag;
  if (!lag) throw new Error('indexWritesSoFar needs a harness started with storeLag');
  lag.index(Number.MAX_SAFE_INTEGER);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * Spec overrides of the lag-model tests: a pass every second (passes meet writes the store does not
 * show yet), a 30 s lease and timeout, `batchSize` rows a batch and `maxInFlightBatches` claims out.
 */
export function passEverySecond(batchSize: number, maxInFlightBatches: number): Partial<FunctionRuntimeSpec> {
  return {
    worker: { dispatch: 'pull', batchSize, timeoutSeconds: 30 },
    schedule: { discoveryIntervalSeconds: 1, leaseSeconds: 30, maxInFlightBatches, maxConcurrentScans: 1 },
  };
}

export function baseSpec(
  name: string,
  namespace: string,
  overrides: Partial<FunctionRuntimeSpec> = {},
): FunctionRuntimeSpec {
  return {
    k8sNamespace: 'test',
    name,
    generation: 1,
    targetNamespaces: [namespace],
    inputs: ['id', 'title'],
    output: { attribute: 'tags', kind: 'tags', version: 'v1' },
    filter: [
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ],
    worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 10 },
    schedule: { discoveryIntervalSeconds: 1, leaseSeconds: 10, maxInFlightBatches: 4, maxConcurrentScans: 1 },
    retry: { maxAttempts: 3, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    paused: false,
    ...overrides,
  };
}

/** startOrUpdateFunction on this harness's orchestrator queue. */
export function startFunction(h: EngineHarness, spec: FunctionRuntimeSpec) {
  return startOrUpdateFunction(h.client, spec, { taskQueue: h.taskQueue });
}

/** A handler that tags a row with the words of its title, recording every id it saw. */
export function taggingHandler(seen: Map<string, number> = new Map()): FunctionHandler {
  return async (rows) =>
    rows.map((r) => {
      seen.set(String(r.id), (seen.get(String(r.id)) ?? 0) + 1);
      return { id: r.id, value: tagsOfTitle(r.inputs.title) };
    });
}

export interface RunningPullWorker {
  stop(): Promise<void>;
}

export function startPullWorker(
  h: EngineHarness,
  spec: FunctionRuntimeSpec,
  handler: FunctionHandler,
  concurrency = 4,
  dataConverter?: DataConverter,
  store: StoreClient = h.store,
): RunningPullWorker {
  const controller = new AbortController();
  const run = runFunctionWorker({
    handler,
    taskQueue: functionTaskQueue(spec.k8sNamespace, spec.name),
    concurrency,
    temporal: { connection: h.nativeConnection, namespace: temporalNamespace(), dataConverter },
    store,
    signal: controller.signal,
  });
  return {
    stop: async () => {
      controller.abort();
      await run;
    },
  };
}

export { eventually };

export function statusOf(h: EngineHarness, ref: FunctionRef): Promise<FunctionStatus> {
  return getFunctionStatus(h.client, ref);
}

/** One Function under test: its spec and every name a test reaches it by. */
export interface TestFunction {
  spec: FunctionRuntimeSpec;
  /** The store namespace its rows were seeded in (the first target namespace). */
  storeNamespace: string;
  ref: FunctionRef;
  /** The Function workflow's id: for its claim history and recorded histories. */
  workflowId: string;
}

export function testFunction(spec: FunctionRuntimeSpec): TestFunction {
  return {
    spec,
    storeNamespace: spec.targetNamespaces[0]!,
    ref: { k8sNamespace: spec.k8sNamespace, name: spec.name },
    workflowId: functionWorkflowId(spec.k8sNamespace, spec.name),
  };
}

/**
 * A Function named `<prefix>-<random>` over rows 1..rows (seedRows) in a fresh store namespace,
 * its spec baseSpec with the overrides. Not started: workers and handlers come first.
 */
export async function seededFunction(
  h: EngineHarness,
  prefix: string,
  rows: number,
  overrides: Partial<FunctionRuntimeSpec> = {},
): Promise<TestFunction> {
  const storeNamespace = uniqueName('products');
  await seedRows(h.store, storeNamespace, range(1, rows + 1));
  return testFunction(baseSpec(uniqueName(prefix), storeNamespace, overrides));
}

/** The Function's status once `done` holds (polled; fails naming `what` after timeoutMs). */
export function statusWhen(
  h: EngineHarness,
  fn: TestFunction,
  done: (s: FunctionStatus) => boolean,
  timeoutMs: number,
  what: string,
): Promise<FunctionStatus> {
  return eventually(() => statusOf(h, fn.ref), done, timeoutMs, what);
}

/** The Function's status once it has written `processed` rows (and `also` holds). */
export function statusWhenProcessed(
  h: EngineHarness,
  fn: TestFunction,
  processed: number,
  opts: { also?: (s: FunctionStatus) => boolean; timeoutMs?: number } = {},
): Promise<FunctionStatus> {
  const also = opts.also ?? (() => true);
  return statusWhen(
    h,
    fn,
    (s) => s.counters.processed === processed && also(s),
    opts.timeoutMs ?? 60_000,
    `${processed} rows processed`,
  );
}

/** Starts (or updates) the Function and waits until it has written `processed` rows. */
export async function startAndWaitProcessed(
  h: EngineHarness,
  fn: TestFunction,
  processed: number,
  opts: { also?: (s: FunctionStatus) => boolean; timeoutMs?: number } = {},
): Promise<FunctionStatus> {
  await startFunction(h, fn.spec);
  return statusWhenProcessed(h, fn, processed, opts);
}

/**
 * With LAYER_RECORD_HISTORIES=1, saves every run of a workflow as test/replay/histories/<label>-<n>.json,
 * the fixtures the replay tests run against the current workflow code.
 */
export async function recordHistories(h: EngineHarness, workflowId: string, label: string): Promise<void> {
  await recordClientHistories(h.client, workflowId, label);
}

/** The tags taggingHandler gives a row: the words of its title. */
export function tagsOfTitle(title: unknown): string[] {
  return String(title).toLowerCase().split(/\s+/);
}

/**
 * The rows of a namespace not tagged exactly as taggingHandler tags them at `version` (or
 * dead-lettered): `{ rows, wrong }` with the first few wrong rows, for one equality assertion.
 */
export async function mistaggedRows(
  store: StoreClient,
  namespace: string,
  version = 'v1',
): Promise<{ rows: number; wrong: Record<string, unknown>[] }> {
  const rows = await readAll(store, namespace, ['title', 'tags', 'tags_v', 'tags_error']);
  const wrong = rows.filter(
    (r) =>
      r.tags_v !== version ||
      r.tags_error != null ||
      JSON.stringify(r.tags) !== JSON.stringify(tagsOfTitle(r.title)),
  );
  return { rows: rows.length, wrong: wrong.slice(0, 3) };
}

/** Every row of a namespace with the given attributes, ordered by id. */
export async function readAll(
  store: StoreClient,
  namespace: string,
  attributes: string[],
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let afterId: unknown = null;
  do {
    const page = await store.scanPage({ namespace, afterId: afterId as never, limit: 1000, attributes });
    out.push(...(page.rows as Record<string, unknown>[]));
    afterId = page.nextAfterId;
  } while (afterId !== null);
  return out;
}

/** One claim activity as its history tells it (the last attempt's start, if it started). */
export interface ClaimInHistory {
  claimId: string;
  batches: number;
  scheduledAtMs: number;
  startedAtMs?: number;
  /** Attempt of the recorded start: 2 or more when the claim was retried (a worker died). */
  attempt?: number;
  completedAtMs?: number;
  result?: ClaimReport;
}

function jsonPayload<T>(data: Uint8Array | null | undefined): T | undefined {
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as T) : undefined;
}

/** Every claim of every run of a workflow, and the run's workflow task count. */
export async function claimHistory(
  h: EngineHarness,
  workflowId: string,
): Promise<{ claims: ClaimInHistory[]; workflowTasks: number }> {
  const claims: ClaimInHistory[] = [];
  let workflowTasks = 0;
  let runId: string | undefined;
  const claimBatchIds = new Map<ClaimInHistory, string[]>();
  for (;;) {
    const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const bySchedule = new Map<string, ClaimInHistory>();
    for (const e of history.events ?? []) {
      const at = tsToMs(e.eventTime);
      if (e.workflowTaskCompletedEventAttributes) workflowTasks += 1;
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched && /Claim$/.test(sched.activityType?.name ?? '')) {
        const input = jsonPayload<FunctionClaimInput>(sched.input?.payloads?.[0]?.data);
        // Current claims carry `parts` (range chains) and come back packed (docs/adr/0100).
        const batchIds = claimBatches(input!).map((b) => b.batchId);
        const claim: ClaimInHistory = {
          claimId: input!.claimId,
          batches: batchIds.length,
          scheduledAtMs: at,
        };
        claimBatchIds.set(claim, batchIds);
        bySchedule.set(String(e.eventId), claim);
        claims.push(claim);
      }
      const started = e.activityTaskStartedEventAttributes;
      const claimStarted = started && bySchedule.get(String(started.scheduledEventId));
      if (started && claimStarted) {
        claimStarted.startedAtMs = at;
        claimStarted.attempt = started.attempt ?? 1;
      }
      const done = e.activityTaskCompletedEventAttributes;
      const claimDone = done && bySchedule.get(String(done.scheduledEventId));
      if (done && claimDone) {
        claimDone.completedAtMs = at;
        const result = jsonPayload<ClaimReport | PackedClaimReport>(done.result?.payloads?.[0]?.data);
        claimDone.result = result && unpackClaimReport(result, claimBatchIds.get(claimDone) ?? []);
      }
    }
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  return { claims, workflowTasks };
}
