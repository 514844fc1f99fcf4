// Pure parts of the Pipeline engine: document planning (chunk ids, versions, validation),
// item versions and the queue depth KEDA scales on.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalJson,
  itemIdentity,
  itemVersion,
  type QueuedItem,
} from '../../../packages/worker/src/contracts/pipeline.js';
import { pipelineQueueDepth } from '../../../src/contracts/queue-depth.js';
import { chunkId, planDocuments } from '../../../packages/worker/src/claim-execution/pipeline-write.js';
import { InvalidPipelineOutputError } from '../../../packages/worker/src/claim-execution/errors.js';

const item = (key: string, version = 'v1'): QueuedItem => ({ key, version });

describe('planDocuments', () => {
  it('derives chunk ids from document id and content, so an unchanged chunk keeps its id', () => {
    const [a] = planDocuments([item('doc-1')], [{ chunks: [{ text: 'one' }, { text: 'two' }] }]);
    const [b] = planDocuments(
      [item('doc-1', 'v2')],
      [{ chunks: [{ text: 'zero' }, { text: 'one' }, { text: 'two' }] }],
    );
    expect(a!.chunks.map((c) => c.id)).toEqual([
      chunkId('doc-1', { text: 'one' }),
      chunkId('doc-1', { text: 'two' }),
    ]);
    expect(b!.chunks.slice(1).map((c) => c.id)).toEqual(a!.chunks.map((c) => c.id));
    // ...but the document version changes with any chunk, and positions follow the new order.
    expect(b!.docVersion).not.toBe(a!.docVersion);
    expect(b!.chunks.map((c) => c.position)).toEqual([0, 1, 2]);
  });

  it.each([
    // the only document of a one-item batch belongs to that item
    ['single item', [item('k')], [{ chunks: [] }], 'k'],
    // a document whose id is an item key belongs to that item
    ['id is the item key', [item('a'), item('b')], [{ id: 'b', chunks: [] }], 'b'],
    // an explicit itemKey wins
    ['explicit itemKey', [item('a'), item('b')], [{ id: 'x', itemKey: 'a', chunks: [] }], 'a'],
  ])('assigns a document to its item: %s', (_why, items, docs, key) => {
    expect(planDocuments(items, docs)[0]!.itemKey).toBe(key);
  });

  it.each([
    ['not an array', { chunks: [] }],
    ['a document naming no item of a multi-item batch', [{ id: 'zzz', chunks: [] }]],
    ['a reserved attribute', [{ itemKey: 'a', chunks: [{ text: 't', attributes: { doc_id: 'x' } }] }]],
    [
      'a document id twice',
      [
        { id: 'a', chunks: [] },
        { id: 'a', itemKey: 'b', chunks: [] },
      ],
    ],
  ])('rejects malformed output: %s', (_why, output) => {
    expect(() => planDocuments([item('a'), item('b')], output)).toThrow(InvalidPipelineOutputError);
  });

  it('gives repeated identical chunks distinct ids', () => {
    const [d] = planDocuments([item('k')], [{ chunks: [{ text: 'same' }, { text: 'same' }] }]);
    expect(new Set(d!.chunks.map((c) => c.id)).size).toBe(2);
  });
});

describe('item versions', () => {
  it('keeps a given version and hashes the payload otherwise, independent of key order', () => {
    expect(itemVersion({ key: 'k', version: 'etag' })).toBe('etag');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (payload) => {
        const reversed = Object.fromEntries(Object.entries(payload).reverse());
        expect(itemVersion({ key: 'k', payload })).toBe(itemVersion({ key: 'k', payload: reversed }));
      }),
    );
    expect(itemVersion({ key: 'k', payload: { a: 1 } })).not.toBe(
      itemVersion({ key: 'k', payload: { a: 2 } }),
    );
    expect(itemVersion({ key: 'k' })).not.toBe(itemVersion({ key: 'k', deleted: true }));
    expect(itemIdentity({ key: 'k', version: 'v' })).toBe('k@v');
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  });
});

describe('pipelineQueueDepth', () => {
  it.each([
    // nothing queued, nothing held
    [0, 0, 64, 0],
    // a partial batch still needs a worker
    [1, 0, 64, 1],
    // 130 items = 3 batches waiting, plus 1 held
    [130, 1, 64, 4],
    // batch size 0 cannot divide by zero
    [5, 2, 0, 7],
  ])('pending %i, in-flight batches %i, batch size %i → %i', (pending, inFlightBatches, batchSize, depth) => {
    expect(
      pipelineQueueDepth({ queue: { pending, inFlight: 0, done: 0, failed: 0 }, inFlightBatches, batchSize }),
    ).toBe(depth);
  });
});
