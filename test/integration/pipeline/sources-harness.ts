// The scenarios every Pipeline source is held to (docs/adr/0121), run against a real upstream
// (goaws, kfake, MinIO's notifications) and real worker processes built from LAYER_SOURCE_REF:
//
// - killed between receive and accept, and between accept and acknowledge (SIGKILL), then a
//   healthy worker: every document ends with exactly its latest version's chunks, and the source
//   ends drained — nothing lost, a redelivery is a no-op in the store;
// - updates and deletes after that converge the same way;
// - paused, the worker stops receiving (the messages stay in the source) until resumed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { setPipelinePaused } from '../../../src/client/pipeline-client.js';
import type { PipelineRuntimeSpec } from '../../../src/contracts/pipeline.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  byDocument,
  eventually,
  pipelineSpec,
  readChunks,
  startPipeline,
  uniqueName,
  type PipelineHarness,
} from './harness.js';

/** One document change put into the source. */
export interface Change {
  key: string;
  /** Paragraphs separated by blank lines: one chunk each. */
  text?: string;
  deleted?: boolean;
  version: string;
}

export interface SourceUnderTest {
  sourceRef: Record<string, unknown>;
  /** Puts the changes into the upstream, in order. */
  send(changes: Change[]): Promise<void>;
  /** Messages in the upstream not yet acknowledged (queue depth, consumer lag). */
  backlog(): Promise<number>;
  /** More environment for the worker process (e.g. the S3 endpoint objects are read from). */
  workerEnv?: Record<string, string>;
}

const WORKER = fileURLToPath(new URL('./fixtures/sources-worker.ts', import.meta.url));

export interface SourceWorker {
  child: ChildProcess;
  events(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function spawnSourceWorker(
  h: PipelineHarness,
  spec: PipelineRuntimeSpec,
  src: SourceUnderTest,
  opts: { killAt?: 'received' | 'accepted' } = {},
): SourceWorker {
  const eventsFile = join(mkdtempSync(join(tmpdir(), 'layer-src-')), 'events.log');
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: {
      ...process.env,
      // The operator's env contract (src/operator/plan-pod.ts): the worker builds its source from it.
      LAYER_WORKLOAD_KIND: 'Pipeline',
      LAYER_WORKLOAD_NAMESPACE: spec.k8sNamespace,
      LAYER_WORKLOAD_NAME: spec.name,
      LAYER_SOURCE_REF: JSON.stringify(src.sourceRef),
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      STORE_URL: h.storeServer.url,
      EVENTS_FILE: eventsFile,
      ...(opts.killAt ? { KILL_AT: opts.killAt } : {}),
      ...src.workerEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return {
    child,
    exited,
    events: () =>
      existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean) : [],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** key → chunk texts the store must end with, after `changes` in order. */
export function expectedDocuments(changes: Change[]): Record<string, string[]> {
  const latest = new Map<string, Change>();
  for (const c of changes) latest.set(c.key, c);
  return Object.fromEntries(
    [...latest.values()]
      .filter((c) => !c.deleted)
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((c) => [c.key, c.text!.split('\n\n')]),
  );
}

function sourceSpec(src: SourceUnderTest, prefix: string): PipelineRuntimeSpec {
  return pipelineSpec(uniqueName(prefix), uniqueName('chunks'), {
    sourceRef: src.sourceRef,
    // A short lease: a claim held by a killed worker comes back within seconds.
    schedule: { leaseSeconds: 4, maxInFlightBatches: 4, maxPendingItems: 1000 },
  });
}

async function converged(
  h: PipelineHarness,
  src: SourceUnderTest,
  ns: string,
  want: Record<string, string[]>,
) {
  await eventually(
    async () => ({ docs: byDocument(await readChunks(h.store, ns)), backlog: await src.backlog() }),
    ({ docs, backlog }) => backlog === 0 && JSON.stringify(docs) === JSON.stringify(want),
    90_000,
    'every document at its latest version and the source drained',
  );
  // Exactly the latest version's chunks: no stale chunk, no duplicate from a redelivery.
  expect(byDocument(await readChunks(h.store, ns))).toEqual(want);
  expect(await src.backlog()).toBe(0);
}

/** Kill between receive/accept and accept/acknowledge, then converge; then updates and deletes. */
export async function killScenario(h: PipelineHarness, src: SourceUnderTest, prefix: string): Promise<void> {
  const spec = sourceSpec(src, prefix);
  await startPipeline(h, spec);
  const first: Change[] = Array.from({ length: 12 }, (_, i) => ({
    key: `doc-${String(i).padStart(2, '0')}`,
    version: 'v1',
    text: Array.from({ length: 1 + (i % 3) }, (_, p) => `doc ${i} v1 part ${p}`).join('\n\n'),
  }));
  await src.send(first);

  for (const killAt of ['received', 'accepted'] as const) {
    const w = spawnSourceWorker(h, spec, src, { killAt });
    const { signal } = await w.exited;
    expect(signal, `worker killed after ${killAt}`).toBe('SIGKILL');
    expect(w.events().at(-1)).toMatch(new RegExp(`^${killAt} [1-9]`));
    // Nothing was acknowledged before the kill.
    expect(w.events().some((e) => e.startsWith('acknowledged'))).toBe(false);
  }

  const worker = spawnSourceWorker(h, spec, src);
  try {
    await converged(h, src, spec.targetNamespace, expectedDocuments(first));
    const second: Change[] = [
      { key: 'doc-01', version: 'v2', text: 'doc 1 v2 rewritten' },
      {
        key: 'doc-02',
        version: 'v2',
        text: 'doc 2 v2 part 0\n\ndoc 2 v2 part 1\n\ndoc 2 v2 part 2\n\ndoc 2 v2 part 3',
      },
      { key: 'doc-03', version: 'd2', deleted: true },
      { key: 'doc-04', version: 'd2', deleted: true },
    ];
    await src.send(second);
    await converged(h, src, spec.targetNamespace, expectedDocuments([...first, ...second]));
    expect(worker.events().some((e) => e.startsWith('acknowledged'))).toBe(true);
  } finally {
    await worker.stop();
  }
}

/** Paused: the worker stops receiving and the messages stay in the source; resumed, it drains. */
export async function pauseScenario(h: PipelineHarness, src: SourceUnderTest, prefix: string): Promise<void> {
  const spec = sourceSpec(src, prefix);
  const ref = { k8sNamespace: spec.k8sNamespace, name: spec.name };
  await startPipeline(h, spec);
  const worker = spawnSourceWorker(h, spec, src);
  try {
    await setPipelinePaused(h.client, ref, true);
    await eventually(
      async () => worker.events(),
      (e) => e.includes('holding paused'),
      30_000,
      'the worker holding for the pause',
    );
    const receivedBefore = worker.events().filter((e) => e.startsWith('received')).length;
    const changes: Change[] = Array.from({ length: 4 }, (_, i) => ({
      key: `paused-${i}`,
      version: 'v1',
      text: `paused doc ${i}`,
    }));
    await src.send(changes);
    // Several hold polls (1 s each) and long polls later, nothing was taken from the source.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(worker.events().filter((e) => e.startsWith('received')).length).toBe(receivedBefore);
    expect(await src.backlog()).toBe(changes.length);
    expect(await readChunks(h.store, spec.targetNamespace)).toEqual([]);

    await setPipelinePaused(h.client, ref, false);
    await converged(h, src, spec.targetNamespace, expectedDocuments(changes));
  } finally {
    await worker.stop();
  }
}
