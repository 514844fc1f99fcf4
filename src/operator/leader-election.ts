// Leader election for the watcher, on a coordination.k8s.io Lease, as controller-runtime and
// client-go do it: one replica holds the Lease and runs the informers that signal reconcile
// workflows; the others stand by (their orchestrator Workers keep running workflows and
// activities) and take over when the holder stops renewing. Correctness never depended on it —
// one reconcile workflow per resource ID already rules out concurrent passes (ADR 0020) — but
// without it every replica signals every event, and each duplicate signal costs a pass.
import {
  ApiException,
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  /** Namespace and name of the Lease (one per operator installation). */
  namespace: string;
  name: string;
  /** This replica's identity, written as holderIdentity (pod name + a random suffix). */
  identity: string;
  /** How long a Lease is valid after its last renewal (default 15 s, as client-go). */
  leaseDurationMs?: number;
  /** The holder gives up when it could not renew for this long (default 10 s). */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading: () => Promise<void> | void;
  onStoppedLeading: () => Promise<void> | void;
  log?: (line: string, fields?: Record<string, unknown>) => void;
  clock?: () => number;
}

export interface LeaderElector {
  start(): void;
  /** Stops trying; a holder releases the Lease so a standby takes over at once. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

/** What the Lease says this replica should do (pure; table-tested). */
export type LeaseDecision = 'create' | 'renew' | 'acquire' | 'wait';

export function leaseDecision(
  lease: Pick<V1Lease, 'spec'> | undefined,
  identity: string,
  nowMs: number,
  defaultDurationMs: number,
): LeaseDecision {
  if (!lease) return 'create';
  const spec = lease.spec ?? {};
  if (spec.holderIdentity === identity) return 'renew';
  // Released (empty holder) or never renewed: free to take.
  if (!spec.holderIdentity || !spec.renewTime) return 'acquire';
  const durationMs = spec.leaseDurationSeconds ? spec.leaseDurationSeconds * 1000 : defaultDurationMs;
  return new Date(spec.renewTime).getTime() + durationMs <= nowMs ? 'acquire' : 'wait';
}

/**
 * @example
 * const elector = createLeaderElector({ kubeConfig, namespace: 'layer', name: 'layer-operator',
 *   identity, onStartedLeading: () => watcher.start(), onStoppedLeading: () => watcher.stop() });
 * elector.start();
 */
export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  const api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  const clock = opts.clock ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const { namespace, name, identity } = opts;
  let leading = false;
  let lastRenewMs = 0;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> = Promise.resolve();
  let transition: Promise<void> = Promise.resolve();

  const specFor = (acquired: boolean, previous?: V1Lease['spec']): NonNullable<V1Lease['spec']> => {
    const now = new V1MicroTime(clock());
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: acquired ? now : (previous?.acquireTime ?? now),
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (acquired && previous ? 1 : 0),
    };
  };

  /** One attempt; true when this replica holds the Lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    let lease: V1Lease | undefined;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
    const decision = leaseDecision(lease, identity, clock(), leaseDurationMs);
    if (decision === 'wait') return false;
    try {
      if (decision === 'create') {
        await api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: specFor(true) },
        });
      } else {
        // replace carries resourceVersion: two replicas taking an expired Lease at once → one 409.
        await api.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease!, spec: specFor(decision === 'acquire', lease!.spec) },
        });
      }
      return true;
    } catch (err) {
      if (err instanceof ApiException && (err.code === 409 || err.code === 422)) return false;
      throw err;
    }
  }

  function setLeading(now: boolean, why: string): void {
    if (now === leading) return;
    leading = now;
    log(now ? 'leading: this replica runs the watcher' : 'standing by: another replica leads', {
      lease: `${namespace}/${name}`,
      identity,
      why,
    });
    transition = transition.then(async () => {
      try {
        await (now ? opts.onStartedLeading() : opts.onStoppedLeading());
      } catch (err) {
        log('leadership transition failed', { error: String(err) });
      }
    });
  }

  async function tick(): Promise<void> {
    try {
      const holds = await tryAcquireOrRenew();
      if (holds) {
        lastRenewMs = clock();
        setLeading(true, 'lease held');
      } else if (leading) setLeading(false, 'lease held by another replica');
    } catch (err) {
      // The apiserver did not answer: keep leading until the renew deadline, as client-go does.
      if (leading && clock() - lastRenewMs > renewDeadlineMs)
        setLeading(false, `could not renew for ${renewDeadlineMs} ms: ${String(err)}`);
      else log('lease call failed; retrying', { error: String(err) });
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      loop = tick().finally(schedule);
    }, retryPeriodMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      log('standing by until the lease is held', { lease: `${namespace}/${name}`, identity });
      loop = tick().finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await loop;
      if (!leading) return;
      // Stop the watcher first, then release: an empty holder lets a standby acquire on its next
      // attempt instead of after the lease duration.
      setLeading(false, 'stopping');
      await transition;
      try {
        const lease = await api.readNamespacedLease({ name, namespace });
        if (lease.spec?.holderIdentity === identity)
          await api.replaceNamespacedLease({
            name,
            namespace,
            body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
          });
      } catch (err) {
        log('lease not released; a standby takes over when it expires', { error: String(err) });
      }
    },
    isLeader: () => leading,
  };
}
