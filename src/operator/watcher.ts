// The watcher: informers on the five kinds, on the objects the operator owns and on their worker
// pods; every event that can change a reconcile's outcome signals-with-start the resource's
// reconcile workflow (reconcile-start.ts), so bursts collapse and replicas never race. A periodic
// resync re-signals every cached resource, a wave at a time and after every change's pass
// (paced-resync.ts, ADR 0135): the level-triggered safety net for missed or silently stalled
// watches. An informer that stops with an error is restarted with exponential backoff.
// See docs/adr/0020-reconcile-as-workflow.md.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { GROUP, INFRA_RULES_NAME, KINDS, VERSION, type LayerKind } from '../api/group.js';
import { pluralOf } from '../api/crds.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import {
  DEFAULT_RECONCILE_CONCURRENCY,
  reconcileWorkflowId,
  RESYNC_REASON,
  type ReconcileRef,
  type ReconcileSignalArgs,
} from '../contracts/reconcile.js';
import type { reconcileWorkflow } from '../workflows/reconcile-workflow.js';
import { withSpan } from '../../packages/worker/src/observe/tracing.js';
import { LABEL, MANAGED_BY } from './labels.js';
import { OUTPUT_CLAIM_LABEL } from './output-ownership.js';
import type { RawObject } from './reconcile-types.js';
import { pacedResync } from './paced-resync.js';
import { reconcileStart } from './reconcile-start.js';
import { slimInformer, type Cached } from './slim-informer.js';
import {
  cachedOwned,
  cachedPod,
  cachedResource,
  changedPools,
  editReason,
  fingerprint,
  functionsSelectingIndexes,
  functionsSharingOutput,
  ownerOf,
  ownedEventMatters,
  moreUrgentReason,
  ownedFingerprint,
  podFingerprint,
  podOwner,
  poolsOf,
  refOf,
  workloadsOnPools,
} from './watch-rules.js';

export interface WatcherOptions {
  kubeConfig: KubeConfig;
  client: Client;
  /** Task queue the orchestrator Worker (which runs reconcileWorkflow) polls. */
  taskQueue?: string;
  /** Re-signal every cached resource this often (default 5 min). */
  resyncIntervalMs?: number;
  /**
   * Resources a resync signals at once, the next wave once their runs have ended (default
   * DEFAULT_RECONCILE_CONCURRENCY: the passes a replica runs at once; docs/adr/0135).
   */
  resyncWave?: number;
  /** Restart backoff of a failed informer (default 1 s doubling to 60 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Only these resources are reconciled (tests scope a watcher to their namespaces). */
  filter?: (ref: ReconcileRef) => boolean;
  /** Whether to watch KEDA ScaledObjects (default true; off when KEDA is not installed). */
  watchScaledObjects?: boolean;
  log?: (line: string, fields?: Record<string, unknown>) => void;
  /** This replica's identity, carried in every signal (the Temporal UI shows who sent it). */
  identity?: string;
}

export interface OperatorWatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once every informer has listed at least once (readiness). */
  synced(): boolean;
  /** Signal-with-start one resource's reconcile workflow. */
  enqueue(ref: ReconcileRef, reason: string): void;
  /** Resolves when no signal is in flight (tests). */
  idle(): Promise<void>;
}

/** A resync wave's longest wait for its runs: a pass that keeps failing does not hold the resync. */
const RESYNC_WAVE_TIMEOUT_MS = 60_000;

/** The span the operator opens when it reacts to a change of one resource. */
const OPERATOR_EVENT_SPAN = (kind: string) => `OperatorEvent:${kind}`;

function operatorEventAttributes(ref: ReconcileRef, reason: string) {
  return {
    'layer.kind': ref.kind,
    'layer.k8s_namespace': ref.namespace ?? '',
    'layer.name': ref.name,
    'layer.reason': reason,
  };
}

