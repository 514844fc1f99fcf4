// Operator benchmark (issue 6 item 10), on a real kube-apiserver + etcd and a real Temporal dev
// server, with the real `layer operator` process (watcher, orchestrator Worker with the operator
// activities and the real Temporal WorkloadWorkflows, HTTP API) and an embedded store:
//   1. latency: Functions applied a few at a time; for each, the time from the create call
//      until both its Deployment and its KEDA ScaledObject exist (p50 / p95),
//   2. settle: a burst of Functions created as fast as the apiserver takes them; the time until
//      every one has its Deployment and ScaledObject and a status whose observedGeneration is
//      current.
//   3. fleet (`--functions N`, instead of 1 and 2): N Functions applied at once; per Function the
//      time from its create call until its Deployment and ScaledObject exist (p50 / p95, seen by
//      watches, under that load), the time until every one has its objects and a current status
//      (settle_all_s), then spec changes to single Functions among the N, one at a time, until
//      each status is current again (p50 / p95); CPU seconds of the operator, apiserver, etcd and
//      Temporal server over the burst, and the reconcile passes it took (from the histories).
//   4. `--controllers` (issue 23 item 6): the same on a cluster where controllers act
//      (src/dev/controllers.ts: kube-controller-manager, kube-scheduler, kwok nodes shaped like the
//      stock pools, KEDA), fleet mode with 1,000 Functions unless --functions says otherwise. Pods
//      are kwok's. The seed's Functions scale from min 0 and run no pod until rows come (ADR 0128),
//      so `--pod-functions N` (default 100) of them get `min: 1`: for those, the time from the
//      create call until a pod of it runs (p50 / p95). Also the CPU of every controller per pass,
//      and KEDA's reaction on a sample of Functions whose pods are real worker processes
//      (bench/operator-keda.ts).
// Prints progress on stderr; the last line on stdout is one JSON object.
// Usage: npm run bench:operator [-- --latency 100 --settle 500 --concurrency 4]
//        npm run bench:operator -- --functions 500 [--spec-changes 20]
//        npm run bench:operator -- --controllers [--functions 1000 --pod-functions 100 --keda-sample 10
//          --keda-rows 200 --keda-polling-s 15 --keda-cooldown-s 30 --keda-discovery-s 2 --keda-push
//          --keda-sequential]
//        (--keda-push: the operator is KEDA's external-push scaler, docs/adr/0131; --keda-sequential:
//        rows reach one sample Function at a time, each once the one before has processed, so
//        each activation's workers start alone on this host's 2 cores, as each pod would on its node)
//        any mode: --operator-memory-limit-mib 512 (default, the chart's limit; 0 for none): the
//          operator runs in a memory cgroup of that size, as in its pod (bench/memory-cgroup.ts)
//
// Over 400 lines on purpose: one measuring script read top to bottom; its phases share the
// apiserver, operator process and CRD set-up in main.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComputePool } from '../src/api/infra-rules.js';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { parse } from 'yaml';
import { startControlledCluster } from '../src/dev/controllers.js';
import { startKubeApiServer } from '../src/dev/kube-apiserver.js';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-server.js';
import type { KubeApiServer } from '../src/dev/kube-apiserver.js';
import { cpuSeconds, procStatusMb } from './proc.js';
import { labelValue, workloadObjectName } from '../src/operator/names.js';
import { LABEL } from '../src/operator/labels.js';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { startStoreServer } from '../src/store/server.js';
import { DEFAULT_RELEASE_SECRET_NAME, DEFAULT_STORE_CREDENTIAL_KEY } from '../src/operator/settings.js';
import { arg, loadText } from './harness.js';
import { apiserverRequestCounts, requestsPerPass } from './apiserver-requests.js';
import { memoryCgroup, type MemoryCgroup } from './memory-cgroup.js';
import {
  KWOK_ONLY_IMAGE,
  kedaReaction,
  sampleSpec,
  startSampleRunner,
  type KedaSettings,
} from './operator-keda.js';
import { LAYER_BIN, waitForHttpOk } from './servers.js';
import { freePort } from '../src/dev/net.js';

const LATENCY_FUNCTIONS = arg('latency', 100);
const SETTLE_FUNCTIONS = arg('settle', 500);
const CONCURRENCY = arg('concurrency', 4);
const SETTLE_TIMEOUT_MS = arg('settle-timeout-s', 900) * 1000;
const CONTROLLERS = process.argv.includes('--controllers');
const FLEET_FUNCTIONS = arg('functions', CONTROLLERS ? 1000 : 0, 0);
const KEDA: KedaSettings = {
  sample: CONTROLLERS ? Math.min(arg('keda-sample', 10, 0), FLEET_FUNCTIONS) : 0,
  rows: arg('keda-rows', 200),
  // The chart's polling interval; a cooldown short enough to wait for.
  pollingS: arg('keda-polling-s', 15),
  cooldownS: arg('keda-cooldown-s', 30, 0),
  discoveryS: arg('keda-discovery-s', 2),
  // The operator as KEDA's external-push scaler (ADR 0131; --keda-push): activations pushed.
  push: process.argv.includes('--keda-push'),
  // Rows to one sample Function at a time (--keda-sequential): each activation starts alone.
  sequential: process.argv.includes('--keda-sequential'),
};
/** Fleet Functions after the KEDA sample that keep one pod (min 1): apply → pod running is timed on them. */
const POD_FUNCTIONS = CONTROLLERS
  ? Math.min(arg('pod-functions', 100, 0), Math.max(0, FLEET_FUNCTIONS - KEDA.sample))
  : 0;
