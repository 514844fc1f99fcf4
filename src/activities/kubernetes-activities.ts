// Activities of the reconcile workflow: everything that touches Kubernetes, the upstream store or
// the workload engines. A factory over injected dependencies (the KubeConfig the operator runs
// with, the engine, settings, a clock), so the worker wires real clients and tests wire fakes.
//
// Secrets: only probeVectorStore reads one, and it returns conditions, never the value; errors
// from the store are scrubbed of the key before they leave (they become condition messages).
import { ApplicationFailure } from '@temporalio/activity';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Condition } from '../api/common.js';
import { pluralOf } from '../api/crds.js';
import { GROUP, INFRA_RULES_NAME, OPERATOR_FIELD_MANAGER, VERSION } from '../api/group.js';
import { parseKind } from '../api/parse.js';
import type { VectorStore } from '../api/vector-store.js';
import type { ReconcileRef } from '../contracts/reconcile.js';
import type { WorkloadKind } from '../contracts/names.js';
import { createStoreClient } from '../store/client.js';
import { StoreAuthError, toStoreError } from '../store/errors.js';
import { setFinalizer } from '../operator/finalizer.js';
import { LABEL, MANAGED_BY } from '../operator/labels.js';
import { labelValue, workloadObjectName } from '../operator/names.js';
import { podProblemsOf, type WorkerObservation } from '../operator/worker-availability.js';
import type { ObjectRef, PlannedObject } from '../operator/plan-types.js';
import { OperatorConditionType, OperatorReason, statusEvents } from '../operator/reconcile-conditions.js';
import { PLAN_RATE_ANNOTATION, finalStatus, planReconcile } from '../operator/reconcile-plan.js';
import { planFromCounts, type FunctionPlan } from '../operator/function-plan.js';
import type { FunctionRuntimeSpec } from '../contracts/function.js';
import type {
  EngineResult,
  ObservedState,
  RawObject,
  ReconcilePlan,
  StatusDraft,
  StoreProbe,
} from '../operator/reconcile-types.js';
import type { OperatorSettings } from '../operator/settings.js';
import type { WorkloadEngine } from '../operator/workload-engine.js';
import { specFingerprint } from '../contracts/fingerprint.js';

export interface KubernetesActivitiesDeps {
  /** Credentials the operator runs with (deploy/operator ClusterRole). */
  kubeConfig: KubeConfig;
  engine: WorkloadEngine;
  settings: OperatorSettings;
  /** VectorStore whose inbound auth decides the worker bearer (Helm renders one). */
  defaultVectorStore?: { namespace: string; name: string };
  /** Injected clock (status timestamps). */
  clock?: () => Date;
  /** Timeout of the VectorStore reachability call (default 5 s). */
  storeProbeTimeoutMs?: number;
  /** Exact counts of the rows a Function would process per namespace (status.plan of a paused Function). */
  planRows?: (spec: FunctionRuntimeSpec) => Promise<Record<string, number>>;
  /**
   * The Kubernetes namespaces this operator reconciles (LAYER_WATCH_NAMESPACES), read at each
   * pass; unset: every namespace. Output ownership (ADR 0070) is decided among the Functions in
   * scope: an operator never refuses a Function over one it does not govern.
   */
  watchNamespaces?: readonly string[] | undefined;
}

const KEDA_GROUP = 'keda.sh';
const KEDA_VERSION = 'v1alpha1';
const KEDA_PLURALS: Record<string, string> = {
  ScaledObject: 'scaledobjects',
  TriggerAuthentication: 'triggerauthentications',
};

/** Failure type of a Kubernetes request the apiserver refused for good (retrying cannot help). */
export const KUBERNETES_REJECTED = 'KubernetesRejected';

/**
 * @example
 * const activities = createKubernetesActivities({ kubeConfig, engine, settings: operatorSettings() });
 * await Worker.create({ taskQueue: ORCHESTRATOR_TASK_QUEUE, workflowsPath, activities, ... });
 */
