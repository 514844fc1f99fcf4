// Whether a workload's worker actually runs, from what the apiserver says about its Deployment
// and pods (there is no other witness: the operator never talks to kubelets). Pure, so the
// reasons are table-tested; the observe activity gathers the inputs.
import { WORKER_CONTAINER } from './plan-pod.js';
import type { ConditionInput } from './reconcile-conditions.js';

/** What the observe activity read about the worker: the Deployment's status and pod problems. */
export interface WorkerObservation {
  /** Absent: the Deployment does not exist (yet). */
  deployment?: {
    /** spec.replicas (KEDA writes it; 1 when unset, as the apiserver defaults it). */
    desiredReplicas: number;
    /** Field managers that own spec.replicas (managedFields): who may change it (docs/adr/0128). */
    replicasManagers?: string[];
    availableReplicas: number;
    /** The Deployment controller reports ProgressDeadlineExceeded: the rollout gave up waiting. */
    progressDeadlineExceeded: boolean;
    /** The worker container's image in the pod template: what the Deployment's new pods run. */
    image?: string | undefined;
    /** No pod of an older pod template is left (deploymentRolledOut). */
    rolledOut: boolean;
  };
  /** Containers of the workload's pods that are waiting for a reason worth reporting. */
  podProblems: PodProblem[];
}

export interface PodProblem {
  pod: string;
  container: string;
  /** The container state's reason: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, … */
  reason: string;
  message: string;
}

export const WorkerConditionType = 'WorkerAvailable';

export const WorkerReason = {
  /** At least one replica is available. */
  DeploymentAvailable: 'DeploymentAvailable',
  /**
   * KEDA scaled the worker to zero. It does so only after the queue-depth trigger read 0 for the
   * cooldown period, and wakes it on the first queued batch (activationTargetValue 0, ADR 0003):
   * zero replicas with no pending work is the healthy idle state.
   */
  ScaledToZero: 'ScaledToZero',
  Paused: 'Paused',
  ScalingDisabled: 'ScalingDisabled',
  /** Replicas are being created; not yet available, no error seen. */
  ReplicasStarting: 'ReplicasStarting',
  /** The rollout passed its progress deadline without an available replica. */
  ReplicasUnavailable: 'ReplicasUnavailable',
  CrashLoop: 'CrashLoop',
  ImagePullBackOff: 'ImagePullBackOff',
  DeploymentNotFound: 'DeploymentNotFound',
} as const;

const IMAGE_PULL_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

function condition(status: ConditionInput['status'], reason: string, message: string): ConditionInput {
  return { type: WorkerConditionType, status, reason, message };
}

function describe(p: PodProblem): string {
  return `pod ${p.pod} container ${p.container}: ${p.reason}${p.message ? `: ${p.message}` : ''}`;
}

/**
 * The WorkerAvailable condition. Paused and scaling-disabled workloads ask for zero replicas, so
 * they are available by definition; a worker that crash-loops or cannot pull its image is False
 * whatever its replica counts say.
 */
export function workerAvailability(
  spec: { paused: boolean; scalingMode: string },
  observed: WorkerObservation,
): ConditionInput {
  if (spec.paused)
    return condition('True', WorkerReason.Paused, 'spec.paused is true: the worker runs 0 replicas');
  if (spec.scalingMode === 'disabled')
    return condition(
      'True',
      WorkerReason.ScalingDisabled,
      'scaling.mode is disabled: the worker runs 0 replicas',
    );
  const crash = observed.podProblems.find((p) => p.reason === 'CrashLoopBackOff');
  if (crash) return condition('False', WorkerReason.CrashLoop, `${describe(crash)}; see its logs`);
  const pull = observed.podProblems.find((p) => IMAGE_PULL_REASONS.has(p.reason));
  if (pull)
    return condition(
      'False',
      WorkerReason.ImagePullBackOff,
      `${describe(pull)}; check spec.worker.image and the pull secret`,
    );
  const d = observed.deployment;
  if (!d)
    return condition('Unknown', WorkerReason.DeploymentNotFound, 'the worker Deployment does not exist yet');
  if (d.availableReplicas >= 1)
    return condition(
      'True',
      WorkerReason.DeploymentAvailable,
      `${d.availableReplicas} of ${d.desiredReplicas} replicas available`,
    );
  if (d.desiredReplicas === 0)
    return condition(
      'True',
      WorkerReason.ScaledToZero,
      'scaled to zero: no pending work (KEDA wakes the worker on the first queued batch)',
    );
  if (d.progressDeadlineExceeded)
    return condition(
      'False',
      WorkerReason.ReplicasUnavailable,
      `0 of ${d.desiredReplicas} replicas available and the rollout passed its progress deadline`,
    );
  return condition(
    'Unknown',
    WorkerReason.ReplicasStarting,
    `0 of ${d.desiredReplicas} replicas available yet`,
  );
}

/** Pod problems from pods as the apiserver lists them (init containers included). */
export function podProblemsOf(
  pods: readonly {
    metadata?: { name?: string };
    status?: {
      containerStatuses?: ContainerStatusLike[];
      initContainerStatuses?: ContainerStatusLike[];
    };
  }[],
): PodProblem[] {
  const out: PodProblem[] = [];
  for (const pod of pods) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of statuses) {
      const waiting = c.state?.waiting;
      if (!waiting?.reason || waiting.reason === 'ContainerCreating' || waiting.reason === 'PodInitializing')
        continue;
      const last = c.lastState?.terminated;
      const lastWords = last
        ? ` (last exit ${last.exitCode ?? '?'}${last.reason ? ` ${last.reason}` : ''})`
        : '';
      out.push({
        pod: pod.metadata?.name ?? '?',
        container: c.name,
        reason: waiting.reason,
        message: `${(waiting.message ?? '').slice(0, 300)}${lastWords}`.trim(),
      });
    }
  }
  return out;
}

interface ContainerStatusLike {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/**
 * Whether a Deployment's rollout to its current pod template is complete: the controller has seen
 * the current spec (observedGeneration), and every pod it counts is of the current template
 * (replicas = updatedReplicas), so no pod of an older ReplicaSet is left. Pods being terminated are
 * not counted; they drain and take no claims (docs/adr/0103). A Deployment at 0 replicas with
 * nothing old left is rolled out, and so is one no controller has ever observed: it has no
 * ReplicaSet, so no pod (just created, or an apiserver without controllers, `layer dev up --kube`).
 */
export function deploymentRolledOut(d: {
  metadata?: { generation?: number | undefined } | undefined;
  status?:
    | {
        observedGeneration?: number | undefined;
        replicas?: number | undefined;
        updatedReplicas?: number | undefined;
      }
    | undefined;
}): boolean {
  const observed = d.status?.observedGeneration;
  if (observed === undefined) return true;
  return (
    (d.metadata?.generation ?? 0) <= observed &&
    (d.status?.replicas ?? 0) === (d.status?.updatedReplicas ?? 0)
  );
}

/**
 * The worker's image in a pod spec: the container named `worker`, or the first one (a
 * worker.podSpec patch that replaces the containers list may name it otherwise).
 */
export function workerImage(
  podSpec: { containers?: readonly { name?: string; image?: string | undefined }[] | undefined } | undefined,
): string | undefined {
  const containers = podSpec?.containers ?? [];
  return (containers.find((c) => c.name === WORKER_CONTAINER) ?? containers[0])?.image;
}
