// Pods as worker processes: kwok only pretends containers run, so for every pod kwok marks
// Running whose image this runner knows, it starts that image's local command (the example
// worker) with exactly the container's environment (src/dev/pod-env.ts: env, envFrom, Secrets
// resolved from the apiserver). A process that exits is reported in the pod's status the way a
// kubelet reports it (restartCount, lastState, CrashLoopBackOff) and restarted with back-off; a
// pod that is deleted gets SIGTERM and at most its grace period (then SIGKILL), while the runner's
// finalizer keeps the pod Terminating until the process has exited — so KEDA's and the
// Deployment controller's decisions change real capacity and scale-in can be watched draining.
// Test-and-dev only. See docs/adr/0085-kwok-pools-and-pod-runner.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type V1Container,
  type V1ContainerStatus,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from './binaries.js';
import { containerEnvironment, PodEnvError, type EnvLookups } from './pod-env.js';

/** Finalizer the runner holds on a pod while its process runs. */
export const POD_RUNNER_FINALIZER = 'layer.dev/worker-process';

/** How to run an image locally. */
export interface WorkerCommand {
  command: string;
  args: string[];
  cwd?: string;
  /**
   * What the image itself sets (its Dockerfile ENV), under the pod's variables: two tags of one
   * example can be two builds (a build label, a call log) while running the same command.
   */
  env?: Record<string, string>;
}

export interface PodRunnerOptions {
  kubeConfig: KubeConfig;
  /** The command for a container image, or undefined to leave the pod to kwok alone. */
  commandFor: (image: string) => WorkerCommand | undefined;
  /** Process environment under the pod's (PATH, HOME; nothing of the test's own env leaks). */
  baseEnv?: Record<string, string>;
  logDir: string;
  log: Logger;
  /** First restart delay after a crash (kubelet: 10 s, doubling to 5 min). Default 1 s. */
  restartBackoffMs?: number;
}

/** One worker process the runner started, for tests to assert on. */
export interface WorkerRun {
  pod: string;
  node: string;
  uid: string;
  pid: number;
  env: Record<string, string>;
  startedAt: number;
  /** When SIGTERM was sent (pod deleted). */
  terminatingAt?: number;
  exitedAt?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /** SIGKILL had to follow because the grace period ran out. */
  killed?: boolean;
  logFile: string;
}

export interface PodRunner {
  /** Every process started so far (running and exited), oldest first. */
  runs(): WorkerRun[];
  /** Pods whose environment could not be built (CreateContainerConfigError), with the reason. */
  configErrors(): { pod: string; message: string }[];
  stop(): Promise<void>;
}

