// The one interface a Pipeline source implements (docs/adr/0121-pipeline-sources.md). A source
// hands out a bounded batch of messages, each carrying the Pipeline item it stands for, and
// removes them from the upstream system only when told to — after the Pipeline's workflow has
// durably accepted their items. The loop that drives it (run-source.ts) owns the order: receive →
// submit (durable) → acknowledge, and it stops receiving while the Pipeline holds (paused,
// degraded, queue full), so nothing is buffered beyond one batch.
import type { PipelineItem } from '../contracts/pipeline.js';

/** One message from a source: the item it stands for and the source's own handle on it. */
export interface SourceMessage<R = unknown> {
  /** The Pipeline item, or undefined when the message cannot be one (see `invalid`). */
  item?: PipelineItem;
  /** Why the message is not an item (bad JSON, no key): the loop hands it to `reject`. */
  invalid?: string;
  /** The source's handle: an SQS receipt handle, a Kafka message (for its offset), ... */
  receipt: R;
}

/**
 * A source of Pipeline items: SQS, Kafka, S3 event notifications, a partner API.
 *
 * @example
 * // A partner API that pages through changed records and remembers a cursor once accepted.
 * const partner: PipelineSource<string> = {
 *   kind: 'partner-api',
 *   async receive(max) {
 *     const page = await api.changes({ after: cursor, limit: max });
 *     return page.records.map((r) => ({ item: { key: r.id, version: r.rev, payload: r }, receipt: page.next }));
 *   },
 *   async ack(messages) { cursor = messages.at(-1)?.receipt ?? cursor; await saveCursor(cursor); },
 *   async close() {},
 * };
 */
export interface PipelineSource<R = unknown> {
  /** The sourceRef kind this source serves (for logs and metrics). */
  readonly kind: string;
  /**
   * Up to `max` messages. Waits at most the source's long poll and returns [] when idle; holds no
   * more than one batch of its own beyond what it returns (backpressure reaches the upstream).
   */
  receive(max: number, signal: AbortSignal): Promise<SourceMessage<R>[]>;
  /** Messages whose items the Pipeline durably accepted: remove them from the upstream. */
  ack(messages: SourceMessage<R>[]): Promise<void>;
  /**
   * Messages that cannot become items. Default: left alone, so the upstream's own dead-letter
   * policy applies (SQS redrive after maxReceiveCount).
   */
  reject?(messages: SourceMessage<R>[]): Promise<void>;
  /** Keeps received messages from being redelivered while they are in flight (SQS visibility). */
  extend?(messages: SourceMessage<R>[]): Promise<void>;
  /** How often `extend` is called while a batch is in flight. */
  readonly extendEveryMs?: number;
  /** Hands received, unaccepted messages back at shutdown so another worker gets them soon. */
  release?(messages: SourceMessage<R>[]): Promise<void>;
  /** Messages in the upstream not yet acknowledged (SQS queue depth, Kafka consumer lag). */
  lag?(): Promise<number>;
  close(): Promise<void>;
}

/** Where in the receive → accept → acknowledge order the loop is (test and metric hooks). */
export interface SourceHooks {
  /** After a batch is received, before its items are submitted. */
  received?(messages: SourceMessage[]): Promise<void> | void;
  /** After the Pipeline accepted the batch's items, before the source acknowledges them. */
  accepted?(messages: SourceMessage[]): Promise<void> | void;
  /** After the source acknowledged the batch. */
  acknowledged?(messages: SourceMessage[]): Promise<void> | void;
  /** The loop stopped receiving for `reason` (paused, degraded, queue full). */
  holding?(reason: string): void;
}

/** A sourceRef the SDK cannot build a source from: names the field and the fix. */
export class SourceRefError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`sourceRef.${field}: ${message}`);
    this.name = 'SourceRefError';
  }
}
