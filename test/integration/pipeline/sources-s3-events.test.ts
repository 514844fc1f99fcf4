// The `s3-events` source against MinIO's own bucket notifications, delivered to a real
// Kafka-protocol broker (kfake) — MinIO cannot publish to SQS, and of the targets it has, a
// consumer-group topic is the one that keeps S3 + SQS's semantics (a durable backlog read with
// ack-after-accept, redelivered when unacknowledged); docs/adr/0121. Uploads become documents,
// overwrites replace them, deletes remove their chunks; killed workers lose nothing.
import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startKafkaServer, type KafkaServer } from '../../../src/dev/source-servers.js';
import { startS3Server, type S3Server } from '../../../src/dev/s3-server.js';
import { createKafkaSource } from '../../../packages/worker/src/sources/kafka.js';
import type { PipelineSource } from '../../../packages/worker/src/sources/source.js';
import { startPipelineHarness, type PipelineHarness } from './harness.js';
import { killScenario, pauseScenario, type Change, type SourceUnderTest } from './sources-harness.js';

/** One MinIO Kafka target (and topic) per scenario, so each scenario's group sees only its bucket. */
const TARGETS = ['KILL', 'PAUSE'] as const;
const topicOf = (target: string) => `layer-s3-events-${target.toLowerCase()}`;

let h: PipelineHarness;
let kafka: KafkaServer;
let minio: S3Server;
let s3: S3Client;
const probes: PipelineSource[] = [];

beforeAll(async () => {
  const log = (l: string) => process.stderr.write(`[s3-events] ${l}\n`);
  kafka = await startKafkaServer({ log });
  const admin = new Admin({ clientId: 's3-events-admin', bootstrapBrokers: [kafka.broker] });
  await admin.createTopics({ topics: TARGETS.map(topicOf), partitions: 3, replicas: 1 });
  await admin.close();
  // A MinIO of this file's own: notification targets are server configuration.
  minio = await startS3Server({
    log,
    env: {
      ...process.env,
      ...Object.fromEntries(
        TARGETS.flatMap((t) => [
          [`MINIO_NOTIFY_KAFKA_ENABLE_${t}`, 'on'],
          [`MINIO_NOTIFY_KAFKA_BROKERS_${t}`, kafka.broker],
          [`MINIO_NOTIFY_KAFKA_TOPIC_${t}`, topicOf(t)],
        ]),
      ),
    },
  });
  s3 = new S3Client({
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
  h = await startPipelineHarness();
});

afterAll(async () => {
  for (const p of probes) await p.close();
  s3?.destroy();
  await h?.close();
  await minio?.stop();
  await kafka?.stop();
});

/** A fresh bucket notifying `target`'s topic (MinIO ARN arn:minio:sqs::<id>:kafka). */
async function s3EventsSource(target: (typeof TARGETS)[number]): Promise<SourceUnderTest> {
  const bucket = `docs-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            QueueArn: `arn:minio:sqs::${target}:kafka`,
            Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
          },
        ],
      },
    }),
  );
  const sourceRef = {
    kind: 's3-events',
    transport: 'kafka',
    brokers: [kafka.broker],
    topic: topicOf(target),
    groupId: `g-${bucket}`,
    sessionTimeoutMs: 3_000,
    maxWaitMs: 500,
  };
  const probe = createKafkaSource({ ...sourceRef, kind: 'kafka' });
  probes.push(probe);
  return {
    sourceRef,
    workerEnv: {
      S3_ENDPOINT: minio.endpoint,
      S3_ACCESS_KEY: minio.accessKeyId,
      S3_SECRET_KEY: minio.secretAccessKey,
    },
    async send(changes: Change[]) {
      for (const c of changes) {
        if (c.deleted) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: c.key }));
        else await s3.send(new PutObjectCommand({ Bucket: bucket, Key: c.key, Body: c.text! }));
      }
    },
    backlog: () => probe.lag!(),
  };
}

describe('the s3-events source (MinIO notifications through Kafka)', () => {
  it('killed between receive and accept and between accept and acknowledge, converges with no lag', async () => {
    await killScenario(h, await s3EventsSource('KILL'), 's3ev-kill');
  });

  it('stops receiving while the Pipeline is paused', async () => {
    await pauseScenario(h, await s3EventsSource('PAUSE'), 's3ev-pause');
  });
});
