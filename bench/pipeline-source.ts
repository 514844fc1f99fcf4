// Pipeline source benchmark: items/s from a real source to chunks in the store. Starts a Temporal
// dev server, the embedded store, the orchestrator worker and the source's real server (goaws for
// sqs, kfake for kafka, MinIO notifying kfake for s3-events), puts N documents into the source,
// then runs one SDK worker whose source is built from the sourceRef (ADR 0121) and times until
// every document's chunks are in the store and the source is drained. A measuring script: it
// asserts nothing about time; run it with nothing else on the machine. The last line is JSON.
//
// Usage: npm run bench:pipeline-source -- --source sqs|kafka|s3-events [--documents N]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Admin, Producer } from '@platformatic/kafka';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startOrUpdatePipeline } from '../src/client/pipeline-client.js';
import { startTemporalDevServer } from '../src/dev/temporal-server.js';
import { startS3Server } from '../src/dev/s3-server.js';
import { startKafkaServer, startSqsServer } from '../src/dev/source-servers.js';
import { startStoreServer } from '../src/store/server.js';
import { bundleOrchestratorWorkflows, createOrchestratorWorker } from '../src/workers/orchestrator-worker.js';
import { pipelineTaskQueue } from '../packages/worker/src/contracts/names.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { runPipelineWorker } from '../packages/worker/src/pipeline-worker.js';
import { sourceFromRef } from '../packages/worker/src/sources/from-source-ref.js';
import { parseSqsSourceRef, sqsClientFor } from '../packages/worker/src/sources/sqs.js';

const { values } = parseArgs({
  options: { source: { type: 'string', default: 'sqs' }, documents: { type: 'string', default: '500' } },
});
const kind = values.source!;
if (!['sqs', 'kafka', 's3-events'].includes(kind))
  throw new Error(`--source ${kind}: use sqs, kafka or s3-events`);
const documents = Number(values.documents);
if (!Number.isInteger(documents) || documents < 1)
  throw new Error('--documents must be a positive whole number');

const log = (line: string) => process.stderr.write(`${line}\n`);
const stops: (() => Promise<unknown>)[] = [];
const text = (i: number) => Array.from({ length: 4 }, (_, p) => `document ${i} paragraph ${p}`).join('\n\n');

