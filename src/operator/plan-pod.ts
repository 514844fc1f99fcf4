// The worker pod, Deployment and Service for one workload. Small pure helpers; plan.ts decides
// which of them to use.
import type {
  V1Container,
  V1EnvVar,
  V1PodSpec,
  V1ResourceRequirements,
  V1Toleration,
} from '@kubernetes/client-node';
import { NVIDIA_GPU_RESOURCE, NVIDIA_TOLERATION } from '../api/defaults.js';
import type { Quantity } from '../api/common.js';
import type { ComputePool } from '../api/infra-rules.js';
import type { Workload } from '../api/parse.js';
import { WorkerEnv, workloadTaskQueue } from '../../packages/worker/src/contracts/names.js';
import { PayloadEnv, TemporalEnv } from '../../packages/worker/src/env.js';
import { selectorLabels } from './labels.js';
import { mergePatch } from './merge-patch.js';
import type { ObjectMetadata, PlannedDeployment, PlannedService } from './plan-types.js';
import { workerBearerSecret, type OperatorSettings } from './settings.js';

/** Name of the worker container (the one a podSpec patch must keep when it replaces containers). */
export const WORKER_CONTAINER = 'worker';
/** Named container port of push workers; the Service and readiness probe refer to it. */
const HTTP_PORT_NAME = 'http';
/** Claims a Pipeline workflow lets out at once (src/contracts/pipeline.ts schedule default). */
const PIPELINE_DEFAULT_IN_FLIGHT = 8;
/** Extra seconds past the batch timeout a terminating pod gets to finish its batch. */
const GRACE_MARGIN_SECONDS = 15;

/**
 * Seconds a terminating worker pod gets between SIGTERM and SIGKILL: the batch in hand may take
 * its whole timeout, then it is written and the claim reports (docs/adr/0103). worker.podSpec may
 * set its own.
 */
export function workerGraceSeconds(w: Workload): number {
  const own = (w.spec.worker.podSpec as { terminationGracePeriodSeconds?: unknown } | undefined)
    ?.terminationGracePeriodSeconds;
  return typeof own === 'number' ? own : w.spec.worker.timeoutSeconds + GRACE_MARGIN_SECONDS;
}

function namespaceOf(w: Workload): string {
  return w.metadata.namespace ?? 'default';
}

/**
 * Container environment: plain values for configuration, Secret references for credentials. The
 * names and their meaning are the worker SDK's schema (packages/worker/src/env.ts, which
 * loadWorkerEnv parses); a test feeds this list to it and gets the planned settings back.
 */
export function workerEnv(w: Workload, settings: OperatorSettings): V1EnvVar[] {
  const ns = namespaceOf(w);
  const worker = w.spec.worker;
  const env: V1EnvVar[] = [
    { name: WorkerEnv.temporalAddress, value: settings.temporal.address },
    { name: WorkerEnv.temporalNamespace, value: settings.temporal.namespace },
    { name: WorkerEnv.taskQueue, value: workloadTaskQueue(w.kind, ns, w.metadata.name) },
    { name: WorkerEnv.workloadKind, value: w.kind },
    { name: WorkerEnv.workloadNamespace, value: ns },
    { name: WorkerEnv.workloadName, value: w.metadata.name },
    { name: WorkerEnv.dispatch, value: worker.dispatch },
    { name: WorkerEnv.batchSize, value: String(worker.batchSize) },
    { name: WorkerEnv.timeoutSeconds, value: String(worker.timeoutSeconds) },
    { name: WorkerEnv.apiBaseUrl, value: settings.apiBaseUrl },
    { name: WorkerEnv.storeUrl, value: settings.storeUrl },
  ];
  // A replica may hold every claim the workflow lets out (its maxInFlightBatches, the global bound):
  // more slots than that would never be used. Pipelines have no such field in the CRD (default 8).
  const claims = w.kind === 'Function' ? w.spec.schedule.maxInFlightBatches : PIPELINE_DEFAULT_IN_FLIGHT;
  env.push({ name: WorkerEnv.concurrency, value: String(claims) });
  if (worker.dispatch === 'push') env.push({ name: WorkerEnv.port, value: String(worker.port) });
  if (w.kind === 'Pipeline') {
    env.push({ name: WorkerEnv.targetNamespace, value: w.spec.target.namespace });
    if (w.spec.sourceRef !== undefined)
      env.push({ name: WorkerEnv.sourceRef, value: JSON.stringify(w.spec.sourceRef) });
  }
  const bearer = workerBearerSecret(settings);
  if (bearer) {
    const ref = { secretKeyRef: { name: bearer.name, key: bearer.key } };
    env.push({ name: WorkerEnv.apiKey, valueFrom: ref });
    env.push({ name: WorkerEnv.storeApiKey, valueFrom: ref });
  }
  const temporalKey = settings.temporal.apiKeySecretRef;
  if (temporalKey) {
    env.push({
      name: WorkerEnv.temporalApiKey,
      valueFrom: { secretKeyRef: { name: temporalKey.name, key: temporalKey.key } },
    });
  }
  if (settings.temporal.tls !== undefined)
    env.push({ name: TemporalEnv.tls, value: String(settings.temporal.tls) });
  const payloads = settings.payloads;
  if (payloads) {
    env.push({ name: PayloadEnv.bucket, value: payloads.bucket });
    env.push({ name: PayloadEnv.prefix, value: payloads.prefix });
    if (payloads.thresholdBytes !== undefined)
      env.push({ name: PayloadEnv.thresholdBytes, value: String(payloads.thresholdBytes) });
  }
  return env;
}