export function createKubernetesActivities(deps: KubernetesActivitiesDeps) {
  const kc = deps.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const clock = deps.clock ?? (() => new Date());
  /** What this process last applied per object: the desired form's hash and the version it left. */
  const lastApplied = new Map<string, { hash: string; version: string }>();

  async function readCr(
    kind: ReconcileRef['kind'],
    namespace: string | undefined,
    name: string,
  ): Promise<RawObject | null> {
    const target = { group: GROUP, version: VERSION, plural: pluralOf(kind), name };
    return orNull(() =>
      namespace
        ? custom.getNamespacedCustomObject({ ...target, namespace })
        : custom.getClusterCustomObject(target),
    ) as Promise<RawObject | null>;
  }

  async function listCr(kind: ReconcileRef['kind'], namespace?: string): Promise<RawObject[]> {
    const target = { group: GROUP, version: VERSION, plural: pluralOf(kind) };
    const list = (
      namespace
        ? await custom.listNamespacedCustomObject({ ...target, namespace })
        : await custom.listClusterCustomObject(target)
    ) as { items?: RawObject[] };
    return list.items ?? [];
  }

  /**
   * The operator's objects of a workload (by label), and what its Deployment and pods say about
   * the worker: one list of each, no GET per object.
   */
  async function ownedObjects(
    kind: WorkloadKind,
    namespace: string,
    name: string,
  ): Promise<{ owned: ObjectRef[]; worker: WorkerObservation; versions: Versions }> {
    const labelSelector = `${LABEL.managedBy}=${MANAGED_BY},${LABEL.kind}=${kind},${LABEL.workloadName}=${labelValue(name)}`;
    const refs = (apiVersion: string, kind: string, items: { metadata?: { name?: string } }[]): ObjectRef[] =>
      items.flatMap((i) => (i.metadata?.name ? [{ apiVersion, kind, name: i.metadata.name }] : []));
    const kedaItems: [string, RawObject[]][] = [];
    const [deployments, services, pods, ...keda] = await Promise.all([
      apps.listNamespacedDeployment({ namespace, labelSelector }),
      core.listNamespacedService({ namespace, labelSelector }),
      core.listNamespacedPod({ namespace, labelSelector }),
      ...Object.entries(KEDA_PLURALS).map(async ([k, plural]) => {
        // KEDA may not be installed: then nothing of it can exist.
        const list = (await orNull(() =>
          custom.listNamespacedCustomObject({
            group: KEDA_GROUP,
            version: KEDA_VERSION,
            namespace,
            plural,
            labelSelector,
          }),
        )) as { items?: RawObject[] } | null;
        kedaItems.push([k, list?.items ?? []]);
        return refs(`${KEDA_GROUP}/${KEDA_VERSION}`, k, list?.items ?? []);
      }),
    ]);
    const deployment = deployments.items.find((d) => d.metadata?.name === workloadObjectName(kind, name));
    const worker: WorkerObservation = {
      podProblems: podProblemsOf(pods.items as never),
      ...(deployment
        ? {
            deployment: {
              desiredReplicas: deployment.spec?.replicas ?? 1,
              availableReplicas: deployment.status?.availableReplicas ?? 0,
              progressDeadlineExceeded: (deployment.status?.conditions ?? []).some(
                (c) =>
                  c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
              ),
            },
          }
        : {}),
    };
    const versions: Versions = new Map();
    const remember = (apiVersion: string, kind: string, items: RawObject[]) => {
      for (const item of items) {
        const version = versionOf(item);
        if (version !== undefined) versions.set(objectKey({ ...item, apiVersion, kind }), version);
      }
    };
    remember('apps/v1', 'Deployment', deployments.items as RawObject[]);
    remember('v1', 'Service', services.items as RawObject[]);
    for (const [k, items] of kedaItems) remember(`${KEDA_GROUP}/${KEDA_VERSION}`, k, items);
    return {
      versions,
      owned: [
        ...refs('apps/v1', 'Deployment', deployments.items),
        ...refs('v1', 'Service', services.items),
        ...keda.flat(),
      ],
      worker,
    };
  }

  /** Read everything one pass needs: the object, and per kind its context. */
  async function observe(ref: ReconcileRef): Promise<{ observed: ObservedState; versions: Versions }> {
    return kubeCall(async () => {
      const object = await readCr(ref.kind, ref.namespace, ref.name);
      const observed: ObservedState = { ref, object };
      let versions: Versions = new Map();
      if (ref.kind === 'Function' || ref.kind === 'Pipeline') {
        const ns = ref.namespace ?? 'default';
        const [infraRules, owned, defaultVectorStore] = await Promise.all([
          readCr('InfraRules', undefined, INFRA_RULES_NAME),
          ownedObjects(ref.kind, ns, ref.name),
          deps.defaultVectorStore
            ? readCr('VectorStore', deps.defaultVectorStore.namespace, deps.defaultVectorStore.name)
            : Promise.resolve(null),
        ]);
        Object.assign(observed, { infraRules, owned: owned.owned, worker: owned.worker, defaultVectorStore });
        versions = owned.versions;
        const selector = (object?.spec as { indexSelector?: unknown } | undefined)?.indexSelector;
        if (ref.kind === 'Function' && selector !== undefined) observed.indexes = await listCr('Index', ns);
        if (ref.kind === 'Function' && object !== null) {
          // Output ownership (ADR 0070) is cluster-wide: any Function may write the same attribute.
          // Only what ownership reads goes into the pass's history: metadata basics and spec.
          const slim = (o: RawObject): RawObject => ({
            apiVersion: o.apiVersion,
            kind: o.kind,
            metadata: {
              name: o.metadata?.name,
              namespace: o.metadata?.namespace,
              creationTimestamp: o.metadata?.creationTimestamp,
              deletionTimestamp: o.metadata?.deletionTimestamp,
              labels: o.metadata?.labels,
            },
            spec: o.spec,
          });
          const inScope = (o: RawObject) =>
            deps.watchNamespaces === undefined || deps.watchNamespaces.includes(o.metadata?.namespace ?? '');
          observed.functions = (await listCr('Function')).filter(inScope).map(slim);
          if (
            observed.functions.some((f) => (f.spec as { indexSelector?: unknown } | undefined)?.indexSelector)
          )
            observed.allIndexes = (await listCr('Index')).map(slim);
        }
      } else if (ref.kind === 'Index' && object !== null) {
        const [indexes, stores] = await Promise.all([
          listCr('Index'),
          listCr('VectorStore', ref.namespace ?? 'default'),
        ]);
        observed.indexes = indexes;
        observed.vectorStores = stores.flatMap((s) => (s.metadata?.name ? [s.metadata.name] : []));
      }
      return { observed, versions };
    });
  }

  /**
   * keys mode: workers and KEDA send the bearer in `inboundAuth.workerSecretName` (blank: the
   * release Secret) key `workerSecretKey`; without it every worker pod fails to start or is refused,
   * so the VectorStore is not Ready. Other modes: undefined (no such key). Never reads the value out.
   */
  async function probeWorkerKey(store: VectorStore): Promise<StoreProbe['workerKey']> {
    const auth = store.spec.inboundAuth;
    if (auth.mode !== 'keys') return undefined;
    const ns = store.metadata.namespace ?? 'default';
    const name = auth.workerSecretName || deps.settings.releaseSecretName;
    const key = auth.workerSecretKey;
    const type = OperatorConditionType.WorkerKeyResolved;
    const secret = await kubeCall(() => orNull(() => core.readNamespacedSecret({ name, namespace: ns })));
    if (secret === null)
      return {
        type,
        status: 'False',
        reason: OperatorReason.SecretNotFound,
        message: `keys mode: the worker bearer Secret ${ns}/${name} does not exist; create it with key ${key} (or set inboundAuth.workerSecretName)`,
      };
    if (secret.data?.[key] === undefined)
      return {
        type,
        status: 'False',
        reason: OperatorReason.SecretKeyMissing,
        message: `keys mode: Secret ${ns}/${name} has no key ${key}, the bearer workers and KEDA send; add it (or set inboundAuth.workerSecretKey)`,
      };
    return {
      type,
      status: 'True',
      reason: OperatorReason.SecretFound,
      message: `Secret ${ns}/${name} key ${key}`,
    };
  }

  /**
   * Resolve a VectorStore's credential Secret and make one cheap store call with it. Returns
   * conditions only: the key never leaves this function.
   */
  async function probeVectorStore(ref: ReconcileRef): Promise<StoreProbe> {
    const raw = await kubeCall(() => readCr('VectorStore', ref.namespace, ref.name));
    const parsed = raw ? parseKind('VectorStore', { ...raw, status: undefined }) : undefined;
    if (!parsed?.ok) {
      const skipped = (type: string) => ({
        type,
        status: 'Unknown' as const,
        reason: OperatorReason.NotChecked,
        message: 'spec is not valid',
      });
      return {
        credential: skipped(OperatorConditionType.CredentialResolved),
        endpoint: skipped(OperatorConditionType.EndpointReachable),
      };
    }
    const store = parsed.resource as VectorStore;
    const ns = store.metadata.namespace ?? 'default';
    const secretRef = store.spec.credential.secretRef;
    const notChecked = {
      type: OperatorConditionType.EndpointReachable,
      status: 'Unknown' as const,
      reason: OperatorReason.NotChecked,
      message: 'the credential is not resolved',
    };
    const secret = await kubeCall(() =>
      orNull(() => core.readNamespacedSecret({ name: secretRef.name, namespace: ns })),
    );
    if (secret === null) {
      return {
        credential: {
          type: OperatorConditionType.CredentialResolved,
          status: 'False',
          reason: OperatorReason.SecretNotFound,
          message: `Secret ${ns}/${secretRef.name} does not exist; create it with key ${secretRef.key}`,
        },
        endpoint: notChecked,
      };
    }
    const encoded = secret.data?.[secretRef.key];
    if (encoded === undefined) {
      return {
        credential: {
          type: OperatorConditionType.CredentialResolved,
          status: 'False',
          reason: OperatorReason.SecretKeyMissing,
          message: `Secret ${ns}/${secretRef.name} has no key ${secretRef.key}`,
        },
        endpoint: notChecked,
      };
    }
    const apiKey = Buffer.from(encoded, 'base64').toString('utf8');
    const workerKey = await probeWorkerKey(store);
    const credential = {
      type: OperatorConditionType.CredentialResolved,
      status: 'True' as const,
      reason: OperatorReason.SecretFound,
      message: `Secret ${ns}/${secretRef.name} key ${secretRef.key}`,
    };
    const client = createStoreClient({
      baseUrl: store.spec.endpoint.url,
      apiKey,
      maxRetries: 0,
      timeoutMs: deps.storeProbeTimeoutMs ?? 5000,
    });
    try {
      await client.raw.namespaces({ page_size: 1 });
      return {
        credential,
        ...(workerKey ? { workerKey } : {}),
        endpoint: {
          type: OperatorConditionType.EndpointReachable,
          status: 'True',
          reason: OperatorReason.Reachable,
          message: `${store.spec.endpoint.url} answered`,
        },
      };
    } catch (err) {
      const e = toStoreError(err);
      const message = scrub(`${store.spec.endpoint.url}: ${e.message}`, apiKey);
      return {
        credential,
        ...(workerKey ? { workerKey } : {}),
        endpoint: {
          type: OperatorConditionType.EndpointReachable,
          status: 'False',
          reason:
            e instanceof StoreAuthError ? OperatorReason.CredentialRejected : OperatorReason.Unreachable,
          message,
        },
      };
    }
  }

  /**
   * Server-side apply (field manager layer-operator, force), all of a workload's objects at once:
   * they reference each other by name only, so no order is needed. An object whose desired form
   * this process applied before, and whose generation (resourceVersion for kinds without one) is
   * still what that apply left, is skipped: nobody changed it, so applying it again changes
   * nothing. A foreign edit moves the generation, and the next pass restores the object.
   */
  async function applyObjects(
    objs: PlannedObject[],
    current: Versions = new Map(),
  ): Promise<{ applied: number; skipped: number }> {
    const work = objs.map((obj) => {
      const key = objectKey(obj);
      const hash = specFingerprint(obj);
      const last = lastApplied.get(key);
      const now = current.get(key);
      const unchanged = last !== undefined && now !== undefined && last.hash === hash && last.version === now;
      return { obj, key, hash, unchanged };
    });
    await kubeCall(() =>
      Promise.all(
        work
          .filter((w) => !w.unchanged)
          .map(async (w) => {
            const res = (await objects.patch(
              w.obj as KubernetesObject,
              undefined,
              undefined,
              OPERATOR_FIELD_MANAGER,
              true,
              PatchStrategy.ServerSideApply,
            )) as RawObject;
            const version = versionOf(res);
            if (version !== undefined) lastApplied.set(w.key, { hash: w.hash, version });
            else lastApplied.delete(w.key);
          }),
      ),
    );
    if (lastApplied.size > MAX_REMEMBERED_APPLIES) lastApplied.clear();
    const skipped = work.filter((w) => w.unchanged).length;
    return { applied: work.length - skipped, skipped };
  }

  /** Delete operator objects (already-missing ones are fine). No GC runs, so this is the cleanup. */
  async function deleteObjects(namespace: string, refs: ObjectRef[]): Promise<number> {
    return kubeCall(async () => {
      const gone = await Promise.all(
        refs.map((o) => {
          lastApplied.delete(objectKey({ ...o, metadata: { name: o.name, namespace } }));
          return orNull(() =>
            objects.delete(
              { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace } },
              undefined,
              undefined,
              undefined,
              undefined,
              'Background',
            ),
          );
        }),
      );
      return gone.filter((g) => g !== null).length;
    });
  }

  /** The pass's one status write (skipped when nothing changed). Returns whether it wrote. */
  async function writeStatus(input: {
    ref: ReconcileRef;
    draft: StatusDraft;
    engine?: EngineResult;
  }): Promise<boolean> {
    const { status, changed } = finalStatus(input.draft, input.engine, clock().toISOString());
    if (!changed) return false;
    const { ref } = input;
    const target = {
      group: GROUP,
      version: VERSION,
      plural: pluralOf(ref.kind),
      name: ref.name,
      body: { status },
    };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const wrote = await kubeCall(() =>
      orNull(() =>
        ref.namespace
          ? custom.patchNamespacedCustomObjectStatus({ ...target, namespace: ref.namespace }, merge)
          : custom.patchClusterCustomObjectStatus(target, merge),
      ),
    );
    if (wrote !== null) await recordEvents(ref, input.draft, status);
    return wrote !== null;
  }

  /**
   * status.plan of a paused Function (rows it would process, batches, estimate), or `plan: null`
   * to remove a plan written while it was paused. Counting failures are written into the plan,
   * never fail the pass.
   */
  async function rowPlanField(
    plan: ReconcilePlan,
    draft: StatusDraft,
  ): Promise<{ plan: FunctionPlan | { error: string } | null } | undefined> {
    const had = (draft.previous as { plan?: unknown } | undefined)?.plan !== undefined;
    const rp = plan.rowPlan;
    if (!rp || !deps.planRows) return had ? { plan: null } : undefined;
    try {
      const counts = await deps.planRows(rp.spec);
      return {
        plan: planFromCounts(
          rp.spec,
          rp.maxWorkers,
          counts,
          rp.rowsPerSecondPerCall !== undefined
            ? { rowsPerSecondPerCall: rp.rowsPerSecondPerCall, source: 'given' }
            : null,
          `pull workers cannot be sampled by the operator: set the annotation ${PLAN_RATE_ANNOTATION} to the rows/s one worker call handles`,
          rp.costPerHour,
        ),
      };
    } catch (err) {
      return { plan: { error: `rows not counted: ${failureMessage(err)}` } };
    }
  }

  /**
   * One whole reconcile pass: observe → plan → finalizer → apply → prune → engine → one status
   * write. Every step is idempotent and level-triggered, so a retry of the activity is a new pass
   * over what is there now (ADR 0020, update "one activity per pass").
   */
  async function reconcilePass(ref: ReconcileRef): Promise<PassReport> {
    const t0 = performance.now();
    const { observed, versions } = await observe(ref);
    const probe =
      ref.kind === 'VectorStore' && observed.object !== null && !observed.object.metadata?.deletionTimestamp
        ? await probeVectorStore(ref)
        : undefined;
    const plan = planReconcile({ observed, ...(probe ? { probe } : {}), settings: deps.settings });
    const namespace = ref.namespace ?? 'default';
    const report: PassReport = {
      outcome: plan.outcome,
      applied: 0,
      skipped: 0,
      removed: 0,
      statusWritten: false,
    };

    if (plan.outcome === 'gone' || plan.outcome === 'deleting') {
      // Stop the workflow first so no batch is dispatched to workers that are about to go.
      if (plan.engine.action === 'stop') await deps.engine.stop(plan.engine);
      if (plan.remove.length > 0) report.removed = await deleteObjects(namespace, plan.remove);
      if (plan.finalizer === 'remove') await kubeCall(() => setFinalizer(kc, ref, 'remove'));
      return { ...report, ms: Math.round(performance.now() - t0) };
    }

    if (plan.finalizer === 'add') await kubeCall(() => setFinalizer(kc, ref, 'add'));
    let applyFailure: string | undefined;
    try {
      const [applied, removed] = await Promise.all([
        applyObjects(plan.apply, versions),
        plan.remove.length > 0 ? deleteObjects(namespace, plan.remove) : Promise.resolve(0),
      ]);
      Object.assign(report, applied, { removed });
    } catch (err) {
      applyFailure = failureMessage(err);
    }
    let engineResult: EngineResult | undefined =
      applyFailure !== undefined
        ? {
            condition: {
              type: OperatorConditionType.WorkflowReady,
              status: 'Unknown',
              reason: OperatorReason.ApplyFailed,
              message: `objects could not be applied: ${applyFailure}`,
            },
          }
        : undefined;
    let engineFailure: unknown;
    if (engineResult === undefined && plan.engine.action === 'sync') {
      try {
        engineResult = await deps.engine.sync(plan.engine);
      } catch (err) {
        engineFailure = err;
        engineResult = engineUnavailable(failureMessage(err));
      }
    }
    if (plan.status) {
      const planned = await rowPlanField(plan, plan.status);
      const draft = applyFailure
        ? {
            ...plan.status,
            conditions: [
              ...plan.status.conditions,
              {
                type: OperatorConditionType.Applied,
                status: 'False' as const,
                reason: OperatorReason.ApplyFailed,
                message: applyFailure,
              },
            ],
          }
        : plan.status;
      report.statusWritten = await writeStatus({
        ref,
        draft: planned ? { ...draft, fields: { ...draft.fields, ...planned } } : draft,
        ...(engineResult ? { engine: engineResult } : {}),
      });
    }
    if (applyFailure !== undefined) {
      // Reported in status; the watcher's resync (or the next event) tries again. Failing the run
      // makes the problem visible in the Temporal UI too.
      throw ApplicationFailure.nonRetryable(`apply failed: ${applyFailure}`, OperatorReason.ApplyFailed);
    }
    // Status says EngineUnavailable; the activity's retries are the pass's retries.
    if (engineFailure !== undefined) throw engineFailure;
    return { ...report, ms: Math.round(performance.now() - t0) };
  }

  return {
    reconcilePass,
  };

  /**
   * Events for the transitions this status write made. Best effort: an Event that cannot be
   * recorded (RBAC, a hiccup) never fails the pass — the status itself is the record.
   */
  async function recordEvents(ref: ReconcileRef, draft: StatusDraft, status: Record<string, unknown>) {
    const events = statusEvents(draft.previousConditions, (status.conditions ?? []) as Condition[]);
    if (events.length === 0 || !draft.uid) return;
    const namespace = ref.namespace ?? 'default';
    const at = clock();
    for (const e of events) {
      await core
        .createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${ref.name}.`, namespace },
            involvedObject: {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: ref.kind,
              name: ref.name,
              ...(ref.namespace ? { namespace: ref.namespace } : {}),
              uid: draft.uid,
            },
            type: e.type,
            reason: e.reason,
            message: e.message,
            source: { component: OPERATOR_FIELD_MANAGER },
            reportingComponent: OPERATOR_FIELD_MANAGER,
            reportingInstance: OPERATOR_FIELD_MANAGER,
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
          },
        })
        .catch(() => undefined);
    }
  }
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;

/** What one pass did, for the workflow's history (and the benchmark's per-pass breakdown). */
export interface PassReport {
  outcome: string;
  /** Objects server-side applied, and skipped because nothing changed since this process applied them. */
  applied: number;
  skipped: number;
  removed: number;
  statusWritten: boolean;
  /** Wall time of the pass inside the activity. */
  ms?: number;
}

/** Current version of each owned object by objectKey: `g<generation>`, or `rv<resourceVersion>`. */
type Versions = Map<string, string>;

/** Bound on remembered applies (a few per workload); past it the memory is dropped, costing one apply each. */
const MAX_REMEMBERED_APPLIES = 20_000;

function objectKey(o: {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}) {
  return `${o.apiVersion ?? ''}/${o.kind ?? ''}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/**
 * The version an apply can be compared against: the generation moves only on spec changes, so a
 * controller's status updates do not force a re-apply; kinds without one use resourceVersion.
 */
function versionOf(o: { metadata?: { generation?: number; resourceVersion?: string; uid?: string } }) {
  const m = o.metadata;
  if (!m?.uid) return undefined;
  if (m.generation !== undefined && m.generation > 0) return `${m.uid}/g${m.generation}`;
  return m.resourceVersion ? `${m.uid}/rv${m.resourceVersion}` : undefined;
}

/** The engine could not be asked; Degraded with this reason until it answers. */
export function engineUnavailable(message: string): EngineResult {
  return {
    condition: {
      type: OperatorConditionType.WorkflowReady,
      status: 'False',
      reason: OperatorReason.EngineUnavailable,
      message,
    },
  };
}

function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return (e.cause?.message ?? e.message ?? String(err)).slice(0, 1000);
}

/** The call's result, or null on 404. */
async function orNull<T>(fn: () => Promise<T>): Promise<T | null> {
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
async function kubeCall<T>(fn: () => Promise<T>): Promise<T> {
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

function briefly(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    const message = typeof body === 'string' ? body : (body as { message?: string } | undefined)?.message;
    return (message ?? err.message).slice(0, 1000);
  }
  return err instanceof Error ? err.message : String(err);
}

function scrub(text: string, secret: string): string {
  return secret.length > 0 ? text.split(secret).join('***') : text;
}