interface Watched {
  name: string;
  informer: Cached;
  connected: boolean;
  backoffMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * @example
 * const watcher = createOperatorWatcher({ kubeConfig, client });
 * await watcher.start(); // ... await watcher.stop();
 */
export function createOperatorWatcher(opts: WatcherOptions): OperatorWatcher {
  const kc = opts.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const taskQueue = opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE;
  const backoff = opts.backoff ?? { initialMs: 1000, maxMs: 60_000 };
  const log = opts.log ?? (() => undefined);
  const filter = opts.filter ?? (() => true);
  const ownedSelector = `${LABEL.managedBy}=${MANAGED_BY}`;

  const watched: Watched[] = [];
  const crInformers = new Map<LayerKind, Cached>();
  const seen = new Map<string, string>(); // workflow ID → fingerprint
  const claims = new Map<string, string>(); // workflow ID → output claim label (Functions)
  const ownedSeen = new Map<string, string>(); // owned object → ownedFingerprint
  const podSeen = new Map<string, string>(); // worker pod → podFingerprint
  let infraPools: Record<string, string> | undefined;
  let infraKnown = false;
  const inFlight = new Map<string, Promise<void>>();
  const again = new Map<string, string>(); // workflow ID → the reason of the signal still to send
  let stopped = true;
  let resyncTimer: NodeJS.Timeout | undefined;

  function enqueue(ref: ReconcileRef, reason: string): void {
    if (stopped || !filter(ref)) return;
    const workflowId = reconcileWorkflowId(ref.kind, ref.namespace, ref.name);
    if (inFlight.has(workflowId)) {
      // One more signal after this one (the workflow coalesces anyway), as urgent as the most
      // urgent reason that asked for it.
      again.set(workflowId, moreUrgentReason(again.get(workflowId), reason));
      return;
    }
    // Tracing on: the root of the trace that follows this change through the reconcile pass into
    // the workload's workflow and its workers.
    const p = withSpan(OPERATOR_EVENT_SPAN(ref.kind), operatorEventAttributes(ref, reason), () =>
      opts.client.workflow.signalWithStart<typeof reconcileWorkflow, [ReconcileSignalArgs]>(
        'reconcileWorkflow',
        reconcileStart(ref, reason, { taskQueue, identity: opts.identity }),
      ),
    )
      .then(
        () => undefined,
        (err: unknown) =>
          log('signal-with-start failed; the next resync retries', { workflowId, error: String(err) }),
      )
      .finally(() => {
        inFlight.delete(workflowId);
        const next = again.get(workflowId);
        if (next !== undefined) {
          again.delete(workflowId);
          enqueue(ref, next);
        }
      });
    inFlight.set(workflowId, p);
  }

  function onCr(kind: LayerKind, verb: 'add' | 'update' | 'delete', obj: RawObject): void {
    const ref = refOf({ ...obj, kind });
    const id = reconcileWorkflowId(kind, ref.namespace, ref.name);
    const claim = obj.metadata?.labels?.[OUTPUT_CLAIM_LABEL];
    if (verb === 'delete') {
      seen.delete(id);
      claims.delete(id);
    } else {
      const fp = fingerprint(obj);
      const claimBefore = claims.get(id);
      if (claim === undefined) claims.delete(id);
      else claims.set(id, claim);
      // Status-only updates (our own status writes) cannot change the outcome, nor can the
      // finalizer and claim label a pass puts on its own object — but other writers of the
      // attribute listed Functions by that label, so a new claim is news to them (ADR 0114).
      if (verb === 'update' && seen.get(id) === fp) {
        if (kind === 'Function' && claim !== claimBefore)
          for (const f of functionsSharingOutput(obj, cached('Function')))
            enqueue(f, 'a Function writing its output claimed it');
        return;
      }
      seen.set(id, fp);
    }
    enqueue(ref, editReason(kind, verb));
    if (kind === 'InfraRules' && ref.name === INFRA_RULES_NAME) {
      const after = verb === 'delete' ? undefined : poolsOf(obj);
      const changed = infraKnown ? changedPools(infraPools, after) : '*';
      infraPools = after;
      const first = !infraKnown;
      infraKnown = true;
      // The initial list reconciles every workload anyway.
      if (!first)
        for (const w of workloadsOnPools(changed, workloads())) enqueue(w, 'InfraRules/default changed');
    }
    if (kind === 'Function') {
      for (const f of functionsSharingOutput(obj, cached('Function')))
        enqueue(f, 'a Function writing its output changed');
    }
    if (kind === 'Index') {
      for (const f of functionsSelectingIndexes(ref.namespace, cached('Function')))
        enqueue(f, 'Index changed');
    }
  }

  /** The informer's cache as is (no copy: this runs on every event, against every object). */
  function cached(kind: LayerKind): RawObject[] {
    return (crInformers.get(kind)?.list() ?? []) as RawObject[];
  }
  function workloads(): RawObject[] {
    const withKind = (kind: LayerKind) => cached(kind).map((o) => ({ ...o, kind }));
    return [...withKind('Function'), ...withKind('Pipeline')];
  }

  function onOwned(verb: 'add' | 'update' | 'delete', obj: RawObject): void {
    const owner = ownerOf(obj);
    const key = `${String(obj.kind ?? '')}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}/${obj.metadata?.uid ?? ''}`;
    const before = ownedSeen.get(key);
    if (verb === 'delete') ownedSeen.delete(key);
    else ownedSeen.set(key, ownedFingerprint(obj));
    // Adds are our own applies and status-only updates change nothing a pass restores; deletes
    // and foreign edits need a pass.
    if (owner && ownedEventMatters(verb, before, obj)) enqueue(owner, `owned object ${verb}`);
  }

  /** Worker pods: a pass when a container starts or stops failing (WorkerAvailable, Degraded). */
  function onPod(verb: 'add' | 'update' | 'delete', pod: RawObject): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}/${pod.metadata?.uid ?? ''}`;
    const before = podSeen.get(key) ?? '';
    const now = verb === 'delete' ? '' : podFingerprint(pod);
    if (now === '') podSeen.delete(key);
    else podSeen.set(key, now);
    if (before === now) return;
    const owner = podOwner(pod, workloads());
    if (owner) enqueue(owner, `worker pod ${verb}`);
  }

  function watch(
    name: string,
    informer: Cached,
    on: (verb: 'add' | 'update' | 'delete', obj: RawObject) => void,
  ): void {
    const w: Watched = { name, informer, connected: false, backoffMs: backoff.initialMs };
    informer.on('add', (o) => on('add', o as RawObject));
    informer.on('update', (o) => on('update', o as RawObject));
    informer.on('delete', (o) => on('delete', o as RawObject));
    informer.on('connect', () => {
      w.connected = true;
      w.backoffMs = backoff.initialMs;
    });
    informer.on('error', (err: unknown) => {
      if (stopped || w.timer) return; // one restart at a time
      log('informer stopped; restarting', { informer: name, error: String(err), inMs: w.backoffMs });
      w.timer = setTimeout(() => {
        w.timer = undefined;
        if (stopped) return;
        informer
          .start()
          .catch((e: unknown) => log('informer restart failed', { informer: name, error: String(e) }));
      }, w.backoffMs);
      w.backoffMs = Math.min(backoff.maxMs, w.backoffMs * 2);
    });
    watched.push(w);
  }

  function build(): void {
    for (const kind of KINDS) {
      const plural = pluralOf(kind);
      const informer = slimInformer(
        kc,
        `/apis/${GROUP}/${VERSION}/${plural}`,
        () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }) as never,
        undefined,
        cachedResource,
      );
      crInformers.set(kind, informer);
      watch(kind, informer, (verb, obj) => onCr(kind, verb, obj));
    }
    watch(
      'deployments',
      slimInformer(
        kc,
        '/apis/apps/v1/deployments',
        () => apps.listDeploymentForAllNamespaces({ labelSelector: ownedSelector }) as never,
        ownedSelector,
        cachedOwned,
      ),
      (verb, obj) => onOwned(verb, { ...obj, kind: 'Deployment' }),
    );
    watch(
      'pods',
      slimInformer(
        kc,
        '/api/v1/pods',
        () => core.listPodForAllNamespaces({ labelSelector: ownedSelector }) as never,
        ownedSelector,
        cachedPod,
      ),
      onPod,
    );
    watch(
      'services',
      slimInformer(
        kc,
        '/api/v1/services',
        () => core.listServiceForAllNamespaces({ labelSelector: ownedSelector }) as never,
        ownedSelector,
        cachedOwned,
      ),
      (verb, obj) => onOwned(verb, { ...obj, kind: 'Service' }),
    );
    if (opts.watchScaledObjects ?? true) {
      watch(
        'scaledobjects',
        slimInformer(
          kc,
          '/apis/keda.sh/v1alpha1/scaledobjects',
          () =>
            custom.listClusterCustomObject({
              group: 'keda.sh',
              version: 'v1alpha1',
              plural: 'scaledobjects',
              labelSelector: ownedSelector,
            }) as never,
          ownedSelector,
          cachedOwned,
        ),
        onOwned,
      );
    }
  }

  /** One resource's resync signal, resolved when the run it joined or started has ended. */
  async function resyncOne(ref: ReconcileRef): Promise<void> {
    if (stopped || !filter(ref)) return;
    const handle = await opts.client.workflow.signalWithStart<
      typeof reconcileWorkflow,
      [ReconcileSignalArgs]
    >('reconcileWorkflow', reconcileStart(ref, RESYNC_REASON, { taskQueue, identity: opts.identity }));
    await handle.result();
  }

  let resyncing = false;
  let stopWaves: () => void = () => undefined;
  async function resync(): Promise<void> {
    // A resync still going when the next is due (a very large fleet) is not doubled.
    if (resyncing) return;
    resyncing = true;
    const refs = KINDS.flatMap((kind) => cached(kind).map((obj) => refOf({ ...obj, kind })));
    try {
      await pacedResync(refs, {
        waveSize: opts.resyncWave ?? DEFAULT_RECONCILE_CONCURRENCY,
        waveTimeoutMs: RESYNC_WAVE_TIMEOUT_MS,
        resyncOne: (ref) =>
          resyncOne(ref).catch((err: unknown) =>
            log('resync signal failed; the next resync retries', { ref, error: String(err) }),
          ),
        stopped: () => stopped,
        stopping: new Promise<void>((r) => (stopWaves = r)),
      });
    } finally {
      resyncing = false;
    }
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      if (watched.length === 0) build();
      // An informer whose first list fails emits `error` and is restarted by its handler.
      await Promise.all(watched.map((w) => w.informer.start().catch(() => undefined)));
      resyncTimer = setInterval(() => void resync(), opts.resyncIntervalMs ?? 5 * 60_000);
      resyncTimer.unref();
    },
    async stop() {
      stopped = true;
      if (resyncTimer) clearInterval(resyncTimer);
      stopWaves();
      for (const w of watched) {
        if (w.timer) clearTimeout(w.timer);
        w.timer = undefined;
        w.connected = false;
      }
      await Promise.all(watched.map((w) => w.informer.stop()));
      await Promise.allSettled([...inFlight.values()]);
    },
    synced: () => watched.length > 0 && watched.every((w) => w.connected),
    enqueue,
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()]);
    },
  };
}
