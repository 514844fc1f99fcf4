// The `s3-events` source (docs/adr/0121): S3 event notifications, read from the queue they are
// delivered to — SQS on AWS (S3 → SQS, `transport: sqs`, the default) or Kafka (MinIO → Kafka,
// `transport: kafka`). Each record becomes an item: ObjectCreated → the object (key, version from
// its ETag and the event's sequencer, `s3` so `readObject` fetches it), ObjectRemoved → a delete
// of that key's document chunks. The transport's own source does the receiving and acknowledging,
// so the ack-after-accept rule is the same; a notification with several records is acknowledged
// once all of its records' items were accepted (they are in the same batch).
import type { PipelineItem } from '../contracts/pipeline.js';
import { createKafkaSource } from './kafka.js';
import { SourceRefError, type PipelineSource, type SourceMessage } from './source.js';
import { createSqsSource } from './sqs.js';

interface S3EventRecord {
  eventName?: string;
  eventTime?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; eTag?: string; size?: number; sequencer?: string; versionId?: string };
  };
}

/** S3 URL-encodes object keys in notifications, spaces as `+`. */
function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * The items an S3 event notification stands for, in record order. A test event (`s3:TestEvent`)
 * or a notification without records stands for none. AWS names events `ObjectCreated:Put`, MinIO
 * `s3:ObjectCreated:Put`; both are read.
 *
 * @example
 * itemsFromS3Event({ Records: [{ eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'a.txt', sequencer: '01' } } }] });
 * // [{ key: 'a.txt', version: 'deleted.01', deleted: true }]
 */
export function itemsFromS3Event(event: unknown): PipelineItem[] {
  if (!event || typeof event !== 'object') throw new Error('an S3 event notification is a JSON object');
  const records = (event as { Records?: unknown }).Records;
  if (records === undefined) return []; // s3:TestEvent and the like
  if (!Array.isArray(records)) throw new Error('Records must be an array');
  const items: PipelineItem[] = [];
  for (const r of records as S3EventRecord[]) {
    const name = (r.eventName ?? '').replace(/^s3:/, '');
    const bucket = r.s3?.bucket?.name;
    const rawKey = r.s3?.object?.key;
    if (!bucket || !rawKey) throw new Error(`record ${name || '(no eventName)'} names no bucket or key`);
    const key = decodeKey(rawKey);
    // The sequencer orders events of one key (S3 and MinIO set it); the time is a fallback.
    const seq = r.s3?.object?.sequencer ?? r.eventTime ?? '';
    if (name.startsWith('ObjectCreated:')) {
      const etag = (r.s3?.object?.eTag ?? '').replace(/"/g, '');
      // Redelivered events keep their version (a no-op); a new upload of the same bytes gets a new one.
      const version = [etag, seq].filter(Boolean).join('.');
      items.push({
        key,
        ...(version ? { version } : {}),
        s3: { bucket, key, etag, size: r.s3?.object?.size ?? 0 },
      });
    } else if (name.startsWith('ObjectRemoved:')) {
      items.push({ key, version: `deleted.${seq}`, deleted: true });
    }
    // Other events (restore, replication, tagging) change no document.
  }
  return items;
}

export interface S3EventsSourceRef {
  kind: 's3-events';
  /** Where the notifications are delivered: `sqs` (AWS: S3 → SQS) or `kafka` (MinIO → Kafka). */
  transport?: 'sqs' | 'kafka';
  [field: string]: unknown;
}

/**
 * The S3 event notification source: the `sqs` or `kafka` source underneath, each notification
 * expanded into its records' items.
 *
 * @example
 * const source = createS3EventsSource({ kind: 's3-events', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/uploads' });
 */
export function createS3EventsSource(refInput: unknown): PipelineSource {
  const ref = (refInput ?? {}) as S3EventsSourceRef;
  const transport = ref.transport ?? 'sqs';
  // The transport reads bodies only; this source turns them into items.
  const raw = (body: string | undefined) => ({ key: 'notification', payload: body ?? '' });
  let inner: PipelineSource;
  if (transport === 'sqs') inner = createSqsSource({ ...ref, kind: 'sqs' }, { toItem: (m) => raw(m.Body) });
  else if (transport === 'kafka')
    inner = createKafkaSource({ ...ref, kind: 'kafka' }, { toItem: (m) => raw(m.value?.toString('utf8')) });
  else throw new SourceRefError('transport', `unknown transport ${String(transport)}: use sqs or kafka`);
  // A notification's receipt is acknowledged once, however many items it held.
  const uniqueReceipts = (messages: SourceMessage[]) => {
    const seen = new Set<unknown>();
    return messages.filter((m) => !seen.has(m.receipt) && seen.add(m.receipt));
  };
  return {
    kind: 's3-events',
    extendEveryMs: inner.extendEveryMs,
    async receive(max, signal) {
      const out: SourceMessage[] = [];
      const empty: SourceMessage[] = [];
      for (const m of await inner.receive(max, signal)) {
        let items: PipelineItem[];
        try {
          items = itemsFromS3Event(JSON.parse(String(m.item?.payload)));
        } catch (err) {
          out.push({
            invalid: `not an S3 event notification: ${(err as Error).message}`,
            receipt: m.receipt,
          });
          continue;
        }
        if (items.length === 0) empty.push(m);
        for (const item of items) out.push({ item, receipt: m.receipt });
      }
      // Nothing to make durable (a test event): acknowledged at once.
      if (empty.length) await inner.ack(empty);
      return out;
    },
    ack: (messages) => inner.ack(uniqueReceipts(messages)),
    ...(inner.reject ? { reject: (messages) => inner.reject!(uniqueReceipts(messages)) } : {}),
    ...(inner.extend ? { extend: (messages) => inner.extend!(uniqueReceipts(messages)) } : {}),
    ...(inner.release ? { release: (messages) => inner.release!(uniqueReceipts(messages)) } : {}),
    ...(inner.lag ? { lag: () => inner.lag!() } : {}),
    close: () => inner.close(),
  };
}
