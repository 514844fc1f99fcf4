// Large payloads travel through S3: with the S3 payload codec on the Client and every Worker, a
// batch over the threshold is stored in the bucket and workflow history holds only references.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadsIn } from '../../helpers/history-payloads.js';
import { temporalNamespace } from '../../helpers/servers.js';
import {
  S3PayloadCodec,
  isS3Reference,
  readS3Reference,
} from '../../../packages/worker/src/codec/s3-payload-codec.js';
import { pipelineHandle, submitPipelineItems } from '../../../src/client/pipeline-client.js';
import {
  byDocument,
  eventually,
  newS3Client,
  pipelineSpec,
  readChunks,
  startPipeline,
  startPipelineHarness,
  startWorker,
  statusOf,
  uniqueName,
  type PipelineHarness,
} from './harness.js';
import { chunker, paragraphs } from './chunker.js';

const THRESHOLD = 4 * 1024;
const bucket = uniqueName('payloads').toLowerCase();
let h: PipelineHarness;
let codec: S3PayloadCodec;

beforeAll(async () => {
  codec = new S3PayloadCodec({ bucket, prefix: 'test/', thresholdBytes: THRESHOLD }, newS3Client());
  h = await startPipelineHarness({ dataConverter: { payloadCodecs: [codec] } });
});

afterAll(async () => {
  await h?.close();
  codec?.s3.destroy();
});

describe('the S3 payload codec', () => {
  it('moves a batch over the threshold to S3 and keeps only references in history', async () => {
    const name = uniqueName('big');
    const ns = uniqueName('chunks');
    const spec = pipelineSpec(name, ns, { worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 20 } });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    // The worker's own Worker decodes the batch with the same codec.
    const w = startWorker(h, spec, {
      process: chunker(),
      temporal: {
        connection: h.nativeConnection,
        namespace: temporalNamespace(),
        client: h.client,
        dataConverter: { payloadCodecs: [codec] },
      },
    });
    try {
      await startPipeline(h, spec);
      const text = (i: number) =>
        Array.from({ length: 3 }, (_, p) => `document ${i} paragraph ${p} ${'x'.repeat(600)}`).join('\n\n');
      const items = Array.from({ length: 8 }, (_, i) => ({ key: `big-${i}`, payload: { text: text(i) } }));
      await submitPipelineItems(h.client, ref, items);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.queue.done === 8,
        30_000,
        'big batch done',
      );
      const docs = byDocument(await readChunks(h.store, ns));
      for (const i of items) expect(docs[i.key]).toEqual(paragraphs(i.payload.text));

      const history = await pipelineHandle(h.client, ref).fetchHistory();
      const payloads = payloadsIn(history.events);
      const refs = payloads.filter(isS3Reference);
      // The submission (update argument) and the batch (activity input) went through S3.
      expect(refs.length).toBeGreaterThanOrEqual(2);
      for (const p of payloads) expect(p.data!.byteLength).toBeLessThanOrEqual(THRESHOLD);
      const listed = await codec.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'test/' }));
      const keys = new Set((listed.Contents ?? []).map((o) => o.Key));
      for (const r of refs) expect(keys.has(readS3Reference(r).key)).toBe(true);
      // Decoding a reference gives back the original payload.
      const [decoded] = await codec.decode([refs[0]!]);
      expect(decoded!.data!.byteLength).toBeGreaterThan(THRESHOLD);
    } finally {
      await w.stop();
    }
  });
});
