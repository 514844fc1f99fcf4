// A source-fed Pipeline's second KEDA trigger (docs/adr/0123-source-lag-in-keda.md): the backlog
// still in its source — SQS's ApproximateNumberOfMessages (aws-sqs-queue scaler) or the consumer
// group's lag (kafka scaler) — next to the orchestrator's queue depth. KEDA scales on the larger
// of the two, so a paused-for-capacity source (the worker stops receiving when the Pipeline's
// queue is full) still asks for replicas. Opt-in with `sourceRef.kedaLag`, because the scaler
// needs credentials in the cluster (an AWS identity for SQS) that a TriggerAuthentication names.
import type { ScaledObjectTrigger } from './plan-types.js';

/** `sourceRef.kedaLag`: the lag trigger's target and the TriggerAuthentication KEDA uses. */
export interface SourceLagOptions {
  /** Backlog per replica KEDA aims for (SQS messages / Kafka lag); default 10. */
  targetPerReplica?: number;
  /** A TriggerAuthentication in the Pipeline's namespace (AWS identity, Kafka SASL/TLS). */
  authenticationRef?: string;
}

const DEFAULT_TARGET = 10;

function options(ref: Record<string, unknown>): SourceLagOptions | undefined {
  const o = ref.kedaLag;
  if (o === undefined || o === false) return undefined;
  if (o === true) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  return o as SourceLagOptions;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The region in an AWS queue URL (`https://sqs.<region>.amazonaws.com/...`). */
function regionOf(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(queueUrl)?.[1];
}

/**
 * The KEDA trigger for the backlog in `sourceRef`'s source, or undefined when the kind has no
 * scaler (s3, submit, a partner API), `kedaLag` is absent, or a field the scaler needs is missing.
 * `s3-events` scales like its transport (sqs by default, kafka).
 */
export function sourceLagTrigger(
  sourceRef: Record<string, unknown> | undefined,
): ScaledObjectTrigger | undefined {
  if (!sourceRef) return undefined;
  const opts = options(sourceRef);
  if (!opts) return undefined;
  const kind = sourceRef.kind === 's3-events' ? (str(sourceRef.transport) ?? 'sqs') : sourceRef.kind;
  const target = String(
    Number.isInteger(opts.targetPerReplica) && opts.targetPerReplica! > 0
      ? opts.targetPerReplica
      : DEFAULT_TARGET,
  );
  const auth = str(opts.authenticationRef)
    ? { authenticationRef: { name: opts.authenticationRef!, kind: 'TriggerAuthentication' as const } }
    : {};
  if (kind === 'sqs') {
    const queueURL = str(sourceRef.queueUrl);
    const region = str(sourceRef.region) ?? (queueURL ? regionOf(queueURL) : undefined);
    if (!queueURL || !region) return undefined;
    const endpoint = str(sourceRef.endpoint);
    return {
      type: 'aws-sqs-queue',
      name: 'source-backlog',
      metricType: 'AverageValue',
      metadata: {
        queueURL,
        awsRegion: region,
        queueLength: target,
        // Messages in flight (received, not yet deleted) are backlog too: deletion waits for acceptance.
        scaleOnInFlight: 'true',
        activationQueueLength: '0',
        ...(endpoint ? { awsEndpoint: endpoint } : {}),
      },
      ...auth,
    };
  }
  if (kind === 'kafka') {
    const brokers = Array.isArray(sourceRef.brokers) ? sourceRef.brokers.filter((b) => str(b)) : [];
    const topic = str(sourceRef.topic);
    const group = str(sourceRef.groupId);
    if (brokers.length === 0 || !topic || !group) return undefined;
    return {
      type: 'kafka',
      name: 'source-backlog',
      metricType: 'AverageValue',
      metadata: {
        bootstrapServers: brokers.join(','),
        consumerGroup: group,
        topic,
        lagThreshold: target,
        activationLagThreshold: '0',
        // The worker starts a new group at the earliest offset: count the lag the same way.
        offsetResetPolicy: 'earliest',
        // More replicas than partitions would idle: KEDA caps at the partition count.
        allowIdleConsumers: 'false',
      },
      ...auth,
    };
  }
  return undefined;
}
