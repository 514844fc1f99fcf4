// The `sqs` source against a real SQS-compatible server (goaws, built from test/sqs-bin): worker
// processes killed between receive and accept and between accept and acknowledge lose nothing
// and write nothing twice, the queue ends empty, and a paused Pipeline's worker stops receiving.
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startSqsServer, type SqsServer } from '../../../src/dev/source-servers.js';
import { parseSqsSourceRef, sqsClientFor } from '../../../packages/worker/src/sources/sqs.js';
import { startPipelineHarness, type PipelineHarness } from './harness.js';
import { killScenario, pauseScenario, type Change, type SourceUnderTest } from './sources-harness.js';

let h: PipelineHarness;
let sqs: SqsServer;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqsServer({ log: (l) => process.stderr.write(`[sqs] ${l}\n`) });
  h = await startPipelineHarness();
});

afterAll(async () => {
  client?.destroy();
  await h?.close();
  await sqs?.stop();
});

/** A fresh queue with a 2 s visibility timeout, so a killed worker's messages return quickly. */
async function sqsSource(): Promise<SourceUnderTest> {
  const name = `q-${randomUUID().slice(0, 8)}`;
  const sourceRef = {
    kind: 'sqs',
    queueUrl: `${sqs.endpoint}/100010001000/${name}`,
    endpoint: sqs.endpoint,
    region: sqs.region,
    protocol: 'query',
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 2,
  };
  client ??= sqsClientFor(parseSqsSourceRef(sourceRef), { credentials: sqs.credentials });
  await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '2' } }));
  const attributes = async () =>
    (
      await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: sourceRef.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes ?? {};
  return {
    sourceRef,
    workerEnv: {
      AWS_ACCESS_KEY_ID: sqs.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sqs.credentials.secretAccessKey,
    },
    async send(changes: Change[]) {
      // One at a time: a key's versions must reach the queue in order.
      for (const c of changes)
        await client.send(
          new SendMessageBatchCommand({
            QueueUrl: sourceRef.queueUrl,
            Entries: [
              {
                Id: '0',
                MessageBody: JSON.stringify({
                  key: c.key,
                  version: c.version,
                  ...(c.deleted ? { deleted: true } : { payload: { text: c.text } }),
                }),
              },
            ],
          }),
        );
    },
    // goaws counts in-flight messages in ApproximateNumberOfMessages as well: every message not deleted.
    backlog: async () => Number((await attributes()).ApproximateNumberOfMessages ?? 0),
  };
}

describe('the sqs source', () => {
  it('killed between receive and accept and between accept and acknowledge, converges with the queue empty', async () => {
    await killScenario(h, await sqsSource(), 'sqs-kill');
  });

  it('stops receiving while the Pipeline is paused', async () => {
    await pauseScenario(h, await sqsSource(), 'sqs-pause');
  });
});