const SPEC_CHANGES = arg('spec-changes', 20, 0);
/** The operator runs in a memory cgroup with the chart's pod limit (0: none, as before). */
const OPERATOR_MEMORY_LIMIT_MIB = arg('operator-memory-limit-mib', 512, 0);
const FLEET_NAMESPACE = 'bench-fleet';
const GROUP = 'hevlayer.com';
const VERSION = 'v1alpha1';
const ROOT = new URL('../', import.meta.url);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
/** Other work on the machine skews every figure: printed around each phase. */
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}`;
const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function installCrds(kc: KubeConfig): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  // On the controlled cluster KEDA's own CRDs are installed already (src/dev/controllers.ts).
  const dirs = [
    new URL('deploy/crds/', ROOT),
    ...(CONTROLLERS ? [] : [new URL('test/fixtures/keda/', ROOT)]),
  ];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const crd = parse(readFileSync(new URL(f, dir), 'utf8')) as V1CustomResourceDefinition;
      const name = crd.metadata!.name!;
      await ext.patchCustomResourceDefinition(
        { name, body: crd, fieldManager: 'layer-bench', force: true },
        ssa,
      );
      for (;;) {
        const got = await ext.readCustomResourceDefinition({ name });
        if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        await sleep(100);
      }
    }
  }
}

function functionCr(
  namespace: string,
  name: string,
  opts: { kedaSample?: boolean; keepsPod?: boolean } = {},
): object {
  const seed = parse(
    readFileSync(new URL('test/fixtures/seeds/function-tag-products.yaml', ROOT), 'utf8'),
  ) as {
    spec: { output: object; worker: object; filter: unknown };
  };
  const spec = {
    ...seed.spec,
    // Each its own output attribute: one Function per attribute and store namespace (ADR 0070),
    // so the seed's `tags` would leave every Function but the first refused.
    output: { ...seed.spec.output, attribute: outputAttribute(name) },
    // The seed's filter names its version attribute (tags_v); with the attribute renamed, a filter
    // still naming tags_v is refused by the store (unknown attribute) and nothing is discovered.
    filter: JSON.parse(
      JSON.stringify(seed.spec.filter).replaceAll('"tags_v"', `"${outputAttribute(name)}_v"`),
    ),
    // With controllers, a pod the pod runner does not know is kwok's alone (no process).
    ...(CONTROLLERS ? { worker: { ...seed.spec.worker, image: KWOK_ONLY_IMAGE } } : {}),
    ...(opts.keepsPod ? { scaling: { pool: 'cpu', mode: 'autoscale', replicas: { min: 1, max: 2 } } } : {}),
  };
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Function',
    metadata: { name, namespace },
    spec: opts.kedaSample ? sampleSpec(name, KEDA, spec) : spec,
  };
}

const outputAttribute = (name: string) => `tags_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** What the image and the chart set in the operator's environment (Dockerfile, _pod.tpl). */
const OPERATOR_POD_ENV = {
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=2',
};

/**
 * `layer operator` as shipped, configured only through its environment; ready when its
 * /readyz says so (the informers have listed) — what a kubelet's readiness probe waits for.
 */
let operatorCgroup: MemoryCgroup | undefined;

/** The pod's figures from the cgroup: its limit, peak charge and OOM kills (none without one). */
function cgroupKeys(): Record<string, number | string | undefined> {
  if (!operatorCgroup) return { operator_memory_limit_mib: 'none' };
  return {
    operator_memory_limit_mib: operatorCgroup.limitMib,
    operator_cgroup_peak_mib: operatorCgroup.peakMib(),
    operator_oom_kills: operatorCgroup.oomKills(),
  };
}

