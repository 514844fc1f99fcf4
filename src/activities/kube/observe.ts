// Observe: read everything one reconcile pass needs into plain state (the CR, and per kind its
// context), plus the current version of each object the operator owns so apply can skip what
// nobody changed. Reads only — but for one write: a live Function gets the finalizer and its output
// claim label (one patch) before the Functions that may conflict with it are listed by that label
// (output-ownership.ts); the planner decides everything else.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, INFRA_RULES_NAME, VERSION } from '../../api/group.js';
import { claimPatch } from '../../operator/finalizer.js';
import {
  claimSelectors,
  conflictingAttributes,
  OUTPUT_CLAIM_LABEL,
  outputClaimLabel,
  UNLABELLED_SELECTOR,
} from '../../operator/output-ownership.js';
import type { ReconcileRef } from '../../contracts/reconcile.js';
import type { WorkloadKind } from '../../../packages/worker/src/contracts/names.js';
import { LABEL, MANAGED_BY } from '../../operator/labels.js';
import { labelValue, workloadObjectName } from '../../operator/names.js';
import type { ObjectRef } from '../../operator/plan-types.js';
import type { ObservedState, RawObject } from '../../operator/reconcile-types.js';
import {
  deploymentRolledOut,
  podProblemsOf,
  workerImage,
  type WorkerObservation,
} from '../../operator/worker-availability.js';
import { kubeCall, listCr, orNull, readCr, type KubeClients } from './kube-calls.js';
import { readAfterCall } from './read-after-call.js';

const KEDA_GROUP = 'keda.sh';
const KEDA_VERSION = 'v1alpha1';
const KEDA_PLURALS: Record<string, string> = {
  ScaledObject: 'scaledobjects',
  TriggerAuthentication: 'triggerauthentications',
};

export interface ObserveDeps {
  /** VectorStore whose inbound auth decides the worker bearer (Helm renders one). */
  defaultVectorStore?: { namespace: string; name: string } | undefined;
  /** Kubernetes namespaces in scope (output ownership is decided among these); unset: all. */
  watchNamespaces?: readonly string[] | undefined;
}

/** Current version of each owned object by objectKey: `g<generation>`, or `rv<resourceVersion>`. */
export type Versions = Map<string, string>;

