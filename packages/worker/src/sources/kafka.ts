// The `kafka` source (docs/adr/0121): a consumer group member (@platformatic/kafka, pure JS) that
// reads from the group's committed offsets, hands out up to a batch of buffered messages, and
// commits a partition's offset (last message + 1) only after the Pipeline durably accepted the
// items up to it. Nothing is auto-committed. A rebalance moves a partition to another member,
// which starts at the last commit: messages this member received but had not committed are read
// again there — duplicates the Pipeline drops — and a commit that fails because the partition
// moved is harmless for the same reason. Backpressure: the stream buffers at most highWaterMark
// messages and stops fetching while the loop does not read.
import type * as KafkaClient from '@platformatic/kafka';
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { z } from 'zod';
import type { PipelineItem } from '../contracts/pipeline.js';
import { itemFromBody } from './message-item.js';
import { SourceRefError, type PipelineSource, type SourceMessage } from './source.js';
import { lazyModule } from '../lazy-module.js';

const kafkaClient = lazyModule<typeof KafkaClient>('@platformatic/kafka');

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export const kafkaSourceRefSchema = z.object({
  kind: z.literal('kafka'),
  /** Bootstrap brokers, host:port. */
  brokers: z.array(z.string().min(1)).min(1),
  topic: z.string().min(1),
  /** The consumer group: every replica of the worker joins it and gets a share of the partitions. */
  groupId: z.string().min(1),
  /** Longest wait for the first message of a batch (the fetch's long poll). */
  maxWaitMs: z.number().int().positive().default(1_000),
  /** Messages buffered ahead of the loop at most. */
  highWaterMark: z.number().int().positive().default(256),
  clientId: z.string().min(1).optional(),
  /** Session timeout: how long a dead member keeps its partitions before a rebalance. */
  sessionTimeoutMs: z.number().int().positive().default(10_000),
  /** A member that reads nothing this long while its partitions have lag restarts its consumer. */
  stallRestartMs: z.number().int().positive().default(10_000),
});
export type KafkaSourceRef = z.input<typeof kafkaSourceRefSchema>;

export interface KafkaSourceOptions {
  /** How a message becomes an item (default: itemFromBody with `topic/partition/offset` as fallback key). */
  toItem?: (message: KafkaMessage) => PipelineItem | undefined;
}

function parseKafkaSourceRef(ref: unknown): z.output<typeof kafkaSourceRefSchema> {
  const parsed = kafkaSourceRefSchema.safeParse(ref);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SourceRefError(
      issue.path.join('.') || 'kind',
      `${issue.message} (kind: kafka needs brokers, topic and groupId)`,
    );
  }
  return parsed.data;
}

/** `topic/partition/offset`: a message's place, its fallback key. */
function kafkaMessageId(m: { topic: string; partition: number; offset: bigint }): string {
  return `${m.topic}/${m.partition}/${m.offset}`;
}

/** The last message of each partition among `messages` (committing it covers the earlier ones). */
export function lastPerPartition<M extends { topic: string; partition: number; offset: bigint }>(
  messages: M[],
): M[] {
  const last = new Map<string, M>();
  for (const m of messages) {
    const k = `${m.topic}/${m.partition}`;
    const seen = last.get(k);
    if (!seen || seen.offset < m.offset) last.set(k, m);
  }
  return [...last.values()];
}

/** The broker's GROUP_ID_NOT_FOUND, possibly inside the client's AggregateError. */
function isGroupNotFound(err: unknown): boolean {
  const errors = err instanceof AggregateError ? err.errors : [err];
  return errors.some((e) => (e as { apiId?: string } | null)?.apiId === 'GROUP_ID_NOT_FOUND');
}

/**
 * The Kafka source.
 *
 * @example
 * const source = createKafkaSource({ kind: 'kafka', brokers: ['kafka:9092'], topic: 'docs', groupId: 'docs-pipeline' });
 */