/** The operator's V8 heap figures at this moment, from prom-client's default metrics at /metrics. */
async function operatorHeapMb(apiUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${apiUrl}/metrics`).catch(() => undefined);
  if (!res?.ok) return {};
  const text = await res.text();
  const value = (metric: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
    return line ? Math.round(Number(line.split(' ')[1]) / 1e5) / 10 : undefined;
  };
  const out: Record<string, number> = {};
  for (const [key, metric] of [
    ['operator_heap_used_mb_end_of_burst', 'nodejs_heap_size_used_bytes'],
    ['operator_heap_total_mb_end_of_burst', 'nodejs_heap_size_total_bytes'],
    ['operator_external_mb_end_of_burst', 'nodejs_external_memory_bytes'],
  ] as const) {
    const mb = value(metric);
    if (mb !== undefined) out[key] = mb;
  }
  return out;
}

async function startOperator(port: number, env: Record<string, string>): Promise<ChildProcess> {
  // e.g. LAYER_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the operator.
  const nodeArgs = (process.env.LAYER_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const command = [process.execPath, ...nodeArgs, LAYER_BIN, 'operator', '--port', String(port)];
  // In the pod's memory cgroup, joined before exec so Node sizes its heap from the limit.
  const [file, ...args] = operatorCgroup
    ? ['sh', '-c', 'echo $$ > "$0" && exec "$@"', operatorCgroup.procsFile, ...command]
    : command;
  const child = spawn(file!, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LAYER_FROM_SOURCE: '1',
      LAYER_API_HOST: '127.0.0.1',
      // As the chart's pods run it (the image's MALLOC_ARENA_MAX, the chart's NODE_OPTIONS,
      // docs/adr/0118 and 0114), so operator_rss_mb_* is the pod's figure. The build as the image
      // ships it: LAYER_BENCH_OPERATOR_ENV="LAYER_FROM_SOURCE=0" after `npm run build`.
      ...OPERATOR_POD_ENV,
      // Tuning under test, e.g. LAYER_BENCH_OPERATOR_ENV="LAYER_MAX_CACHED_WORKFLOWS=100 MALLOC_ARENA_MAX=2".
      ...Object.fromEntries(
        (process.env.LAYER_BENCH_OPERATOR_ENV ?? '')
          .split(' ')
          .filter((kv) => kv.includes('='))
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
      ...env,
    },
  });
  // Its log (JSON lines) is kept for the error should it exit; warnings and errors are shown.
  let output = '';
  const forward = (d: Buffer) => {
    const text = d.toString();
    output = (output + text).slice(-64_000);
    for (const line of text.split('\n')) {
      const level = /"level":(\d+)/.exec(line)?.[1];
      if (level ? Number(level) >= 40 : line.trim() !== '') log(`operator: ${line}`);
    }
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, child, 'layer operator', () => output);
  return child;
}

async function exists(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

/** When each named object was first seen by a watch on a namespace (informer add events). */
function firstSeen(
  kc: KubeConfig,
  path: string,
  list: () => Promise<unknown>,
): {
  seen: Map<string, number>;
  informer: { start(): Promise<void>; stop(): Promise<void> };
  on(fn: (obj: KubernetesObject) => void): void;
} {
  const seen = new Map<string, number>();
  const informer = makeInformer<KubernetesObject>(kc, path, list as never);
  const listeners: ((obj: KubernetesObject) => void)[] = [];
  const record = (obj: KubernetesObject) => {
    const name = obj.metadata?.name;
    if (name && !seen.has(name)) seen.set(name, performance.now());
    for (const l of listeners) l(obj);
  };
  informer.on('add', record);
  informer.on('update', record);
  // A watch the apiserver ends is started again (the informer relists and replays adds) — but
  // not once stopped: stop() aborts the watch, which the informer reports as an error, and a
  // restart from here kept watching (then retrying every second against the stopped apiserver)
  // forever, so the bench printed its result and never exited.
  let stopped = false;
  let restart: NodeJS.Timeout | undefined;
  informer.on('error', () => {
    if (stopped) return;
    restart = setTimeout(() => void (stopped ? undefined : informer.start().catch(() => undefined)), 1000);
  });
  return {
    seen,
    informer: {
      start: () => informer.start(),
      stop: async () => {
        stopped = true;
        clearTimeout(restart);
        await informer.stop();
      },
    },
    on: (fn) => listeners.push(fn),
  };
}

interface FunctionObject extends KubernetesObject {
  status?: { observedGeneration?: number };
}

interface FleetServers {
  kube: KubeApiServer;
  temporal: TemporalDevServer;
  operator: ChildProcess;
  /** The operator's HTTP API (the queue-depth endpoint KEDA polls). */
  apiUrl: string;
  storeUrl: string;
  /** With --controllers: their pids, and the sample's call log (bench/operator-keda.ts). */
  controllers?: { pids: Record<string, number>; callLog: string };
}

async function fleet(kc: KubeConfig, servers: FleetServers): Promise<Record<string, unknown>> {
  const ns = FLEET_NAMESPACE;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const keda = { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects', namespace: ns };
  const deployments = firstSeen(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, () =>
    apps.listNamespacedDeployment({ namespace: ns }),
  );
  const scaledObjects = firstSeen(kc, `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects`, () =>
    custom.listNamespacedCustomObject(keda),
  );
  const fnPath = `/apis/${GROUP}/${VERSION}/namespaces/${ns}/functions`;
  const functions = firstSeen(kc, fnPath, () =>
    custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: 'functions', namespace: ns }),
  );
  /** name → the time its status became current for the generation being waited on. */
  const current = new Map<string, { generation: number; at: number }>();
  functions.on((obj) => {
    const f = obj as FunctionObject;
    const generation = f.metadata?.generation;
    if (generation !== undefined && f.status?.observedGeneration === generation) {
      const before = current.get(f.metadata!.name!);
      if (!before || before.generation < generation)
        current.set(f.metadata!.name!, { generation, at: performance.now() });
    }
  });
  /** Deployment name → spec.replicas as last seen (KEDA's decisions). */
  const replicas = new Map<string, number | undefined>();
  deployments.on((obj) => replicas.set(obj.metadata!.name!, (obj as V1Deployment).spec?.replicas));
  // With controllers: when a pod of each Function first runs (its workload-name label).
  const pods = servers.controllers
    ? firstSeen(kc, `/api/v1/namespaces/${ns}/pods`, () =>
        kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns }),
      )
    : undefined;
  const podRunning = new Map<string, number>();
  /** The first running pod's creation and scheduling (the apiserver's clock, whole seconds). */
  const podSteps = new Map<string, { createdAt: number; scheduledAt: number | undefined }>();
  pods?.on((obj) => {
    const workload = obj.metadata?.labels?.[LABEL.workloadName];
    const pod = obj as V1Pod;
    if (workload && pod.status?.phase === 'Running' && !podRunning.has(workload)) {
      podRunning.set(workload, performance.now());
      const scheduled = pod.status.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime;
      podSteps.set(workload, {
        createdAt: new Date(pod.metadata!.creationTimestamp!).getTime(),
        scheduledAt: scheduled ? new Date(scheduled).getTime() : undefined,
      });
    }
  });
  const watches = [deployments, scaledObjects, functions, ...(pods ? [pods] : [])];
  for (const w of watches) await w.informer.start();

  const pids: Record<string, number | undefined> = {
    operator: servers.operator.pid,
    apiserver: servers.kube.pids.apiserver,
    etcd: servers.kube.pids.etcd,
    temporal: servers.temporal.pid,
    ...servers.controllers?.pids,
  };
  const cpu = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const names = Array.from({ length: FLEET_FUNCTIONS }, (_, i) => `fleet-${i}`);
  const createdAt = new Map<string, number>();

  log(`fleet: ${FLEET_FUNCTIONS} Functions created at once; ${load()}`);
  const loadStart = loadText();
  const cpu0 = cpu();
  const requests0 = await apiserverRequestCounts(kc);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < names.length) {
        const i = next++;
        const name = names[i]!;
        createdAt.set(name, performance.now());
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'functions',
          namespace: ns,
          body: functionCr(ns, name, {
            kedaSample: i < KEDA.sample,
            keepsPod: i >= KEDA.sample && i < KEDA.sample + POD_FUNCTIONS,
          }),
        });
      }
    }),
  );
  const createdMs = performance.now() - t0;
  log(`  created in ${(createdMs / 1000).toFixed(1)} s`);
  const objectName = (n: string) => workloadObjectName('Function', n);
  const hasObjects = (n: string) =>
    deployments.seen.has(objectName(n)) && scaledObjects.seen.has(objectName(n));
  let settledMs = Number.NaN;
  let lastReport = 0;
  while (performance.now() - t0 < SETTLE_TIMEOUT_MS) {
    const withObjects = names.filter(hasObjects).length;
    const statusCurrent = names.filter((n) => current.has(n)).length;
    if (withObjects === names.length && statusCurrent === names.length) {
      settledMs =
        Math.max(
          ...names.map((n) => current.get(n)!.at),
          ...names.map((n) =>
            Math.max(deployments.seen.get(objectName(n))!, scaledObjects.seen.get(objectName(n))!),
          ),
        ) - t0;
      break;
    }
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      log(`  ${withObjects} with objects, ${statusCurrent} status current; ${load()}`);
    }
    await sleep(100);
  }
  const cpu1 = cpu();
  const requests1 = await apiserverRequestCounts(kc);
  const burstWindow = { from: Date.now() - (performance.now() - t0), to: Date.now() };
  const operatorMb = {
    operator_rss_mb_end_of_burst: procStatusMb(servers.operator.pid, 'VmRSS'),
    operator_rss_mb_peak: procStatusMb(servers.operator.pid, 'VmHWM'),
    ...(operatorCgroup ? { operator_working_set_mib_end_of_burst: operatorCgroup.workingSetMib() } : {}),
    // Where the RSS is: V8's heap (JS objects: caches, workflow state) against the rest (the
    // Temporal core, buffers, code), from the operator's own /metrics.
    ...(await operatorHeapMb(servers.apiUrl)),
  };
  const applyToObjects = names
    .filter(hasObjects)
    .map(
      (n) =>
        Math.max(deployments.seen.get(objectName(n))!, scaledObjects.seen.get(objectName(n))!) -
        createdAt.get(n)!,
    )
    .sort((a, b) => a - b);
  log(`  settled in ${Number.isNaN(settledMs) ? 'timeout' : (settledMs / 1000).toFixed(1)} s; ${load()}`);
  const podNames = names.slice(KEDA.sample, KEDA.sample + POD_FUNCTIONS);
  if (pods) {
    // A pod may run after the status is current (the scheduler and kwok act on their own time).
    const deadline = performance.now() + 120_000;
    while (podNames.some((n) => !podRunning.has(labelValue(n))) && performance.now() < deadline)
      await sleep(200);
  }
  const applyToPodRunning = podNames
    .filter((n) => podRunning.has(labelValue(n)))
    .map((n) => podRunning.get(labelValue(n))! - createdAt.get(n)!)
    .sort((a, b) => a - b);

  // The fleet's idle CPU (Function workflows' timers and discovery), so the spec-change passes'
  // own CPU can be told apart from it.
  const IDLE_WINDOW_MS = 10_000;
  const idle0 = cpu();
  await sleep(IDLE_WINDOW_MS);
  const idle1 = cpu();
  const specCpu0 = cpu();
  const specFrom = Date.now();
  // Spec changes to single Functions among the N, one at a time (nothing else in flight).
  const specChangeMs: number[] = [];
  let specChangeFailures = 0;
  for (let k = 0; k < Math.min(SPEC_CHANGES, names.length) && !Number.isNaN(settledMs); k++) {
    const name = names[Math.floor((k * names.length) / SPEC_CHANGES)]!;
    const before = current.get(name)!.generation;
    const t = performance.now();
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: 'functions',
        namespace: ns,
        name,
        // Never the seed's 32: an equal value is no change and no new generation.
        body: { spec: { worker: { batchSize: 100 + k } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    let polled = performance.now();
    while ((current.get(name)?.generation ?? 0) <= before) {
      if (performance.now() - t > 120_000) break;
      await sleep(10);
      // The watch is the clock; a GET every 2 s guards against a watch that fell behind.
      if (performance.now() - polled > 2000) {
        polled = performance.now();
        const f = (await custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'functions',
          namespace: ns,
          name,
        })) as FunctionObject;
        const g = f.metadata?.generation ?? 0;
        if (f.status?.observedGeneration === g && g > (current.get(name)?.generation ?? 0))
          current.set(name, { generation: g, at: polled });
      }
    }
    const done = current.get(name);
    if (!done || done.generation <= before) {
      log(`  ${name}: spec change not settled after 120 s (${load()})`);
      specChangeFailures++;
      continue;
    }
    specChangeMs.push(done.at - t);
    log(`  spec change ${k + 1}: ${name} settled in ${Math.round(done.at - t)} ms`);
  }
  specChangeMs.sort((a, b) => a - b);
  const specCpu1 = cpu();
  const specWindow = { from: specFrom, to: Date.now() };

  const kedaKeys =
    servers.controllers && KEDA.sample > 0
      ? await kedaReaction({
          names: names.slice(0, KEDA.sample),
          k8sNamespace: ns,
          keda: KEDA,
          attribute: outputAttribute,
          replicas: (n) => replicas.get(objectName(n)),
          podRunningAt: (n) => podRunning.get(labelValue(n)),
          podSteps: (n) => podSteps.get(labelValue(n)),
          apiUrl: servers.apiUrl,
          store: createStoreClient({ baseUrl: servers.storeUrl }),
          callLog: servers.controllers.callLog,
          log,
        })
      : {};
  for (const w of watches) await w.informer.stop();

  // Passes during the burst (the CPU window), from the reconcile workflows' histories.
  const connection = await Connection.connect({ address: servers.temporal.address });
  let passes = 0;
  let specPasses = 0;
  let runs = 0;
  try {
    const client = new Client({ connection, namespace: servers.temporal.namespace });
    const ids: { workflowId: string; runId: string }[] = [];
    for await (const w of client.workflow.list({
      query: `WorkflowType = 'reconcileWorkflow' AND WorkflowId STARTS_WITH 'reconcile/Function/${ns}/'`,
    }))
      ids.push({ workflowId: w.workflowId, runId: w.runId });
    runs = ids.length;
    let i = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (i < ids.length) {
          const { workflowId, runId } = ids[i++]!;
          const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
          for (const e of history.events ?? []) {
            if (e.activityTaskScheduledEventAttributes?.activityType?.name !== 'reconcilePass') continue;
            const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
            if (at >= burstWindow.from && at <= burstWindow.to) passes++;
            if (at >= specWindow.from && at <= specWindow.to) specPasses++;
          }
        }
      }),
    );
  } finally {
    await connection.close();
  }
  const cpuUsed = Object.fromEntries(
    Object.keys(pids).map((k) => [k, Math.round(((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) * 10) / 10]),
  );
  const round = (ms: number) => Math.round(ms);
  const result = {
    mode: servers.controllers ? 'fleet with controllers' : 'fleet',
    functions: FLEET_FUNCTIONS,
    create_seconds: Math.round(createdMs / 100) / 10,
    settle_all_s: Number.isNaN(settledMs) ? null : Math.round(settledMs / 100) / 10,
    apply_to_objects_p50_ms: round(percentile(applyToObjects, 50)),
    apply_to_objects_p95_ms: round(percentile(applyToObjects, 95)),
    apply_to_objects_max_ms: round(applyToObjects.at(-1) ?? 0),
    ...(pods
      ? {
          pod_functions: podNames.length,
          apply_to_pod_running_p50_ms: round(percentile(applyToPodRunning, 50)),
          apply_to_pod_running_p95_ms: round(percentile(applyToPodRunning, 95)),
          pods_never_running: podNames.length - applyToPodRunning.length,
          // Pods of the min-0 Functions outside the KEDA sample (no row ever comes): ADR 0128 says none.
          pods_of_idle_min0_functions: names.filter(
            (n, i) => i >= KEDA.sample + POD_FUNCTIONS && podRunning.has(labelValue(n)),
          ).length,
        }
      : {}),
    spec_changes: specChangeMs.length,
    spec_changes_unsettled: specChangeFailures,
    spec_change_p50_ms: round(percentile(specChangeMs, 50)),
    spec_change_p95_ms: round(percentile(specChangeMs, 95)),
    // Over the burst: from the first create until settled; passes scheduled in that window.
    cpu_seconds: cpuUsed,
    reconcile_runs: runs,
    reconcile_passes: passes,
    passes_per_function: Math.round((passes / FLEET_FUNCTIONS) * 100) / 100,
    cpu_ms_per_pass: Object.fromEntries(
      Object.entries(cpuUsed).map(([k, v]) => [k, passes > 0 ? Math.round((v * 1000) / passes) : null]),
    ),
    // Which calls the apiserver served per pass over the burst (all clients: operator, bench
    // watches, controllers), the apiserver's share of cpu_ms_per_pass by verb and resource.
    apiserver_requests_per_pass: requestsPerPass(requests0, requests1, passes),
    // A pass in steady state (a spec change to one Function of N; no workflow starts): each
    // process's CPU over the spec changes, less its idle rate over as long, per pass.
    spec_change_passes: specPasses,
    spec_change_cpu_ms_per_pass: Object.fromEntries(
      Object.keys(pids).map((k) => {
        const idleRate = ((idle1[k] ?? 0) - (idle0[k] ?? 0)) / IDLE_WINDOW_MS;
        const used = (specCpu1[k] ?? 0) - (specCpu0[k] ?? 0) - idleRate * (specWindow.to - specWindow.from);
        return [k, specPasses > 0 ? Math.max(0, Math.round((used * 1000) / specPasses)) : null];
      }),
    ),
    ...operatorMb,
    ...cgroupKeys(),
    ...kedaKeys,
    load_avg_start: loadStart,
    load_avg_end: loadText(),
    load_avg_1m_end: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  log(
    `fleet of ${FLEET_FUNCTIONS}: settled in ${result.settle_all_s ?? 'timeout'} s; apply → objects p50 ${result.apply_to_objects_p50_ms} ms, p95 ${result.apply_to_objects_p95_ms} ms; ` +
      `spec change p95 ${result.spec_change_p95_ms} ms; ${passes} passes; CPU s ${JSON.stringify(cpuUsed)}; ${load()}`,
  );
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'layer-bench-operator-'));
  // The seed's InfraRules/default: its pools' nodeSelectors are what the worker pods ask for.
  const infra = parse(readFileSync(new URL('test/fixtures/seeds/infrarules-default.yaml', ROOT), 'utf8')) as {
    spec: { computePools: ComputePool[] };
  };
  // Every worker pod of the fleet lands on a cpu node: 110 pods a node, so enough of them. The
  // nodes carry the seed pools' labels (kwok nodes shaped like the chart's pools would match no
  // pod: they stayed Pending, and no sample Function ever processed a row).
  const cluster = CONTROLLERS
    ? await startControlledCluster({
        log,
        stateDir: join(dir, 'cluster'),
        fastEtcd: true,
        keda: true,
        pools: infra.spec.computePools,
        nodesPerGroup: Math.max(2, Math.ceil(FLEET_FUNCTIONS / 100) + 1),
      })
    : undefined;
  const kube =
    cluster?.kube ?? (await startKubeApiServer({ log, stateDir: join(dir, 'kube'), fastEtcd: true }));
  const temporal = await startTemporalDevServer({ log, logFile: join(dir, 'temporal.log') });
  const store = await startStoreServer({ memory: true });
  let operator: ChildProcess | undefined;
  let runner: { stop(): Promise<void> } | undefined;
  let stopping: Promise<void> | undefined;
  const teardown = () => (stopping ??= stopEverything());
  async function stopEverything(): Promise<void> {
    // An operator the cgroup's OOM killer stopped has a signalCode and no exitCode: its 'exit' has
    // already fired, and waiting for it hung the bench after it printed its figures.
    if (operator && operator.exitCode === null && operator.signalCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      // Not sleep(): its timer would hold the bench for 15 s after the operator has exited.
      const kill = setTimeout(() => operator!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    await runner?.stop();
    operatorCgroup?.remove();
    await store.close();
    await temporal.stop();
    if (cluster) await cluster.stop();
    else await kube.stop();
    // LAYER_BENCH_KEEP_LOGS=1 keeps the servers' logs (controllers, KEDA, Temporal) for a look after.
    if (process.env.LAYER_BENCH_KEEP_LOGS === '1') log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  // Stopped by a signal (Ctrl-C, `timeout`, `kill`), the same teardown: a bench killed mid-run
  // left the Temporal dev server and the cluster running, busy, under every later run's figures.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping the operator, the cluster and the servers`);
      void teardown().finally(() => process.exit(130));
    });
  try {
    const kc = kube.adminKubeConfig();
    await installCrds(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'infrarules',
      body: infra,
    });
    for (const ns of ['bench-latency', 'bench-settle', FLEET_NAMESPACE])
      await core.createNamespace({ body: { metadata: { name: ns } } });

    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    let controllers: FleetServers['controllers'];
    if (cluster) {
      // The worker bearer the rendered pods and KEDA's TriggerAuthentication read (the store is
      // open, so any value does); the sample's pods become worker processes.
      for (const namespace of ['bench-latency', 'bench-settle', FLEET_NAMESPACE])
        await core.createNamespacedSecret({
          namespace,
          body: {
            metadata: { name: DEFAULT_RELEASE_SECRET_NAME },
            stringData: { [DEFAULT_STORE_CREDENTIAL_KEY]: 'bench-open-store' },
          },
        });
      const sample = await startSampleRunner(kc, dir, log);
      runner = sample.runner;
      controllers = {
        pids: Object.fromEntries(Object.entries(cluster.pids).filter(([, pid]) => pid > 0)),
        callLog: sample.callLog,
      };
    }
    if (OPERATOR_MEMORY_LIMIT_MIB > 0) {
      const group = memoryCgroup(`layer-bench-operator-${process.pid}`, OPERATOR_MEMORY_LIMIT_MIB);
      if ('unavailable' in group) log(`operator without a memory limit: ${group.unavailable}`);
      else {
        operatorCgroup = group;
        log(`operator in a memory cgroup of ${OPERATOR_MEMORY_LIMIT_MIB} MiB (the chart's pod limit)`);
      }
    }
    const scalerPort = cluster && KEDA.push ? await freePort() : undefined;
    operator = await startOperator(port, {
      KUBECONFIG: kube.kubeconfigPath,
      TEMPORAL_ADDRESS: temporal.address,
      LAYER_STORE_URL: store.url,
      LAYER_STATE_DIR: join(dir, 'no-dev-env'),
      ...(cluster
        ? {
            // KEDA runs on loopback (docs/adr/0091): it and the worker processes reach the API
            // and the store at their local addresses.
            LAYER_OPERATOR_API_URL: apiUrl,
            LAYER_WORKER_STORE_URL: store.url,
            LAYER_KEDA_POLLING_INTERVAL_SECONDS: String(KEDA.pollingS),
            LAYER_KEDA_COOLDOWN_PERIOD_SECONDS: String(KEDA.cooldownS),
            ...(scalerPort
              ? {
                  LAYER_KEDA_SCALER_PORT: String(scalerPort),
                  LAYER_KEDA_SCALER_ADDRESS: `127.0.0.1:${scalerPort}`,
                }
              : {}),
          }
        : {}),
    });

    if (FLEET_FUNCTIONS > 0) {
      const result = await fleet(kc, { kube, temporal, operator, apiUrl, storeUrl: store.url, controllers });
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }

    const objectsExist = async (namespace: string, name: string) => {
      const obj = workloadObjectName('Function', name);
      return (
        (await exists(() => apps.readNamespacedDeployment({ namespace, name: obj }))) &&
        (await exists(() =>
          custom.getNamespacedCustomObject({
            group: 'keda.sh',
            version: 'v1alpha1',
            plural: 'scaledobjects',
            namespace,
            name: obj,
          }),
        ))
      );
    };

    // 1. Latency, a few Functions in flight at a time.
    log(`latency: ${LATENCY_FUNCTIONS} Functions, ${CONCURRENCY} at a time; ${load()}`);
    const latencies: number[] = [];
    let next = 0;
    const one = async (i: number) => {
      const name = `lat-${i}`;
      const t0 = performance.now();
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'functions',
        namespace: 'bench-latency',
        body: functionCr('bench-latency', name),
      });
      const deadline = Date.now() + 120_000;
      while (!(await objectsExist('bench-latency', name))) {
        if (Date.now() > deadline) throw new Error(`${name}: no Deployment + ScaledObject after 120 s`);
        await sleep(25);
      }
      latencies.push(performance.now() - t0);
      if (latencies.length % 10 === 0) log(`  ${latencies.length}/${LATENCY_FUNCTIONS}`);
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < LATENCY_FUNCTIONS) await one(next++);
      }),
    );
    latencies.sort((a, b) => a - b);

    // 2. Settle: a burst, then poll lists until every Function is reconciled.
    log(`settle: ${SETTLE_FUNCTIONS} Functions created in a burst; ${load()}`);
    const t0 = performance.now();
    let created = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (created < SETTLE_FUNCTIONS) {
          const i = created++;
          await custom.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'functions',
            namespace: 'bench-settle',
            body: functionCr('bench-settle', `settle-${i}`),
          });
        }
      }),
    );
    const createdMs = performance.now() - t0;
    log(`  created in ${(createdMs / 1000).toFixed(1)} s`);
    let settledMs = Number.NaN;
    let unsettled: string[] = [];
    let objectsMs = Number.NaN;
    let lastReport = 0;
    while (performance.now() - t0 < SETTLE_TIMEOUT_MS) {
      const [fns, deps, sos] = await Promise.all([
        custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'functions',
          namespace: 'bench-settle',
        }) as Promise<{
          items: {
            metadata: { name: string; generation?: number };
            status?: { observedGeneration?: number; conditions?: { type: string; reason?: string }[] };
          }[];
        }>,
        apps.listNamespacedDeployment({ namespace: 'bench-settle' }),
        custom.listNamespacedCustomObject({
          group: 'keda.sh',
          version: 'v1alpha1',
          plural: 'scaledobjects',
          namespace: 'bench-settle',
        }) as Promise<{
          items: unknown[];
        }>,
      ]);
      const current = (f: (typeof fns.items)[number]) =>
        f.status?.observedGeneration === f.metadata.generation;
      const reconciled = fns.items.filter(current).length;
      unsettled = fns.items
        .filter((f) => !current(f))
        .slice(0, 10)
        .map(
          (f) =>
            `${f.metadata.name} (${f.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? 'no status'})`,
        );
      if (
        Number.isNaN(objectsMs) &&
        deps.items.length >= SETTLE_FUNCTIONS &&
        sos.items.length >= SETTLE_FUNCTIONS
      )
        objectsMs = performance.now() - t0;
      if (
        reconciled >= SETTLE_FUNCTIONS &&
        deps.items.length >= SETTLE_FUNCTIONS &&
        sos.items.length >= SETTLE_FUNCTIONS
      ) {
        settledMs = performance.now() - t0;
        break;
      }
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        log(
          `  ${reconciled} status current, ${deps.items.length} Deployments, ${sos.items.length} ScaledObjects`,
        );
      }
      await sleep(250);
    }

    const result = {
      engine: 'real (Temporal WorkloadWorkflows; Function workflows started)',
      latency_functions: LATENCY_FUNCTIONS,
      latency_concurrency: CONCURRENCY,
      apply_to_objects_p50_ms: Math.round(percentile(latencies, 50)),
      apply_to_objects_p95_ms: Math.round(percentile(latencies, 95)),
      apply_to_objects_max_ms: Math.round(latencies.at(-1) ?? 0),
      settle_functions: SETTLE_FUNCTIONS,
      settle_create_seconds: Math.round(createdMs / 100) / 10,
      // Every Deployment and ScaledObject exists (status may still lag).
      settle_objects_seconds: Number.isNaN(objectsMs) ? null : Math.round(objectsMs / 100) / 10,
      settle_seconds: Number.isNaN(settledMs) ? null : Math.round(settledMs / 100) / 10,
      ...(Number.isNaN(settledMs) ? { unsettled_examples: unsettled } : {}),
      operator_rss_mb_end: procStatusMb(operator.pid, 'VmRSS'),
      operator_rss_mb_peak: procStatusMb(operator.pid, 'VmHWM'),
      ...cgroupKeys(),
      load_avg_1m_end: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
    log(
      `apply → Deployment + ScaledObject: p50 ${result.apply_to_objects_p50_ms} ms, p95 ${result.apply_to_objects_p95_ms} ms; ` +
        `${SETTLE_FUNCTIONS} Functions settled in ${result.settle_seconds ?? 'timeout'} s; ${load()}`,
    );
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await teardown();
  }
}

await main();
