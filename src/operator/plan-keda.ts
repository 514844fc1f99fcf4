// The KEDA objects for an autoscaled workload: a ScaledObject whose metrics-api trigger polls the
// orchestrator's queue-depth endpoint (no Prometheus needed), and a TriggerAuthentication carrying
// the worker bearer Secret when the API requires one. Contract: docs/adr/0003-keda-metrics-api-contract.md.
import type { Workload } from '../api/parse.js';
import {
  QUEUE_DEPTH_VALUE_LOCATION,
  SCALER_METADATA,
  queueDepthMetric,
  queueDepthUrl,
} from '../contracts/queue-depth.js';
import type {
  ObjectMetadata,
  ScaledObject,
  ScaledObjectTrigger,
  TriggerAuthentication,
} from './plan-types.js';
import { workerGraceSeconds } from './plan-pod.js';
import { workerBearerSecret, type OperatorSettings } from './settings.js';
import { sourceLagTrigger } from './plan-source-lag.js';

/** metrics-api auth parameter KEDA reads the bearer token from. */
const BEARER_PARAMETER = 'bearerToken';

/** TriggerAuthentication for the bearer, or undefined when inbound auth is open. */
export function triggerAuthentication(
  meta: ObjectMetadata,
  settings: OperatorSettings,
): TriggerAuthentication | undefined {
  const bearer = workerBearerSecret(settings);
  // The push scaler's gRPC has no bearer: KEDA reaches it inside the cluster (docs/adr/0131).
  if (bearer === undefined || settings.keda.scalerAddress) return undefined;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: meta,
    spec: { secretTargetRef: [{ parameter: BEARER_PARAMETER, name: bearer.name, key: bearer.key }] },
  };
}

/** Largest stabilization window and policy period the HPA API accepts. */
const HPA_MAX_WINDOW_SECONDS = 3600;
const HPA_MAX_PERIOD_SECONDS = 1800;

/**
 * How the HPA scales a workload in (docs/adr/0103). The queue depth counts leased batches, so it
 * cannot read low while claims are out; a low reading must also last as long as KEDA's cooldown
 * before 1 → 0 (stabilization window), and replicas go one at a time, no faster than a pod's
 * grace period, so each stopped pod has handed its claims back before the next one stops.
 */
function scaleDownBehavior(w: Workload, settings: OperatorSettings) {
  return {
    stabilizationWindowSeconds: Math.min(settings.keda.cooldownPeriodSeconds, HPA_MAX_WINDOW_SECONDS),
    policies: [
      {
        type: 'Pods' as const,
        value: 1,
        periodSeconds: Math.max(1, Math.min(workerGraceSeconds(w), HPA_MAX_PERIOD_SECONDS)),
      },
    ],
  };
}

/**
 * The queue-depth trigger: KEDA polls the HTTP API (metrics-api), or, with a scaler address, the
 * operator's gRPC scaler, which also pushes activations (external-push, docs/adr/0131). Its
 * metadata names the workload; the push scaler reads it back (src/server/keda-scaler.ts).
 */
function queueDepthTrigger(
  w: Workload,
  namespace: string,
  auth: TriggerAuthentication | undefined,
  settings: OperatorSettings,
): ScaledObjectTrigger {
  // KEDA metadata values are strings, even numbers.
  const targetValue = String(settings.keda.targetQueueDepthPerReplica);
  if (settings.keda.scalerAddress)
    return {
      type: 'external-push',
      name: queueDepthMetric(w.kind),
      metricType: 'AverageValue',
      metadata: {
        scalerAddress: settings.keda.scalerAddress,
        [SCALER_METADATA.kind]: w.kind,
        [SCALER_METADATA.name]: w.metadata.name,
        [SCALER_METADATA.batchSize]: String(w.spec.worker.batchSize),
        [SCALER_METADATA.targetValue]: targetValue,
      },
    };
  const metadata: Record<string, string> = {
    url: queueDepthUrl(settings.apiBaseUrl, w.kind, namespace, w.metadata.name),
    format: 'json',
    valueLocation: QUEUE_DEPTH_VALUE_LOCATION,
    targetValue,
    // Any queued batch wakes a scaled-to-zero workload.
    activationTargetValue: '0',
  };
  if (auth) metadata.authMode = 'bearer';
  return {
    type: 'metrics-api',
    name: queueDepthMetric(w.kind),
    metricType: 'AverageValue',
    metadata,
    ...(auth
      ? { authenticationRef: { name: auth.metadata.name, kind: 'TriggerAuthentication' as const } }
      : {}),
  };
}

/** ScaledObject scaling `deploymentName` between replicas.min and replicas.max on queue depth. */
export function scaledObject(
  w: Workload,
  meta: ObjectMetadata,
  deploymentName: string,
  auth: TriggerAuthentication | undefined,
  settings: OperatorSettings,
): ScaledObject {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: meta,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
      minReplicaCount: w.spec.scaling.replicas.min,
      maxReplicaCount: w.spec.scaling.replicas.max,
      pollingInterval: settings.keda.pollingIntervalSeconds,
      cooldownPeriod: settings.keda.cooldownPeriodSeconds,
      advanced: {
        horizontalPodAutoscalerConfig: { behavior: { scaleDown: scaleDownBehavior(w, settings) } },
      },
      triggers: [
        queueDepthTrigger(w, meta.namespace, auth, settings),
        // A source-fed Pipeline's backlog in its source, when sourceRef.kedaLag asks (ADR 0123).
        ...(w.kind === 'Pipeline' ? [sourceLagTrigger(w.spec.sourceRef)].filter((t) => t !== undefined) : []),
      ],
    },
  };
}
