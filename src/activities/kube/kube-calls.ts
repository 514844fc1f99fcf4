// The Kubernetes clients a reconcile pass uses, and the one place that decides what a failed
// request means: a 404 read is "absent" (orNull), a request the apiserver refused for good is a
// non-retryable failure (kubeCall), anything else is retried by the activity's policy.
import { ApplicationFailure } from '@temporalio/activity';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import { ConditionReason } from '../../api/conditions.js';
import { pluralOf } from '../../api/crds.js';
import { GROUP, VERSION } from '../../api/group.js';
import type { ReconcileRef } from '../../contracts/reconcile.js';
import type { RawObject } from '../../operator/reconcile-types.js';

/** Failure type of a Kubernetes request the apiserver refused for good (retrying cannot help). */
const KUBERNETES_REJECTED = 'KubernetesRejected';

export interface KubeClients {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
}

export function makeKubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** One of our CRs, or null when it does not exist (cluster-scoped when k8sNamespace is undefined). */
export async function readCr(
  custom: CustomObjectsApi,
  kind: ReconcileRef['kind'],
  k8sNamespace: string | undefined,
  name: string,
): Promise<RawObject | null> {
  const target = { group: GROUP, version: VERSION, plural: pluralOf(kind), name };
  return orNull(() =>
    k8sNamespace
      ? custom.getNamespacedCustomObject({ ...target, namespace: k8sNamespace })
      : custom.getClusterCustomObject(target),
  ) as Promise<RawObject | null>;
}

/**
 * Our CRs of a kind in one Kubernetes namespace, or in all of them when k8sNamespace is undefined;
 * only those matching labelSelector when one is given.
 */
export async function listCr(
  custom: CustomObjectsApi,
  kind: ReconcileRef['kind'],
  k8sNamespace?: string,
  labelSelector?: string,
): Promise<RawObject[]> {
  const target = {
    group: GROUP,
    version: VERSION,
    plural: pluralOf(kind),
    ...(labelSelector !== undefined ? { labelSelector } : {}),
  };
  const list = (
    k8sNamespace
      ? await custom.listNamespacedCustomObject({ ...target, namespace: k8sNamespace })
      : await custom.listClusterCustomObject(target)
  ) as { items?: RawObject[] };
  return list.items ?? [];
}

/** The call's result, or null on 404. */
export async function orNull<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Requests the apiserver refused for a reason a retry cannot fix become non-retryable failures;
 * conflicts, throttling, auth hiccups and server errors are retried by the activity's policy.
 */
export async function kubeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = statusOf(err);
    if (code !== undefined && [400, 404, 405, 415, 422].includes(code)) {
      throw ApplicationFailure.nonRetryable(
        `Kubernetes refused the request (${code}): ${briefly(err)}`,
        KUBERNETES_REJECTED,
      );
    }
    throw err;
  }
}

/**
 * What a pass whose apply failed ends with, once its status says so: a refusal retrying cannot
 * fix fails the run for good (the watcher's resync or the next event tries again); anything else
 * — throttling (a 429 while the apiserver's storage (re)initializes), a conflict, a server error —
 * is the original error, which the activity's retry policy retries within seconds. Before, every
 * apply failure was final, and one 429 at a fleet's start left a Function without objects until
 * the resync.
 */
export function applyFailureToThrow(err: unknown, message: string): unknown {
  if (err instanceof ApplicationFailure && err.nonRetryable)
    return ApplicationFailure.nonRetryable(`apply failed: ${message}`, ConditionReason.ApplyFailed);
  return err;
}

function briefly(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    const message = typeof body === 'string' ? body : (body as { message?: string } | undefined)?.message;
    return (message ?? err.message).slice(0, 1000);
  }
  return err instanceof Error ? err.message : String(err);
}

/** What went wrong, short enough for a condition message (the cause's message when there is one). */
export function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return (e.cause?.message ?? e.message ?? String(err)).slice(0, 1000);
}