interface Slot {
  pod: string;
  uid: string;
  child?: ChildProcess;
  run?: WorkerRun;
  restarts: number;
  deleting: boolean;
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

const key = (p: V1Pod) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;

function decode(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** The Secrets and ConfigMaps a container refers to, fetched (absent ones as undefined). */
async function fetchLookups(core: CoreV1Api, ns: string, c: V1Container): Promise<EnvLookups> {
  const secrets = new Set<string>();
  const maps = new Set<string>();
  for (const f of c.envFrom ?? []) {
    if (f.secretRef?.name) secrets.add(f.secretRef.name);
    if (f.configMapRef?.name) maps.add(f.configMapRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    if (e.valueFrom?.configMapKeyRef?.name) maps.add(e.valueFrom.configMapKeyRef.name);
  }
  const orUndefined = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const s = new Map<string, Record<string, string> | undefined>();
  const m = new Map<string, Record<string, string> | undefined>();
  for (const name of secrets) {
    const secret = await orUndefined(() => core.readNamespacedSecret({ name, namespace: ns }));
    s.set(name, secret ? { ...decode(secret.data), ...(secret.stringData ?? {}) } : undefined);
  }
  for (const name of maps) {
    const cm = await orUndefined(() => core.readNamespacedConfigMap({ name, namespace: ns }));
    m.set(name, cm ? { ...(cm.data ?? {}) } : undefined);
  }
  return { secret: (_ns, name) => s.get(name), configMap: (_ns, name) => m.get(name) };
}

export async function startPodRunner(opts: PodRunnerOptions): Promise<PodRunner> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const slots = new Map<string, Slot>();
  const history: WorkerRun[] = [];
  const configErrors: { pod: string; message: string }[] = [];
  const backoff = opts.restartBackoffMs ?? 1_000;
  let stopping = false;
  mkdirSync(opts.logDir, { recursive: true });
  const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

  const workerContainer = (pod: V1Pod) =>
    (pod.spec?.containers ?? []).find((c) => c.image && opts.commandFor(c.image));

  async function patchContainerStatus(pod: V1Pod, c: V1Container, status: Partial<V1ContainerStatus>) {
    const ready = status.ready ?? false;
    const now = new Date();
    await core
      .patchNamespacedPodStatus(
        {
          name: pod.metadata!.name!,
          namespace: pod.metadata!.namespace!,
          body: {
            status: {
              conditions: [
                { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
                { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
              ],
              containerStatuses: [{ name: c.name, image: c.image ?? '', imageID: '', ...status, ready }],
            },
          },
        },
        strategic,
      )
      .catch((err: unknown) => opts.log(`pod runner: status of ${key(pod)}: ${(err as Error).message}`));
  }

  async function addFinalizer(pod: V1Pod): Promise<void> {
    const has = pod.metadata?.finalizers ?? [];
    if (has.includes(POD_RUNNER_FINALIZER)) return;
    const body =
      has.length === 0
        ? [{ op: 'add', path: '/metadata/finalizers', value: [POD_RUNNER_FINALIZER] }]
        : [{ op: 'add', path: '/metadata/finalizers/-', value: POD_RUNNER_FINALIZER }];
    await core.patchNamespacedPod(
      { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body },
      jsonPatch,
    );
  }

  async function removeFinalizer(ns: string, name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: V1Pod;
      try {
        live = await core.readNamespacedPod({ name, namespace: ns });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return;
        throw err;
      }
      const list = live.metadata?.finalizers ?? [];
      const index = list.indexOf(POD_RUNNER_FINALIZER);
      if (index < 0) return;
      try {
        await core.patchNamespacedPod(
          {
            name,
            namespace: ns,
            body: [
              { op: 'test', path: `/metadata/finalizers/${index}`, value: POD_RUNNER_FINALIZER },
              { op: 'remove', path: `/metadata/finalizers/${index}` },
            ],
          },
          jsonPatch,
        );
        return;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 404) return;
        if (code !== 422 && code !== 409) throw err;
      }
    }
  }

  async function start(slot: Slot, pod: V1Pod, c: V1Container): Promise<void> {
    const cmd = opts.commandFor(c.image!)!;
    let env: Record<string, string>;
    try {
      env = containerEnvironment(pod, c, await fetchLookups(core, pod.metadata!.namespace!, c));
    } catch (err) {
      if (!(err instanceof PodEnvError)) throw err;
      configErrors.push({ pod: slot.pod, message: err.message });
      opts.log(`pod runner: ${err.message}`);
      await patchContainerStatus(pod, c, {
        restartCount: slot.restarts,
        state: { waiting: { reason: 'CreateContainerConfigError', message: err.message } },
      });
      return;
    }
    if (slot.deleting || stopping) return;
    await addFinalizer(pod);
    const logFile = join(opts.logDir, `${slot.pod.replace('/', '_')}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd.command, cmd.args, {
      cwd: cmd.cwd,
      env: { ...(opts.baseEnv ?? {}), ...(cmd.env ?? {}), ...env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const run: WorkerRun = {
      pod: slot.pod,
      node: pod.spec?.nodeName ?? '',
      uid: slot.uid,
      pid: child.pid ?? -1,
      env,
      startedAt: Date.now(),
      logFile,
    };
    history.push(run);
    slot.child = child;
    slot.run = run;
    opts.log(`pod runner: started ${slot.pod} on ${run.node} (pid ${run.pid})`);
    slot.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        run.exitedAt = Date.now();
        run.exitCode = code;
        run.signal = signal;
        slot.child = undefined;
        resolve();
        if (slot.deleting || stopping) return;
        // Crashed while the pod should run: report it as a kubelet would, then restart.
        slot.restarts += 1;
        const delay = Math.min(backoff * 2 ** (slot.restarts - 1), 60_000);
        opts.log(`pod runner: ${slot.pod} exited (${signal ?? `code ${code}`}); restart in ${delay} ms`);
        void patchContainerStatus(pod, c, {
          restartCount: slot.restarts,
          lastState: {
            terminated: {
              exitCode: code ?? 137,
              reason: 'Error',
              startedAt: new Date(run.startedAt),
              finishedAt: new Date(run.exitedAt),
            },
          },
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${slot.pod}`,
            },
          },
        });
        slot.restartTimer = setTimeout(() => {
          if (slot.deleting || stopping) return;
          void start(slot, pod, c)
            .then(() =>
              slot.child
                ? patchContainerStatus(pod, c, {
                    restartCount: slot.restarts,
                    state: { running: { startedAt: new Date() } },
                    ready: true,
                  })
                : undefined,
            )
            .catch((err: unknown) => opts.log(`pod runner: restart ${slot.pod}: ${(err as Error).message}`));
        }, delay);
      });
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; then the finalizer goes and kwok deletes the pod. */
  async function terminate(slot: Slot, graceSeconds: number, ns: string, name: string): Promise<void> {
    if (slot.deleting) return;
    slot.deleting = true;
    clearTimeout(slot.restartTimer);
    const child = slot.child;
    if (child && slot.run) {
      slot.run.terminatingAt = Date.now();
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (slot.run) slot.run.killed = true;
        child.kill('SIGKILL');
      }, graceSeconds * 1000);
      await slot.exited;
      clearTimeout(timer);
      opts.log(
        `pod runner: ${slot.pod} exited ${slot.run.exitedAt! - slot.run.terminatingAt} ms after SIGTERM (grace ${graceSeconds} s)`,
      );
    }
    await removeFinalizer(ns, name).catch((err: unknown) =>
      opts.log(`pod runner: finalizer of ${slot.pod}: ${(err as Error).message}`),
    );
  }

  function onPod(pod: V1Pod): void {
    const k = key(pod);
    const c = workerContainer(pod);
    if (!c) return;
    let slot = slots.get(k);
    if (slot && slot.uid !== pod.metadata?.uid) slot = undefined; // a new pod with the old name
    if (pod.metadata?.deletionTimestamp) {
      if (!slot) {
        // Never started (or started by an earlier runner): nothing to drain; let it go.
        if ((pod.metadata.finalizers ?? []).includes(POD_RUNNER_FINALIZER))
          void removeFinalizer(pod.metadata.namespace!, pod.metadata.name!).catch(() => undefined);
        return;
      }
      // What the deleter asked for (the Deployment controller passes the pod's own grace period).
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      void terminate(slot, grace, pod.metadata.namespace!, pod.metadata.name!);
      return;
    }
    if (slot || pod.status?.phase !== 'Running' || !pod.spec?.nodeName) return;
    slot = { pod: k, uid: pod.metadata?.uid ?? '', restarts: 0, deleting: false };
    slots.set(k, slot);
    const s = slot;
    void start(s, pod, c).catch((err: unknown) =>
      opts.log(`pod runner: start ${k}: ${(err as Error).message}`),
    );
  }

  function onDelete(pod: V1Pod): void {
    const slot = slots.get(key(pod));
    if (!slot || slot.uid !== pod.metadata?.uid) return;
    slots.delete(key(pod));
    // Gone without our finalizer's consent (force delete): stop the process now.
    if (!slot.deleting) {
      slot.deleting = true;
      clearTimeout(slot.restartTimer);
      slot.child?.kill('SIGKILL');
    }
  }

  const informer: Informer<V1Pod> = makeInformer(opts.kubeConfig, '/api/v1/pods', () =>
    core.listPodForAllNamespaces(),
  );
  informer.on('add', onPod);
  informer.on('update', onPod);
  informer.on('delete', onDelete);
  informer.on('error', () => {
    if (!stopping) setTimeout(() => void informer.start().catch(() => undefined), 1_000);
  });
  await informer.start();

  return {
    runs: () => [...history],
    configErrors: () => [...configErrors],
    stop: async () => {
      stopping = true;
      await informer.stop();
      await Promise.all(
        [...slots.values()].map(async (slot) => {
          clearTimeout(slot.restartTimer);
          if (!slot.child) return;
          slot.child.kill('SIGTERM');
          const t = setTimeout(() => slot.child?.kill('SIGKILL'), 10_000);
          await slot.exited;
          clearTimeout(t);
        }),
      );
    },
  };
}