/** Starts the source's server, fills it with the corpus and returns the sourceRef and worker extras. */
async function prepareSource(): Promise<{ sourceRef: Record<string, unknown>; s3?: S3Client }> {
  if (kind === 'sqs') {
    const sqs = await startSqsServer({ log });
    stops.push(sqs.stop);
    const name = `bench-${randomUUID().slice(0, 8)}`;
    const sourceRef = {
      kind: 'sqs',
      queueUrl: `${sqs.endpoint}/100010001000/${name}`,
      endpoint: sqs.endpoint,
      region: sqs.region,
      protocol: 'query',
      waitTimeSeconds: 1,
    };
    process.env.AWS_ACCESS_KEY_ID ??= sqs.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= sqs.credentials.secretAccessKey;
    const client = sqsClientFor(parseSqsSourceRef(sourceRef));
    await client.send(new CreateQueueCommand({ QueueName: name }));
    for (let i = 0; i < documents; i += 10)
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: sourceRef.queueUrl,
          Entries: Array.from({ length: Math.min(10, documents - i) }, (_, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({ key: `doc-${i + j}`, payload: { text: text(i + j) } }),
          })),
        }),
      );
    client.destroy();
    return { sourceRef };
  }
  const kafka = await startKafkaServer({ log });
  stops.push(kafka.stop);
  const topic = `bench-${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: [kafka.broker] });
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.close();
  const kafkaRef = { brokers: [kafka.broker], topic, groupId: `g-${topic}`, maxWaitMs: 500 };
  if (kind === 'kafka') {
    const producer = new Producer({ clientId: 'bench', bootstrapBrokers: [kafka.broker] });
    for (let i = 0; i < documents; i += 100)
      await producer.send({
        messages: Array.from({ length: Math.min(100, documents - i) }, (_, j) => ({
          topic,
          key: Buffer.from(`doc-${i + j}`),
          value: Buffer.from(JSON.stringify({ key: `doc-${i + j}`, payload: { text: text(i + j) } })),
        })),
      });
    await producer.close();
    return { sourceRef: { kind: 'kafka', ...kafkaRef } };
  }
  const minio = await startS3Server({
    log,
    env: {
      ...process.env,
      MINIO_NOTIFY_KAFKA_ENABLE_BENCH: 'on',
      MINIO_NOTIFY_KAFKA_BROKERS_BENCH: kafka.broker,
      MINIO_NOTIFY_KAFKA_TOPIC_BENCH: topic,
    },
  });
  stops.push(minio.stop);
  const s3 = new S3Client({
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'bench',
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::BENCH:kafka', Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  for (let i = 0; i < documents; i++)
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `doc-${i}`, Body: text(i) }));
  return { sourceRef: { kind: 's3-events', transport: 'kafka', ...kafkaRef }, s3 };
}

async function main() {
  const temporal = await startTemporalDevServer({ log });
  stops.push(temporal.stop);
  const storeServer = await startStoreServer({ memory: true });
  stops.push(() => storeServer.close());
  const store = createStoreClient({ baseUrl: storeServer.url, apiKey: 'bench' });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const taskQueue = `bench-source-${randomUUID().slice(0, 8)}`;
  const orchestrator = await createOrchestratorWorker({
    connection: nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: await bundleOrchestratorWorkflows(),
    storeFor: () => store,
  });
  const orchestratorRun = orchestrator.run();
  const { sourceRef, s3 } = await prepareSource();
  const spec = {
    k8sNamespace: 'bench',
    name: `source-${kind}`,
    targetNamespace: `bench-${randomUUID().slice(0, 8)}`,
    sourceRef,
    worker: { dispatch: 'pull' as const, batchSize: 64, timeoutSeconds: 60 },
    schedule: { leaseSeconds: 60, maxInFlightBatches: 8, maxPendingItems: 10_000 },
  };
  await startOrUpdatePipeline(client, spec, { taskQueue });
  const probe = sourceFromRef(sourceRef)!;
  const controller = new AbortController();
  const load = loadavg()[0]!;
  const started = Date.now();
  const worker = runPipelineWorker({
    pipeline: { k8sNamespace: spec.k8sNamespace, name: spec.name },
    taskQueue: pipelineTaskQueue(spec.k8sNamespace, spec.name),
    temporal: { connection: nativeConnection, namespace: temporal.namespace, client },
    store,
    env: { LAYER_SOURCE_REF: JSON.stringify(sourceRef) },
    batchSize: 64,
    concurrency: 8,
    ...(s3 ? { s3 } : {}),
    signal: controller.signal,
    process: async (items, ctx) =>
      Promise.all(
        items.map(async (i) => ({
          itemKey: i.key,
          chunks: (i.s3
            ? (await ctx.readObject(i)).toString('utf8')
            : String((i.payload as { text: string }).text)
          )
            .split('\n\n')
            .map((t) => ({ text: t })),
        })),
      ),
  });
  const want = documents * 4;
  for (;;) {
    const rows = (await store.exists(spec.targetNamespace)) ? await store.countRows(spec.targetNamespace) : 0;
    if (rows >= want && (await probe.lag!()) === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  controller.abort();
  await worker;
  await probe.close();
  orchestrator.shutdown();
  await orchestratorRun;
  await nativeConnection.close();
  await connection.close();
  s3?.destroy();
  log(
    `${kind}: ${documents} documents (${want} chunks) from the source to the store in ${seconds.toFixed(1)} s`,
  );
  log(
    `${kind}: ${(documents / seconds).toFixed(1)} items/s (1-minute load average at start ${load.toFixed(2)})`,
  );
  console.log(
    JSON.stringify({ source: kind, documents, chunks: want, seconds, items_per_second: documents / seconds }),
  );
}

try {
  await main();
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
}
