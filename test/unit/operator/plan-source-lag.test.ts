// The source-lag KEDA trigger (ADR 0123): which sourceRefs get one, and what KEDA reads.
import { describe, expect, it } from 'vitest';
import { ScaledObject as KedaScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { sourceLagTrigger } from '../../../src/operator/plan-source-lag.js';
import { planWorkloadObjects } from '../../../src/operator/workload-objects.js';
import { operatorSettings } from '../../../src/operator/settings.js';
import { helmRules, pipeline } from './builders.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789/docs';

describe('sourceLagTrigger', () => {
  it.each([
    // No sourceRef, or a kind without a scaler: the queue-depth trigger alone.
    ['no sourceRef', undefined, undefined],
    ['the orchestrator lists S3 itself', { kind: 's3', bucket: 'b', kedaLag: true }, undefined],
    ['a partner API has no KEDA scaler', { kind: 'partner-api', kedaLag: true }, undefined],
    // Opt-in: the scaler needs credentials in the cluster.
    ['sqs without kedaLag', { kind: 'sqs', queueUrl: QUEUE }, undefined],
    ['kedaLag: false', { kind: 'sqs', queueUrl: QUEUE, kedaLag: false }, undefined],
    // A field the scaler needs is missing: no half-configured trigger.
    [
      'sqs with no region anywhere',
      { kind: 'sqs', queueUrl: 'http://127.0.0.1:4100/1/q', kedaLag: true },
      undefined,
    ],
    ['kafka without groupId', { kind: 'kafka', brokers: ['k:9092'], topic: 't', kedaLag: true }, undefined],
    [
      'sqs: region from the queue URL, in-flight messages count',
      { kind: 'sqs', queueUrl: QUEUE, kedaLag: true },
      {
        type: 'aws-sqs-queue',
        name: 'source-backlog',
        metricType: 'AverageValue',
        metadata: {
          queueURL: QUEUE,
          awsRegion: 'eu-west-1',
          queueLength: '10',
          scaleOnInFlight: 'true',
          activationQueueLength: '0',
        },
      },
    ],
    [
      'sqs: a local endpoint, a target and a TriggerAuthentication',
      {
        kind: 'sqs',
        queueUrl: 'http://127.0.0.1:4100/1/q',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4100',
        kedaLag: { targetPerReplica: 50, authenticationRef: 'aws-identity' },
      },
      {
        type: 'aws-sqs-queue',
        name: 'source-backlog',
        metricType: 'AverageValue',
        metadata: {
          queueURL: 'http://127.0.0.1:4100/1/q',
          awsRegion: 'us-east-1',
          queueLength: '50',
          scaleOnInFlight: 'true',
          activationQueueLength: '0',
          awsEndpoint: 'http://127.0.0.1:4100',
        },
        authenticationRef: { name: 'aws-identity', kind: 'TriggerAuthentication' },
      },
    ],
    [
      'kafka: the consumer group lag, counted from the earliest offset like the worker',
      { kind: 'kafka', brokers: ['a:9092', 'b:9092'], topic: 'docs', groupId: 'docs-pl', kedaLag: true },
      {
        type: 'kafka',
        name: 'source-backlog',
        metricType: 'AverageValue',
        metadata: {
          bootstrapServers: 'a:9092,b:9092',
          consumerGroup: 'docs-pl',
          topic: 'docs',
          lagThreshold: '10',
          activationLagThreshold: '0',
          offsetResetPolicy: 'earliest',
          allowIdleConsumers: 'false',
        },
      },
    ],
    [
      's3-events scales like its transport (sqs by default)',
      { kind: 's3-events', queueUrl: QUEUE, kedaLag: true },
      expect.objectContaining({ type: 'aws-sqs-queue' }),
    ],
    [
      's3-events over kafka',
      {
        kind: 's3-events',
        transport: 'kafka',
        brokers: ['k:9092'],
        topic: 'ev',
        groupId: 'g',
        kedaLag: true,
      },
      expect.objectContaining({ type: 'kafka' }),
    ],
    [
      'a bad target falls back to the default',
      { kind: 'sqs', queueUrl: QUEUE, kedaLag: { targetPerReplica: -3 } },
      expect.objectContaining({ metadata: expect.objectContaining({ queueLength: '10' }) }),
    ],
  ])('%s', (_why, ref, want) => {
    expect(sourceLagTrigger(ref as Record<string, unknown> | undefined)).toEqual(want);
  });
});

describe('the rendered ScaledObject of a source-fed Pipeline', () => {
  const triggersOf = (sourceRef: Record<string, unknown>) => {
    const w = pipeline({ spec: { sourceRef } });
    const p = planWorkloadObjects({ workload: w, infraRules: helmRules() }, operatorSettings());
    const so = p.apply.find((o) => o.kind === 'ScaledObject');
    expect(so).toBeDefined();
    // The published KEDA types accept the second trigger.
    expect(() => new KedaScaledObject(so).validate()).not.toThrow();
    return so!.kind === 'ScaledObject' ? so!.spec.triggers.map((t) => t.type) : [];
  };

  it('has the queue depth alone without kedaLag (the seed)', () => {
    expect(triggersOf({ kind: 'sqs', queueUrl: QUEUE })).toEqual(['metrics-api']);
  });

  it('adds the source backlog with kedaLag', () => {
    expect(triggersOf({ kind: 'sqs', queueUrl: QUEUE, kedaLag: true })).toEqual([
      'metrics-api',
      'aws-sqs-queue',
    ]);
  });
});
