// The `sqs` source (docs/adr/0121): long-polls an SQS queue for up to a batch, keeps received
// messages invisible while their items are in flight (ChangeMessageVisibility every half
// visibility timeout), and deletes them (DeleteMessageBatch) only after the Pipeline durably
// accepted their items. A message that never becomes an item is left alone: after the queue's
// maxReceiveCount SQS moves it to the dead-letter queue of its redrive policy.
import type * as SqsSdk from '@aws-sdk/client-sqs';
import type { Message, SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type * as AwsProtocols from '@aws-sdk/core/protocols';
import { z } from 'zod';
import type { PipelineItem } from '../contracts/pipeline.js';
import { itemFromBody } from './message-item.js';
import { SourceRefError, type PipelineSource, type SourceMessage } from './source.js';
import { lazyModule } from '../lazy-module.js';

const sqsSdk = lazyModule<typeof SqsSdk>('@aws-sdk/client-sqs');
const awsProtocols = lazyModule<typeof AwsProtocols>('@aws-sdk/core/protocols');

/** SQS's limit on messages per ReceiveMessage and per DeleteMessageBatch. */
const SQS_BATCH_MAX = 10;

export const sqsSourceRefSchema = z.object({
  kind: z.literal('sqs'),
  queueUrl: z.url(),
  /** Default: the region in the queue URL's host, else AWS_REGION. */
  region: z.string().min(1).optional(),
  /** An SQS-compatible endpoint (a local server); default: AWS's. */
  endpoint: z.url().optional(),
  /** Long poll per receive, 0–20 s (SQS's limit). */
  waitTimeSeconds: z.number().int().min(0).max(20).default(20),
  /** How long a received message stays invisible; extended while its item is in flight. */
  visibilityTimeoutSeconds: z.number().int().min(1).max(43_200).default(60),
  /**
   * Wire protocol: AWS's SDK speaks JSON 1.0; `query` is for SQS-compatible servers that only
   * speak the older query protocol (goaws, the local test server).
   */
  protocol: z.enum(['json', 'query']).default('json'),
});
export type SqsSourceRef = z.input<typeof sqsSourceRefSchema>;

export interface SqsSourceOptions {
  /** A client of your own (credentials, retries); default: one from the ref and the AWS env. */
  client?: SQSClient;
  /** How a message becomes an item (default: itemFromBody with the MessageId as fallback key). */
  toItem?: (message: Message) => PipelineItem | undefined;
}

/** The region in `https://sqs.<region>.amazonaws.com/...`, if the URL is AWS's. */
function regionOf(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1];
}

/** An SQSClient for a ref: its endpoint and region, and the query protocol when asked. */
export function sqsClientFor(
  ref: z.output<typeof sqsSourceRefSchema>,
  extra: SQSClientConfig = {},
): SQSClient {
  const region = ref.region ?? regionOf(ref.queueUrl) ?? process.env.AWS_REGION ?? 'us-east-1';
  const { SQSClient } = sqsSdk();
  return new SQSClient({
    region,
    ...(ref.endpoint ? { endpoint: ref.endpoint } : {}),
    ...(ref.protocol === 'query'
      ? {
          protocol: awsProtocols().AwsQueryProtocol,
          protocolSettings: {
            defaultNamespace: 'com.amazonaws.sqs',
            xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
            version: '2012-11-05',
          },
        }
      : {}),
    ...extra,
  } as SQSClientConfig);
}

export function parseSqsSourceRef(ref: unknown): z.output<typeof sqsSourceRefSchema> {
  const parsed = sqsSourceRefSchema.safeParse(ref);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SourceRefError(issue.path.join('.') || 'kind', `${issue.message} (kind: sqs needs queueUrl)`);
  }
  return parsed.data;
}

/**
 * The SQS source.
 *
 * @example
 * const source = createSqsSource({ kind: 'sqs', queueUrl: 'https://sqs.us-east-1.amazonaws.com/123/docs' });
 */
export function createSqsSource(refInput: unknown, options: SqsSourceOptions = {}): PipelineSource<string> {
  const ref = parseSqsSourceRef(refInput);
  const {
    ChangeMessageVisibilityCommand,
    DeleteMessageBatchCommand,
    GetQueueAttributesCommand,
    ReceiveMessageCommand,
  } = sqsSdk();
  const client = options.client ?? sqsClientFor(ref);
  const own = !options.client;
  const toItem = options.toItem ?? ((m: Message) => itemFromBody(m.Body, m.MessageId ?? 'unknown'));
  const toMessage = (m: Message): SourceMessage<string> => {
    try {
      const item = toItem(m);
      return item
        ? { item, receipt: m.ReceiptHandle! }
        : { invalid: 'toItem returned nothing', receipt: m.ReceiptHandle! };
    } catch (err) {
      return { invalid: err instanceof Error ? err.message : String(err), receipt: m.ReceiptHandle! };
    }
  };
  const setVisibility = (messages: SourceMessage<string>[], seconds: number) =>
    // One call per message: SQS-compatible servers without ChangeMessageVisibilityBatch work too.
    Promise.all(
      messages.map((m) =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: ref.queueUrl,
            ReceiptHandle: m.receipt,
            VisibilityTimeout: seconds,
          }),
        ),
      ),
    );
  return {
    kind: 'sqs',
    extendEveryMs: (ref.visibilityTimeoutSeconds * 1000) / 2,
    async receive(max, signal) {
      const out: SourceMessage<string>[] = [];
      // The first call long-polls; the rest take only what is already there, up to `max`.
      for (let first = true; out.length < max && !signal.aborted; first = false) {
        const want = Math.min(SQS_BATCH_MAX, max - out.length);
        const res = await client
          .send(
            new ReceiveMessageCommand({
              QueueUrl: ref.queueUrl,
              MaxNumberOfMessages: want,
              WaitTimeSeconds: first ? ref.waitTimeSeconds : 0,
              VisibilityTimeout: ref.visibilityTimeoutSeconds,
            }),
            { abortSignal: signal },
          )
          .catch((err: unknown) => {
            if (signal.aborted) return { Messages: [] as Message[] };
            throw err;
          });
        const got = res.Messages ?? [];
        out.push(...got.map(toMessage));
        if (got.length < want) break;
      }
      return out;
    },
    async ack(messages) {
      for (let i = 0; i < messages.length; i += SQS_BATCH_MAX) {
        const part = messages.slice(i, i + SQS_BATCH_MAX);
        const res = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: ref.queueUrl,
            Entries: part.map((m, j) => ({ Id: String(j), ReceiptHandle: m.receipt })),
          }),
        );
        // A failed delete only means a redelivery, which the Pipeline counts a duplicate.
        if (res.Failed?.length)
          console.warn(
            `sqs: ${res.Failed.length} delete(s) failed (redelivered, deduplicated): ${res.Failed[0]!.Message}`,
          );
      }
    },
    extend: (messages) => setVisibility(messages, ref.visibilityTimeoutSeconds).then(() => undefined),
    release: (messages) => setVisibility(messages, 0).then(() => undefined),
    async lag() {
      const res = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: ref.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const a = res.Attributes ?? {};
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async close() {
      if (own) client.destroy();
    },
  };
}
