// The Pipeline engine end to end on the real Temporal dev server, the embedded store and a real
// S3-compatible server (MinIO): S3 folder ingestion, re-ingest of a changed document, deletion
// at the source, idempotent submissions, status counts and queue depth.
import { describe, expect, it } from 'vitest';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { pipelineQueueDepth } from '../../../src/contracts/queue-depth.js';
import {
  getPipelineQueueDepth,
  listPipelineSourceNow,
  submitPipelineItems,
} from '../../../src/client/pipeline-client.js';
import {
  byDocument,
  createBucket,
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

const doc = (title: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${title} paragraph ${i + 1}: ${'lorem ipsum '.repeat(3 + i)}`).join(
    '\n\n',
  );

describe('the built-in S3 source', () => {
  it('ingests a folder, re-ingests a changed document to exactly its new chunks, and removes a deleted one', async () => {
    const bucket = uniqueName('docs').toLowerCase();
    await createBucket(h.s3, bucket);
    const files: Record<string, string> = {
      'corpus/a.txt': doc('alpha', 4),
      'corpus/b.txt': doc('beta', 3),
      'corpus/c.txt': doc('gamma', 5),
      'corpus/sub/d.txt': doc('delta', 2),
      'corpus/e.txt': doc('epsilon', 1),
      'elsewhere/x.txt': doc('outside', 2),
    };
    for (const [Key, Body] of Object.entries(files))
      await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));

    const name = uniqueName('s3-docs');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, {
      sourceRef: { kind: 's3', bucket, prefix: 'corpus/', pollIntervalSeconds: 3600 },
      worker: { dispatch: 'pull', batchSize: 2, timeoutSeconds: 20 },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const calls = new Map<string, number>();
    const worker = startWorker(h, spec, { process: chunker(calls) });
    try {
      await startPipeline(h, spec);
      const st = await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 5 && s.phase === 'idle',
        30_000,
        'first listing ingested',
      );
      expect(st.queue).toEqual({ pending: 0, inFlight: 0, done: 5, failed: 0 });
      expect(st.counters.listings).toBeGreaterThanOrEqual(1);
      const expected = Object.fromEntries(
        Object.entries(files)
          .filter(([k]) => k.startsWith('corpus/'))
          .map(([k, v]) => [k, paragraphs(v)]),
      );
      const first = await readChunks(h.store, ns);
      expect(byDocument(first)).toEqual(expected);
      // Every chunk row carries its document id, position, document version and source version.
      for (const c of first) {
        expect(c.id.startsWith(`${c.doc_id}:`)).toBe(true);
        expect(c.doc_version).toMatch(/^[0-9a-f]{16}$/);
        expect(c.source_version).toMatch(/^[0-9a-f]{32}$/);
      }
      const aIdsBefore = new Map(first.filter((c) => c.doc_id === 'corpus/a.txt').map((c) => [c.text, c.id]));

      // a.txt: paragraph 2 rewritten, one paragraph added; b.txt deleted; re-list.
      const aParas = paragraphs(files['corpus/a.txt']!);
      aParas[1] = 'alpha paragraph 2 was rewritten entirely';
      aParas.push('alpha paragraph 5 is new');
      await h.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'corpus/a.txt', Body: aParas.join('\n\n') }),
      );
      await h.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'corpus/b.txt' }));
      const before = await statusOf(h, ref);
      await listPipelineSourceNow(h.client, ref);
      const after = await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.listings > before.counters.listings && s.queue.done === 7 && s.phase === 'idle',
        30_000,
        're-listing processed',
      );
      const second = await readChunks(h.store, ns);
      const docs = byDocument(second);
      expect(docs['corpus/a.txt']).toEqual(aParas);
      expect(docs['corpus/b.txt']).toBeUndefined();
      expect(Object.keys(docs).sort()).toEqual([
        'corpus/a.txt',
        'corpus/c.txt',
        'corpus/e.txt',
        'corpus/sub/d.txt',
      ]);
      // Unchanged paragraphs kept their rows (same ids); only the 2 changed/added ones were written.
      for (const c of second.filter((x) => x.doc_id === 'corpus/a.txt' && aIdsBefore.has(x.text)))
        expect(c.id).toBe(aIdsBefore.get(c.text));
      expect(after.counters.chunksWritten - before.counters.chunksWritten).toBe(2);
      expect(after.counters.chunksKept - before.counters.chunksKept).toBe(3);
      // one old a.txt paragraph + b.txt's 3 chunks
      expect(after.counters.chunksDeleted - before.counters.chunksDeleted).toBe(4);
      // Unchanged objects were not listed as changed: only a.txt was processed again.
      expect(calls.get('corpus/a.txt')).toBe(2);
      expect(calls.get('corpus/c.txt')).toBe(1);
      expect([...calls.keys()].some((k) => k.startsWith('elsewhere/'))).toBe(false);
      expect(new Set(second.map((c) => c.doc_version)).size).toBe(4);
      expect(
        second
          .filter((c) => c.doc_id === 'corpus/a.txt')
          .every((c) => c.doc_version === second.find((x) => x.doc_id === 'corpus/a.txt')!.doc_version),
      ).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});

describe('submissions', () => {
  it('processes items submitted twice exactly once, and reports queue counts and depth', async () => {
    const name = uniqueName('submit');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, { worker: { dispatch: 'pull', batchSize: 5, timeoutSeconds: 20 } });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    await startPipeline(h, spec);
    const items = Array.from({ length: 20 }, (_, i) => ({
      key: `item-${i}`,
      payload: { text: doc(`item${i}`, 1 + (i % 3)) },
    }));
    // No worker yet: everything stays pending; a second submission is all duplicates.
    expect(await submitPipelineItems(h.client, ref, items)).toEqual({ accepted: 20, duplicates: 0 });
    expect(await submitPipelineItems(h.client, ref, items)).toEqual({ accepted: 0, duplicates: 20 });
    const queued = await eventually(
      () => statusOf(h, ref),
      (s) => s.queue.pending + s.queue.inFlight === 20,
      10_000,
      'items queued',
    );
    expect(queued.queue.done).toBe(0);
    expect(pipelineQueueDepth(queued)).toBeGreaterThanOrEqual(4);
    expect(await getPipelineQueueDepth(h.client, ref)).toBeGreaterThanOrEqual(4);

    const calls = new Map<string, number>();
    const worker = startWorker(h, spec, { process: chunker(calls) });
    try {
      await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 20,
        30_000,
        'all done',
      );
      // Submitted again after they were written: duplicates (recent), then — as if forgotten —
      // a version check against the target namespace skips them without calling process.
      expect(await submitPipelineItems(h.client, ref, items)).toEqual({ accepted: 0, duplicates: 20 });
      const st = await statusOf(h, ref);
      expect(st.queue).toEqual({ pending: 0, inFlight: 0, done: 20, failed: 0 });
      expect(await getPipelineQueueDepth(h.client, ref)).toBe(0);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      expect(calls.size).toBe(20);
      const docs = byDocument(await readChunks(h.store, ns));
      expect(Object.keys(docs)).toHaveLength(20);
      for (const it of items) expect(docs[it.key]).toEqual(paragraphs(it.payload.text));
      // A changed version of one item replaces its chunks.
      await submitPipelineItems(h.client, ref, [
        { key: 'item-3', payload: { text: 'only one paragraph now' } },
      ]);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 21,
        20_000,
        'changed item done',
      );
      expect(byDocument(await readChunks(h.store, ns))['item-3']).toEqual(['only one paragraph now']);
      // A deleted item loses its chunks.
      await submitPipelineItems(h.client, ref, [{ key: 'item-4', deleted: true }]);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 22,
        20_000,
        'deleted item done',
      );
      expect(byDocument(await readChunks(h.store, ns))['item-4']).toBeUndefined();
    } finally {
      await worker.stop();
    }
  });
});