export function objectKey(o: {
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
export function versionOf(o: { metadata?: { generation?: number; resourceVersion?: string; uid?: string } }) {
  const m = o.metadata;
  if (!m?.uid) return undefined;
  if (m.generation !== undefined && m.generation > 0) return `${m.uid}/g${m.generation}`;
  return m.resourceVersion ? `${m.uid}/rv${m.resourceVersion}` : undefined;
}

/** The managers whose managedFields entry includes spec.replicas (fieldsV1 `f:spec` → `f:replicas`). */
export function replicasManagersOf(entries: { manager?: string; fieldsV1?: object }[] | undefined): string[] {
  return (entries ?? []).flatMap((e) => {
    const spec = (e.fieldsV1 as Record<string, Record<string, unknown> | undefined> | undefined)?.['f:spec'];
    return e.manager && spec && 'f:replicas' in spec ? [e.manager] : [];
  });
}

export function createObserve(clients: KubeClients, deps: ObserveDeps) {
  const { custom, apps, core } = clients;

  /**
   * The operator's objects of a workload (by label), and what its Deployment and pods say about
   * the worker: one list of each, no GET per object.
   */
  async function ownedObjects(
    kind: WorkloadKind,
    k8sNamespace: string,
    name: string,
  ): Promise<{ owned: ObjectRef[]; worker: WorkerObservation; versions: Versions }> {
    const labelSelector = `${LABEL.managedBy}=${MANAGED_BY},${LABEL.kind}=${kind},${LABEL.workloadName}=${labelValue(name)}`;
    const refs = (apiVersion: string, kind: string, items: { metadata?: { name?: string } }[]): ObjectRef[] =>
      items.flatMap((i) => (i.metadata?.name ? [{ apiVersion, kind, name: i.metadata.name }] : []));
    const kedaItems: [string, RawObject[]][] = [];
    const [deployments, services, pods, ...keda] = await Promise.all([
      apps.listNamespacedDeployment({ namespace: k8sNamespace, labelSelector }),
      core.listNamespacedService({ namespace: k8sNamespace, labelSelector }),
      core.listNamespacedPod({ namespace: k8sNamespace, labelSelector }),
      ...Object.entries(KEDA_PLURALS).map(async ([k, plural]) => {
        // KEDA may not be installed: then nothing of it can exist.
        const list = (await orNull(() =>
          custom.listNamespacedCustomObject({
            group: KEDA_GROUP,
            version: KEDA_VERSION,
            namespace: k8sNamespace,
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
              replicasManagers: replicasManagersOf(deployment.metadata?.managedFields),
              availableReplicas: deployment.status?.availableReplicas ?? 0,
              progressDeadlineExceeded: (deployment.status?.conditions ?? []).some(
                (c) =>
                  c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
              ),
              // What the planner needs to hold a new output.version until no old build polls
              // (ADR 0124): the image new pods run, and whether any pod of an older template is left.
              image: workerImage(deployment.spec?.template?.spec),
              rolledOut: deploymentRolledOut(deployment),
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

  /** Only what output ownership reads goes into the pass's history: metadata basics and spec. */
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

  /**
   * A live Function with the finalizer and its output claim label, patched (guarded by its
   * resourceVersion: a concurrent writer fails the pass, whose retry reads again) when either is
   * missing; null when it went away meanwhile.
   */
  async function claimed(ref: ReconcileRef, object: RawObject): Promise<RawObject | null> {
    const attribute = (object.spec as { output?: { attribute?: unknown } } | undefined)?.output?.attribute;
    if (object.metadata?.deletionTimestamp) return object;
    const body = claimPatch(
      object,
      typeof attribute === 'string' ? { [OUTPUT_CLAIM_LABEL]: outputClaimLabel(attribute) } : {},
    );
    if (body === undefined) return object;
    return (await orNull(() =>
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: 'functions',
          namespace: ref.namespace ?? 'default',
          name: ref.name,
          body,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    )) as RawObject | null;
  }

  // The Functions not labelled yet are the same list for every pass: concurrent passes share one
  // begun after their own label patch, instead of each holding a copy (ADR 0114).
  const unlabelled = readAfterCall(() => listCr(custom, 'Function', undefined, UNLABELLED_SELECTOR));

  /**
   * The Functions that may write what this one writes: those claiming a conflicting attribute and
   * those not labelled yet — not every Function in the cluster (ADR 0114). Called after the pass's
   * own label patch (claimed), so the lists see every label written before it.
   */
  async function claimants(object: RawObject): Promise<RawObject[]> {
    const attribute = (object.spec as { output?: { attribute?: unknown } } | undefined)?.output?.attribute;
    // A Function without one is refused by the planner before ownership is asked.
    if (typeof attribute !== 'string') return [];
    const [labelled] = claimSelectors(attribute);
    const lists = await Promise.all([listCr(custom, 'Function', undefined, labelled), unlabelled()]);
    // Only those whose spec writes a conflicting attribute now (a label may lag its spec, and the
    // unlabelled are anyone): the planner parses each one it is given.
    const conflicting = new Set(conflictingAttributes(attribute));
    return lists.flat().filter((f) => {
      const theirs = (f.spec as { output?: { attribute?: unknown } } | undefined)?.output?.attribute;
      return typeof theirs === 'string' && conflicting.has(theirs);
    });
  }

  /** Read everything one pass needs: the object, and per kind its context. */
  async function observe(ref: ReconcileRef): Promise<{ observed: ObservedState; versions: Versions }> {
    return kubeCall(async () => {
      const read = await readCr(custom, ref.kind, ref.namespace, ref.name);
      const object = ref.kind === 'Function' && read !== null ? await claimed(ref, read) : read;
      const observed: ObservedState = { ref, object };
      let versions: Versions = new Map();
      if (ref.kind === 'Function' || ref.kind === 'Pipeline') {
        const k8sNamespace = ref.namespace ?? 'default';
        const [infraRules, owned, defaultVectorStore] = await Promise.all([
          readCr(custom, 'InfraRules', undefined, INFRA_RULES_NAME),
          ownedObjects(ref.kind, k8sNamespace, ref.name),
          deps.defaultVectorStore
            ? readCr(custom, 'VectorStore', deps.defaultVectorStore.namespace, deps.defaultVectorStore.name)
            : Promise.resolve(null),
        ]);
        Object.assign(observed, { infraRules, owned: owned.owned, worker: owned.worker, defaultVectorStore });
        versions = owned.versions;
        const selector = (object?.spec as { indexSelector?: unknown } | undefined)?.indexSelector;
        if (ref.kind === 'Function' && selector !== undefined)
          observed.indexes = await listCr(custom, 'Index', k8sNamespace);
        if (ref.kind === 'Function' && object !== null) {
          // Output ownership (ADR 0070) is cluster-wide: a Function in any namespace may write the
          // same attribute.
          observed.functions = (await claimants(object)).filter(inScope).map(slim);
          if (
            observed.functions.some((f) => (f.spec as { indexSelector?: unknown } | undefined)?.indexSelector)
          )
            observed.allIndexes = (await listCr(custom, 'Index')).map(slim);
        }
      } else if (ref.kind === 'Index' && object !== null) {
        const [indexes, stores] = await Promise.all([
          listCr(custom, 'Index'),
          listCr(custom, 'VectorStore', ref.namespace ?? 'default'),
        ]);
        observed.indexes = indexes;
        observed.vectorStores = stores.flatMap((s) => (s.metadata?.name ? [s.metadata.name] : []));
      }
      return { observed, versions };
    });
  }

  return observe;
}
