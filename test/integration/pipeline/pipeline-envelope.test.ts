// The envelope Pipelines share with Functions: push dispatch through an HTTP worker serving
// /run, and continue-as-new with the queue and counters carried to the next run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitPipelineItems } from '../../../src/client/pipeline-client.js';
import { createPipelinePushServer } from '../../../src/sdk/pipeline-worker.js';
import { pipelineWorkflowId } from '../../../src/contracts/names.js';
import { recordHistories } from '../../helpers/history-json.js';
import {
  byDocument,
  chunker,
  eventually,
  paragraphs,
  pipelineSpec,
  readChunks,
  startPipeline,
  startPipelineHarness,
  startWorker,
  statusOf,
  uniqueName,
  type PipelineHarness,
} from './harness.js';

let h: PipelineHarness;

beforeAll(async () => {
  h = await startPipelineHarness();
});

afterAll(async () => {
  await h?.close();
});

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
    } finally {
      await server.close();
    }
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
        'pipeline-continue-as-new',
      );
    } finally {
      await worker.stop();
    }
  });
});