function quantityString(q: Quantity): string {
  return String(q);
}

function resourceList(list: Record<string, Quantity> | undefined): Record<string, string> | undefined {
  if (list === undefined) return undefined;
  return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, quantityString(v)]));
}

/**
 * The pool's container resources; a gpu pool always asks for one NVIDIA GPU unless it names its own
 * count. Extended resources must be in limits (requests default to them), so both get the value.
 */
function poolResources(pool: ComputePool): V1ResourceRequirements {
  const requests = resourceList(pool.resources?.requests);
  const limits = resourceList(pool.resources?.limits);
  if (pool.kind !== 'gpu') return compact({ requests, limits });
  const gpus = limits?.[NVIDIA_GPU_RESOURCE] ?? requests?.[NVIDIA_GPU_RESOURCE] ?? '1';
  return {
    requests: { ...requests, [NVIDIA_GPU_RESOURCE]: gpus },
    limits: { ...limits, [NVIDIA_GPU_RESOURCE]: gpus },
  };
}

/** The pool's tolerations; a gpu pool also tolerates the standard NVIDIA taint. */
function poolTolerations(pool: ComputePool): V1Toleration[] {
  const tolerations: V1Toleration[] = (pool.tolerations ?? []).map((t) => ({ ...t }));
  const toleratesGpu = tolerations.some(
    (t) => t.key === NVIDIA_GPU_RESOURCE || (t.key === undefined && t.operator === 'Exists'),
  );
  if (pool.kind === 'gpu' && !toleratesGpu) tolerations.push({ ...NVIDIA_TOLERATION });
  return tolerations;
}

function workerContainer(w: Workload, pool: ComputePool, settings: OperatorSettings): V1Container {
  const worker = w.spec.worker;
  const container: V1Container = {
    name: WORKER_CONTAINER,
    image: worker.image,
    env: workerEnv(w, settings),
    resources: poolResources(pool),
  };
  if (worker.dispatch === 'push') {
    container.ports = [{ name: HTTP_PORT_NAME, containerPort: worker.port, protocol: 'TCP' }];
    // TCP, not HTTP: the push contract only promises POST /run, so "accepts connections" is the
    // readiness signal every push worker can give.
    container.readinessProbe = { tcpSocket: { port: HTTP_PORT_NAME }, periodSeconds: 5, failureThreshold: 3 };
  }
  return container;
}

/** The PodSpec the operator builds, with worker.podSpec merged in last (RFC 7386). */
function workerPodSpec(w: Workload, pool: ComputePool, settings: OperatorSettings): V1PodSpec {
  const base: V1PodSpec = {
    containers: [workerContainer(w, pool, settings)],
    // Let an in-flight batch finish (or time out) before the pod is killed on scale-down.
    terminationGracePeriodSeconds: workerGraceSeconds(w),
  };
  if (pool.nodeSelector && Object.keys(pool.nodeSelector).length > 0)
    base.nodeSelector = { ...pool.nodeSelector };
  const tolerations = poolTolerations(pool);
  if (tolerations.length > 0) base.tolerations = tolerations;
  const patch = w.spec.worker.podSpec;
  if (patch === undefined) return base;
  return mergePatch(JSON.parse(JSON.stringify(base)), patch) as V1PodSpec;
}

/** The Deployment; `replicas` undefined means "leave spec.replicas to KEDA" and is not sent. */
export function workerDeployment(
  w: Workload,
  meta: ObjectMetadata,
  replicas: number | undefined,
  pool: ComputePool,
  settings: OperatorSettings,
): PlannedDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { matchLabels: selectorLabels(w.kind, w.metadata.name) },
      template: {
        metadata: { labels: { ...meta.labels } },
        spec: workerPodSpec(w, pool, settings),
      },
    },
  };
}

/** ClusterIP Service in front of push workers, on worker.port. */
export function workerService(w: Workload, meta: ObjectMetadata): PlannedService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(w.kind, w.metadata.name),
      ports: [
        { name: HTTP_PORT_NAME, port: w.spec.worker.port, targetPort: HTTP_PORT_NAME, protocol: 'TCP' },
      ],
    },
  };
}

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
