// The `kafka` source against a real Kafka-protocol broker (franz-go's kfake, built from
// test/kafka-bin): worker processes of one consumer group killed between receive and accept and
// between accept and acknowledge lose nothing and write nothing twice, the group ends with no
// lag (every offset committed), and a paused Pipeline's worker stops receiving.
import { randomUUID } from 'node:crypto';
import { Admin, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startKafkaServer, type KafkaServer } from '../../../src/dev/source-servers.js';
import { createKafkaSource } from '../../../packages/worker/src/sources/kafka.js';
import type { PipelineSource } from '../../../packages/worker/src/sources/source.js';
import { startPipelineHarness, type PipelineHarness } from './harness.js';
import { killScenario, pauseScenario, type Change, type SourceUnderTest } from './sources-harness.js';

let h: PipelineHarness;
let kafka: KafkaServer;
let producer: Producer;
const probes: PipelineSource[] = [];

beforeAll(async () => {
  kafka = await startKafkaServer({ log: (l) => process.stderr.write(`[kafka] ${l}\n`) });
  producer = new Producer({ clientId: 'sources-test', bootstrapBrokers: [kafka.broker] });
  h = await startPipelineHarness();
});

afterAll(async () => {
  for (const p of probes) await p.close();
  await producer?.close();
  await h?.close();
  await kafka?.stop();
});

/** A fresh topic of 3 partitions and group; the message key is the item key (one partition per key: in order). */
async function kafkaSource(): Promise<SourceUnderTest> {
  const topic = `docs-${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: 'sources-test-admin', bootstrapBrokers: [kafka.broker] });
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.close();
  // A short session: a killed member's partitions move to the next one within seconds.
  const sourceRef = {
    kind: 'kafka',
    brokers: [kafka.broker],
    topic,
    groupId: `g-${topic}`,
    sessionTimeoutMs: 3_000,
    maxWaitMs: 500,
  };
  // Reads committed offsets without joining the group.
  const probe = createKafkaSource(sourceRef);
  probes.push(probe);
  return {
    sourceRef,
    async send(changes: Change[]) {
      await producer.send({
        messages: changes.map((c) => ({
          topic,
          key: Buffer.from(c.key),
          value: Buffer.from(
            JSON.stringify({
              key: c.key,
              version: c.version,
              ...(c.deleted ? { deleted: true } : { payload: { text: c.text } }),
            }),
          ),
        })),
      });
    },
    backlog: () => probe.lag!(),
  };
}

describe('the kafka source', () => {
  it('killed between receive and accept and between accept and acknowledge, converges with no consumer lag', async () => {
    await killScenario(h, await kafkaSource(), 'kafka-kill');
  });

  it('stops receiving while the Pipeline is paused', async () => {
    await pauseScenario(h, await kafkaSource(), 'kafka-pause');
  });
});
