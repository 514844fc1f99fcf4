// Large payloads of a Function go through S3 too: with the S3 payload codec on the Client, the
// orchestrator Worker and the pull worker, a workflow input and batch inputs over the threshold
// (here, a large filter) are stored in the bucket and the history holds only references.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadsIn } from '../../helpers/history-payloads.js';
import { S3PayloadCodec, isS3Reference } from '../../../packages/worker/src/codec/s3-payload-codec.js';
import { functionHandle } from '../../../src/client/function-client.js';
import { newS3Client } from '../pipeline/harness.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  taggingHandler,
  uniqueName,
  type EngineHarness,
} from './harness.js';

const THRESHOLD = 1024;
let h: EngineHarness;
let codec: S3PayloadCodec;

beforeAll(async () => {
  codec = new S3PayloadCodec(
    { bucket: uniqueName('fn-payloads').toLowerCase(), prefix: 'fn/', thresholdBytes: THRESHOLD },
    newS3Client(),
  );
  h = await startEngineHarness({ dataConverter: { payloadCodecs: [codec] } });
});

afterAll(async () => {
  await h?.close();
  codec?.s3.destroy();
});

describe('Function payloads over the threshold', () => {
  it('travel through S3 while the Function completes normally', async () => {
    const ns = uniqueName('products');
    const name = uniqueName('bigspec');
    await seedRows(h.store, ns, range(1, 17));
    // A filter of ~3 KB (every row passes it): the spec, and each batch input carrying it, is large.
    const excluded = Array.from({ length: 60 }, (_, i) => `no such title ${i} ${'z'.repeat(30)}`);
    const spec = baseSpec(name, ns, { filter: ['title', 'NotIn', excluded] });
    const worker = startPullWorker(h, spec, taggingHandler(), 4, { payloadCodecs: [codec] });
    try {
      await startFunction(h, spec);
      await eventually(
        () => statusOf(h, spec),
        (s) => s.counters.processed === 16,
        60_000,
        '16 rows',
      );
      expect((await readAll(h.store, ns, ['tags_v'])).every((r) => r.tags_v === 'v1')).toBe(true);
      const history = await functionHandle(h.client, spec).fetchHistory();
      const payloads = payloadsIn(history.events);
      expect(payloads.length).toBeGreaterThan(0);
      // Nothing in history is over the threshold; the large ones are references.
      expect(payloads.every((p) => (p.data?.length ?? 0) <= THRESHOLD)).toBe(true);
      expect(payloads.filter((p) => isS3Reference(p)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await worker.stop();
    }
  });
});