export function createKafkaSource(
  refInput: unknown,
  options: KafkaSourceOptions = {},
): PipelineSource<KafkaMessage> {
  const ref = parseKafkaSourceRef(refInput);
  const newConsumer = () =>
    new (kafkaClient().Consumer)({
      groupId: ref.groupId,
      clientId: ref.clientId ?? `layer-${ref.groupId}`,
      bootstrapBrokers: ref.brokers,
      sessionTimeout: ref.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(ref.sessionTimeoutMs / 5)),
      maxWaitTime: ref.maxWaitMs,
    });
  let consumer = newConsumer();
  // Lag is read by a client that never joins the group, so a probe takes no partitions.
  let probe: Consumer | undefined;
  const toItem =
    options.toItem ??
    ((m: KafkaMessage) =>
      itemFromBody(m.value?.toString('utf8'), m.key?.length ? m.key.toString('utf8') : kafkaMessageId(m)));
  let stream: Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> | undefined;
  // A stream that failed reads nothing more: the next receive throws, and the worker restarts.
  let failed: unknown;
  const started = () =>
    (stream ??= consumer
      .consume({
        topics: [ref.topic],
        // Start where the group committed; a new group starts at the beginning (nothing skipped).
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
        highWaterMark: ref.highWaterMark,
        sessionTimeout: ref.sessionTimeoutMs,
        heartbeatInterval: Math.max(100, Math.floor(ref.sessionTimeoutMs / 5)),
      })
      .then((s) => s.on('error', (err: unknown) => (failed ??= err))));
  /** Committed offset and end offset of `partitions`, read without joining the group. */
  const offsets = async (partitions?: number[]) => {
    probe ??= newConsumer();
    const end = (await probe.listOffsets({ topics: [ref.topic] })).get(ref.topic) ?? [];
    const wanted = partitions ?? end.map((_, p) => p);
    const committed = await probe
      .listCommittedOffsets({ topics: [{ topic: ref.topic, partitions: wanted }] })
      .catch((err: unknown) => {
        // A group no member has joined yet has committed nothing: all of the topic is lag.
        if (isGroupNotFound(err)) return new Map<string, bigint[]>();
        throw err;
      });
    const done = committed.get(ref.topic) ?? [];
    return wanted.map((p) => ({ end: end[p] ?? 0n, at: (done[p] ?? -1n) < 0n ? 0n : done[p]! }));
  };
  // The watchdog: a member that reads nothing for stallRestartMs while its own partitions have
  // records past the group's commit restarts its consumer, which rejoins and fetches from the
  // commit. Seen against kfake after rebalances (docs/adr/0121): a partition's fetch stopped
  // returning new records. Safe because nothing is committed before acceptance.
  let lastProgressAt = Date.now();
  const restartIfStalled = async () => {
    if (Date.now() - lastProgressAt < ref.stallRestartMs) return;
    lastProgressAt = Date.now();
    const owned = (consumer.assignments ?? [])
      .filter((a) => a.topic === ref.topic)
      .flatMap((a) => a.partitions);
    if (owned.length === 0) return;
    if (!(await offsets(owned)).some((o) => o.end > o.at)) return;
    console.warn(`kafka: ${ref.topic} has records past the commit but none arrived; restarting the consumer`);
    const old = stream;
    stream = undefined;
    await (await old)?.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
    consumer = newConsumer();
  };
  const toMessage = (m: KafkaMessage): SourceMessage<KafkaMessage> => {
    try {
      const item = toItem(m);
      return item ? { item, receipt: m } : { invalid: 'toItem returned nothing', receipt: m };
    } catch (err) {
      return { invalid: err instanceof Error ? err.message : String(err), receipt: m };
    }
  };
  const commit = async (messages: SourceMessage<KafkaMessage>[]) => {
    for (const m of lastPerPartition(messages.map((x) => x.receipt))) {
      try {
        await m.commit();
      } catch (err) {
        // The partition moved in a rebalance: its new owner reads from the last commit again.
        console.warn(
          `kafka: commit of ${kafkaMessageId(m)} failed (redelivered, deduplicated): ${String(err)}`,
        );
      }
    }
  };
  return {
    kind: 'kafka',
    async receive(max, signal) {
      const s = await started();
      if (failed) throw failed;
      const out: SourceMessage<KafkaMessage>[] = [];
      const deadline = Date.now() + ref.maxWaitMs;
      while (out.length < max && !signal.aborted) {
        const m = s.read() as KafkaMessage | null;
        if (m) {
          out.push(toMessage(m));
          continue;
        }
        // Take what is buffered; wait only for the first message of a batch.
        if (out.length > 0 || Date.now() >= deadline || s.destroyed) break;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            s.off('readable', done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, Math.max(1, deadline - Date.now()));
          s.once('readable', done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
      if (out.length > 0) lastProgressAt = Date.now();
      else if (!signal.aborted) await restartIfStalled();
      return out;
    },
    ack: commit,
    // Kafka has no dead-letter queue: a message that is no item is logged and committed past,
    // or its partition would stop here for good.
    reject: commit,
    async lag() {
      return (await offsets()).reduce((sum, o) => sum + Number(o.end - o.at), 0);
    },
    async close() {
      if (stream) await (await stream).close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
      await probe?.close(true).catch(() => undefined);
    },
  };
}
