// The pure parts of the Pipeline sources (ADR 0121): when the loop holds, how a message body or an
// S3 notification becomes items, which offsets a Kafka ack commits, and which source a sourceRef names.
import { describe, expect, it } from 'vitest';
import { holdReason } from '../../../packages/worker/src/sources/run-source.js';
import { itemFromBody } from '../../../packages/worker/src/sources/message-item.js';
import { itemsFromS3Event } from '../../../packages/worker/src/sources/s3-events.js';
import { lastPerPartition } from '../../../packages/worker/src/sources/kafka.js';
import { sourceFromRef } from '../../../packages/worker/src/sources/from-source-ref.js';
import { SourceRefError } from '../../../packages/worker/src/sources/source.js';

describe('holdReason', () => {
  it.each([
    ['no status yet: receive', undefined, undefined],
    ['running: receive', { phase: 'running' }, undefined],
    ['idle: receive (the source is where work comes from)', { phase: 'idle' }, undefined],
    ['draining: receive (a new run picks the items up)', { phase: 'draining' }, undefined],
    ['paused: hold', { phase: 'paused' }, 'paused'],
    ['degraded: hold', { phase: 'degraded' }, 'degraded'],
    ['degraded detail while busy: hold', { phase: 'running', degraded: { reason: 'x' } }, 'degraded'],
  ])('%s', (_why, status, want) => {
    expect(holdReason(status)).toBe(want);
  });
});

describe('itemFromBody', () => {
  it.each([
    ['an item', '{"key":"a","version":"2","payload":{"t":1}}', { key: 'a', version: '2', payload: { t: 1 } }],
    ['a delete', '{"key":"a","version":"3","deleted":true}', { key: 'a', version: '3', deleted: true }],
    ['JSON without key: payload of the message id', '{"t":1}', { key: 'm-1', payload: { t: 1 } }],
    ['an empty key is no key', '{"key":""}', { key: 'm-1', payload: { key: '' } }],
    ['plain text', 'hello', { key: 'm-1', payload: 'hello' }],
    ['a JSON array', '[1,2]', { key: 'm-1', payload: [1, 2] }],
    ['no body', undefined, { key: 'm-1' }],
  ])('%s', (_why, body, want) => {
    expect(itemFromBody(body, 'm-1')).toEqual(want);
  });
});

describe('itemsFromS3Event', () => {
  const record = (eventName: string, object: Record<string, unknown>) => ({
    eventName,
    s3: { bucket: { name: 'docs' }, object },
  });
  it.each([
    [
      'AWS ObjectCreated: the object, versioned by ETag and sequencer',
      { Records: [record('ObjectCreated:Put', { key: 'a.txt', eTag: 'e1', size: 3, sequencer: '0A' })] },
      [{ key: 'a.txt', version: 'e1.0A', s3: { bucket: 'docs', key: 'a.txt', etag: 'e1', size: 3 } }],
    ],
    [
      'MinIO names events s3:…, quotes ETags and URL-encodes keys',
      {
        Records: [
          record('s3:ObjectCreated:Put', { key: 'my+dir%2Fb.txt', eTag: '"e2"', size: 1, sequencer: '1' }),
        ],
      },
      [
        {
          key: 'my dir/b.txt',
          version: 'e2.1',
          s3: { bucket: 'docs', key: 'my dir/b.txt', etag: 'e2', size: 1 },
        },
      ],
    ],
    [
      'ObjectRemoved: a delete of that key',
      { Records: [record('s3:ObjectRemoved:Delete', { key: 'a.txt', sequencer: '0B' })] },
      [{ key: 'a.txt', version: 'deleted.0B', deleted: true }],
    ],
    ['a test event stands for nothing', { Service: 'Amazon S3', Event: 's3:TestEvent' }, []],
    [
      'other events change no document',
      { Records: [record('ObjectRestore:Completed', { key: 'a.txt' })] },
      [],
    ],
  ])('%s', (_why, event, want) => {
    expect(itemsFromS3Event(event)).toEqual(want);
  });

  it.each([
    ['not an object', 'x'],
    ['Records not an array', { Records: {} }],
    [
      'a record without key',
      { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } }] },
    ],
  ])('rejects %s', (_why, event) => {
    expect(() => itemsFromS3Event(event)).toThrow();
  });
});

describe('lastPerPartition', () => {
  it('commits the highest offset of each partition, whatever the order', () => {
    const m = (partition: number, offset: number) => ({ topic: 't', partition, offset: BigInt(offset) });
    expect(lastPerPartition([m(0, 5), m(1, 2), m(0, 7), m(0, 6), m(1, 1)])).toEqual([m(0, 7), m(1, 2)]);
  });
});

describe('sourceFromRef', () => {
  it.each([
    ['no sourceRef', undefined],
    ['the orchestrator lists S3', { kind: 's3', bucket: 'b' }],
    ['items come from the API', { kind: 'submit' }],
  ])('needs no worker source: %s', (_why, ref) => {
    expect(sourceFromRef(ref)).toBeUndefined();
  });

  it.each([
    [
      'an unknown kind names the kinds there are',
      { kind: 'ftp' },
      /no source for kind "ftp": use one of sqs, kafka, s3-events/,
    ],
    ['no kind', { queueUrl: 'x' }, /sourceRef.kind: is required/],
    ['sqs without queueUrl', { kind: 'sqs' }, /sourceRef.queueUrl: .*kind: sqs needs queueUrl/],
    [
      'kafka without groupId',
      { kind: 'kafka', brokers: ['k:9092'], topic: 't' },
      /sourceRef.groupId: .*needs brokers, topic and groupId/,
    ],
    [
      's3-events with an unknown transport',
      { kind: 's3-events', transport: 'amqp' },
      /sourceRef.transport: unknown transport amqp/,
    ],
  ])('%s', (_why, ref, message) => {
    expect(() => sourceFromRef(ref)).toThrow(SourceRefError);
    expect(() => sourceFromRef(ref)).toThrow(message);
  });

  it('a kind of the caller’s own wins', async () => {
    const source = {
      kind: 'partner-api',
      receive: async () => [],
      ack: async () => {},
      close: async () => {},
    };
    expect(sourceFromRef({ kind: 'partner-api' }, { 'partner-api': () => source })).toBe(source);
  });
});
