// The envelope Pipelines share with Functions: push dispatch through an HTTP worker serving
// /run, and continue-as-new with the queue and counters carried to the next run.
import { describe, expect, it } from 'vitest';
import { isQueueFull, submitPipelineItems } from '../../../src/client/pipeline-client.js';
import { deadLettersQuery } from '../../../src/contracts/pipeline.js';
import { createPipelinePushServer } from '../../../packages/worker/src/pipeline-worker.js';
import { pipelineWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { recordHistories } from '../../helpers/history-json.js';
import {
  byDocument,
  eventually,
  pipelineHarnessPerFile,
  pipelineSpec,
  readChunks,
  startPipeline,
  startWorker,
  statusOf,
  uniqueName,
} from './harness.js';
import { chunker, paragraphs } from './chunker.js';

const h = pipelineHarnessPerFile();

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: `doc-${i}`,
    payload: { text: Array.from({ length: 1 + (i % 3) }, (_, p) => `doc ${i} part ${p}`).join('\n\n') },
  }));

describe('Pipeline envelope', () => {
  it('dispatches batches to a push worker and writes exactly its chunks', async () => {
    const calls = new Map<string, number>();
    const server = createPipelinePushServer(chunker(calls), { s3: h.s3 });
    const port = await server.listen(0);
    const name = uniqueName('push');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, {
      worker: { dispatch: 'push', batchSize: 4, timeoutSeconds: 10, pushUrl: `http://127.0.0.1:${port}` },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    try {
      await startPipeline(h, spec);
      const submitted = items(12);
      expect(await submitPipelineItems(h.client, ref, submitted)).toEqual({ accepted: 12, duplicates: 0 });
      await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 12,
        60_000,
        '12 items via push',
      );
      expect(calls.size).toBe(12);
      const docs = byDocument(await readChunks(h.store, ns));
      for (const it of submitted) expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
      await recordHistories(h.client, pipelineWorkflowId(spec.k8sNamespace, name), 'pipeline-v2-push');
    } finally {
      await server.close();
    }
  });

  it('isolates a poison item by splitting, dead-letters it durably with its error, and writes every other item', async () => {
    const name = uniqueName('poison');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const inner = chunker();
    const worker = startWorker(h, spec, {
      process: async (batch, ctx) => {
        if (batch.some((i) => i.key === 'doc-5')) throw new Error('cannot parse doc-5');
        return inner(batch, ctx);
      },
    });
    try {
      await startPipeline(h, spec);
      const submitted = items(16);
      await submitPipelineItems(h.client, ref, submitted);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.queue.done === 15 && x.queue.failed === 1,
        60_000,
        '15 done, 1 dead-lettered',
      );
      expect(s.deadLetters).toMatchObject([
        { key: 'doc-5', type: 'HandlerFailed', message: 'process failed: cannot parse doc-5' },
      ]);
      // Counted by the shared claim-workflow shell, as for a Function (they were Function-only).
      expect(s.counters.failedBatches).toBeGreaterThan(0);
      expect(s.counters.retries).toBeGreaterThan(0);
      const letters = await h.client.workflow
        .getHandle(pipelineWorkflowId(spec.k8sNamespace, name))
        .query(deadLettersQuery);
      expect(letters.map((d) => d.key)).toEqual(['doc-5']);
      const docs = byDocument(await readChunks(h.store, ns));
      expect(Object.keys(docs).sort()).toEqual(
        submitted
          .filter((i) => i.key !== 'doc-5')
          .map((i) => i.key)
          .sort(),
      );
      for (const it of submitted)
        if (it.key !== 'doc-5') expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
      await recordHistories(
        h.client,
        pipelineWorkflowId(spec.k8sNamespace, name),
        'pipeline-v2-poison-split',
      );
    } finally {
      await worker.stop();
    }
  });

  it('a push worker that is down degrades the Pipeline (WorkerUnavailable) without losing an item, and recovers when it is up', async () => {
    // A port with nothing listening yet: connection refused.
    const probe = createPipelinePushServer(chunker(), { s3: h.s3 });
    const port = await probe.listen(0);
    await probe.close();
    const name = uniqueName('down');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, {
      worker: { dispatch: 'push', batchSize: 4, timeoutSeconds: 10, pushUrl: `http://127.0.0.1:${port}` },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    let server: ReturnType<typeof createPipelinePushServer> | undefined;
    try {
      await startPipeline(h, spec);
      const submitted = items(8);
      await submitPipelineItems(h.client, ref, submitted);
      const degraded = await eventually(
        () => statusOf(h, ref),
        (x) => x.phase === 'degraded',
        60_000,
        'degraded',
      );
      expect(degraded.degraded).toMatchObject({ reason: 'WorkerUnavailable' });
      expect(degraded.queue.failed).toBe(0);
      expect(degraded.deadLetters).toEqual([]);
      server = createPipelinePushServer(chunker(), { s3: h.s3 });
      await server.listen(port);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.queue.done === 8 && x.phase !== 'degraded',
        60_000,
        'recovered',
      );
      expect(s.queue.failed).toBe(0);
      const docs = byDocument(await readChunks(h.store, ns));
      for (const it of submitted) expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
    } finally {
      await server?.close();
    }
  });

  it('refuses a submission past maxPendingItems with the typed QueueFull failure', async () => {
    const name = uniqueName('full');
    const spec = pipelineSpec(name, uniqueName('chunks'), {
      paused: true,
      schedule: { leaseSeconds: 20, maxInFlightBatches: 4, maxPendingItems: 5 },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    await startPipeline(h, spec);
    await submitPipelineItems(h.client, ref, items(5));
    const err = await submitPipelineItems(h.client, ref, items(7).slice(5), { deadlineMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect(isQueueFull(err)).toBe(true);
    expect(isQueueFull(new Error('queue full: looks the same'))).toBe(false);
  });

  it('continues as new and finishes the exact work with its counts carried over', async () => {
    const name = uniqueName('can');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, { worker: { dispatch: 'pull', batchSize: 2, timeoutSeconds: 10 } });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const calls = new Map<string, number>();
    const worker = startWorker(h, spec, { process: chunker(calls) });
    try {
      // Two batches per run: 20 items in batches of 2 need several runs.
      await startPipeline(h, spec, 2);
      const submitted = items(20);
      await submitPipelineItems(h.client, ref, submitted);
      const s = await eventually(
        () => statusOf(h, ref),
        (x) => x.queue.done === 20,
        90_000,
        '20 items across runs',
      );
      expect(s.runsSoFar).toBeGreaterThan(1);
      expect(s.queue).toMatchObject({ pending: 0, inFlight: 0, failed: 0 });
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      const docs = byDocument(await readChunks(h.store, ns));
      expect(Object.keys(docs)).toHaveLength(20);
      for (const it of submitted) expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
      await recordHistories(
        h.client,
        pipelineWorkflowId(spec.k8sNamespace, name),
        'pipeline-v2-continue-as-new',
      );
    } finally {
      await worker.stop();
    }
  });
});
