// bench:operator --controllers, KEDA's reaction (issue 23 item 6). A few Functions of the fleet
// (the sample) run the tag-products example as real worker processes (src/dev/pod-runner.ts, with
// bench/operator-worker.ts logging each handler call); every other pod is kwok's alone. Once the
// fleet has settled and KEDA has scaled each sample Function to zero, rows are written into the
// sample's own store namespace and, per Function, the bench times
//   rows appear → first worker processing   (the write returned → the first handler call), and
//                                            its steps: → the queue-depth endpoint above 0
//                                            (discovery, the memo), → replicas ≥ 1 (KEDA's poll),
//                                            → a pod Running (controllers, kwok), → the first call
//                                            (worker process start, claim),
//   queue drained → scaled to zero          (the operator's queue-depth endpoint, the one KEDA
//                                            polls, first says 0 → the Deployment's replicas are 0).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { build } from 'esbuild';
import { startPodRunner, type PodRunner } from '../src/dev/pod-runner.js';
import { generateProducts } from '../src/store/seed.js';
import type { StoreClient } from '../packages/worker/src/store/client.js';

/** The sample's worker image: the pod runner runs bench/operator-worker.ts for it. */
export const SAMPLE_IMAGE = 'ghcr.io/hev/tag-products:latest';
/** Every other Function's image: no process, kwok only pretends the container runs. */
export const KWOK_ONLY_IMAGE = 'bench.invalid/kwok-only:latest';
const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface KedaSettings {
  /** Sample Functions (the first of the fleet). */
  sample: number;
  rows: number;
  pollingS: number;
  cooldownS: number;
  /** The sample's discovery interval: new rows are found by discovery scans. */
  discoveryS: number;
  /** ScaledObjects use the operator's external-push scaler (ADR 0131), not metrics-api polling. */
  push: boolean;
  /**
   * Rows reach the sample Functions one at a time, each once the one before has first processed,
   * so each activation's worker processes start alone, as on a cluster where each pod has CPU of
   * its own. Off: all at once, up to 2 × sample worker processes starting together on this host.
   */
  sequential: boolean;
}

/** The store namespace of sample Function `name` (its own, so its rows are its alone). */
export const sampleStoreNamespace = (name: string) => `bench-keda-${name}`;

/** What a sample Function's spec changes from the fleet's (image, targets, discovery). */
export function sampleSpec(name: string, keda: KedaSettings, spec: Record<string, unknown>): object {
  const schedule = spec.schedule as Record<string, unknown>;
  const worker = spec.worker as Record<string, unknown>;
  return {
    ...spec,
    targetNamespaces: [sampleStoreNamespace(name)],
    worker: { ...worker, image: SAMPLE_IMAGE },
    schedule: { ...schedule, discoveryIntervalSeconds: keda.discoveryS },
    scaling: { pool: 'cpu', mode: 'autoscale', replicas: { min: 0, max: 2 } },
  };
}

/**
 * The sample's worker as its image runs it: one JavaScript file, built before the pods start
 * (the image's `npm run build`). Under tsx every worker process transpiled the worker package at
 * start, seconds of CPU each on a loaded machine, all of it inside "pod running → first call".
 * Written under node_modules so the packages it leaves external resolve from the project.
 */
async function buildSampleWorker(): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', 'layer-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'operator-worker.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench', 'operator-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * V8's code cache for the sample worker's modules, written once before any pod starts, as the
 * worker image writes it at build (examples/tag-products/Dockerfile, docs/adr/0132): each pod
 * then compiles none of its ~1,100 modules. The warm run exits where the worker first needs its
 * environment (no store URL), after every module has loaded. Same Node, flags and user as the
 * pods, or Node would not use the cache. Set LAYER_BENCH_COMPILE_CACHE=0 to measure without it.
 */
function warmCompileCache(args: string[]): string | undefined {
  const directory = join(ROOT, 'node_modules', '.cache', 'layer-bench', 'compile-cache');
  rmSync(directory, { recursive: true, force: true });
  if (process.env.LAYER_BENCH_COMPILE_CACHE === '0') return undefined;
  spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_COMPILE_CACHE: directory },
    stdio: 'ignore',
  });
  return directory;
}

/** The pod runner for the sample's pods; each handler call is a line in `callLog`. */
export async function startSampleRunner(
  kubeConfig: KubeConfig,
  dir: string,
  log: (line: string) => void,
): Promise<{ runner: PodRunner; callLog: string }> {
  const callLog = join(dir, 'calls.jsonl');
  const worker = await buildSampleWorker();
  const args = ['--enable-source-maps', worker];
  const compileCache = warmCompileCache(args);
  const runner = await startPodRunner({
    kubeConfig,
    log,
    logDir: join(dir, 'workers'),
    baseEnv: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    commandFor: (image) =>
      image === SAMPLE_IMAGE
        ? {
            command: process.execPath,
            args,
            cwd: ROOT,
            env: {
              LAYER_BENCH_CALL_LOG: callLog,
              ...(compileCache ? { NODE_COMPILE_CACHE: compileCache } : {}),
            },
          }
        : undefined,
  });
  return { runner, callLog };
}

interface CallLogLine {
  at: number;
  /** A handler call: the store namespace it processed. */
  namespace?: string;
  /** A worker process loaded: the Function it serves. */
  loaded?: string;
}

function callLogLines(callLog: string): CallLogLine[] {
  if (!existsSync(callLog)) return [];
  return readFileSync(callLog, 'utf8')
    .split('\n')
    .flatMap((line) => (line ? [JSON.parse(line) as CallLogLine] : []));
}

/** First handler call per store namespace (epoch ms), from the call log. */
function firstCalls(callLog: string): Map<string, number> {
  const first = new Map<string, number>();
  for (const { namespace, at } of callLogLines(callLog))
    if (namespace !== undefined && (!first.has(namespace) || first.get(namespace)! > at))
      first.set(namespace, at);
  return first;
}

/** When each Function's worker processes had loaded (epoch ms, ascending), from the call log. */
function loadedAt(callLog: string): Map<string, number[]> {
  const loaded = new Map<string, number[]>();
  for (const { loaded: name, at } of callLogLines(callLog))
    if (name !== undefined)
      loaded.set(
        name,
        [...(loaded.get(name) ?? []), at].sort((a, b) => a - b),
      );
  return loaded;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Times KEDA's reaction for each sample Function. `replicas(name)` is the Function's Deployment's
 * spec.replicas as last seen by the bench's watch (undefined before it is seen).
 */
export async function kedaReaction(opts: {
  names: string[];
  k8sNamespace: string;
  keda: KedaSettings;
  /** The Function's output attribute (its `<attribute>_v` counts the rows written). */
  attribute: (name: string) => string;
  replicas: (name: string) => number | undefined;
  /** When a pod of the Function was first seen Running (performance.now()), if it was. */
  podRunningAt: (name: string) => number | undefined;
  /** That pod's creation and PodScheduled times (epoch ms, whole seconds: the apiserver's stamps). */
  podSteps: (name: string) => { createdAt: number; scheduledAt: number | undefined } | undefined;
  apiUrl: string;
  store: StoreClient;
  callLog: string;
  log: (line: string) => void;
}): Promise<Record<string, unknown>> {
  const { names, keda, log } = opts;
  const idleDeadline = Date.now() + (keda.cooldownS + 180) * 1000;
  log(`keda: waiting for ${names.length} sample Functions to idle at zero replicas`);
  while (names.some((n) => opts.replicas(n) !== 0)) {
    if (Date.now() > idleDeadline) {
      const busy = names.filter((n) => opts.replicas(n) !== 0);
      throw new Error(`KEDA did not scale ${busy.join(', ')} to zero within cooldown + 180 s`);
    }
    await sleep(200);
  }

  const rowsAt = new Map<string, number>();
  // The same instant on the performance clock, for the pod watch's timestamps.
  const rowsAtPerf = new Map<string, number>();
  const writeRows = async (name: string) => {
    await opts.store.upsertRows(sampleStoreNamespace(name), generateProducts(keda.rows, 7));
    rowsAt.set(name, Date.now());
    rowsAtPerf.set(name, performance.now());
  };
  const processedSince = (name: string) =>
    (firstCalls(opts.callLog).get(sampleStoreNamespace(name)) ?? 0) >= rowsAt.get(name)!;
  // Sequential: the next Function's rows once this one has processed (or after 120 s).
  const writing = keda.sequential
    ? (async () => {
        for (const name of names) {
          await writeRows(name);
          const until = Date.now() + 120_000;
          while (!processedSince(name) && Date.now() < until) await sleep(100);
        }
      })()
    : Promise.all(names.map(writeRows));
  if (!keda.sequential) await writing;
  log(
    `keda: ${keda.rows} rows ${keda.sequential ? 'go to each Function in turn' : 'written for each'}; waiting for workers, drain and scale to zero`,
  );

  const drainedAt = new Map<string, number>();
  const zeroAt = new Map<string, number>();
  /** The steps to the first processing: queue depth above 0 seen, replicas ≥ 1 seen (epoch ms). */
  const depthAt = new Map<string, number>();
  const activeAt = new Map<string, number>();
  const depthOf = async (name: string) => {
    const res = await fetch(`${opts.apiUrl}/v1/queue-depth/functions/${opts.k8sNamespace}/${name}`);
    return res.ok ? ((await res.json()) as { queueDepth: number }).queueDepth : undefined;
  };
  const deadline = Date.now() + (keda.cooldownS + keda.discoveryS + 600) * 1000;
  let lastReport = 0;
  while (zeroAt.size < names.length && Date.now() < deadline) {
    const first = firstCalls(opts.callLog);
    await Promise.all(
      names.map(async (name) => {
        if (!rowsAt.has(name)) return; // sequential: not its turn yet
        if (!depthAt.has(name) && ((await depthOf(name)) ?? 0) > 0) depthAt.set(name, Date.now());
        if (!activeAt.has(name) && (opts.replicas(name) ?? 0) >= 1) activeAt.set(name, Date.now());
        const started = first.get(sampleStoreNamespace(name));
        if (started === undefined || started < rowsAt.get(name)!) return;
        if (!drainedAt.has(name)) {
          if ((await depthOf(name)) === 0) drainedAt.set(name, Date.now());
        } else if (!zeroAt.has(name) && opts.replicas(name) === 0) zeroAt.set(name, Date.now());
      }),
    );
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      log(`  keda: ${first.size} processing, ${drainedAt.size} drained, ${zeroAt.size} back at zero`);
    }
    await sleep(250);
  }

  await writing;
  const first = firstCalls(opts.callLog);
  const toFirst = names
    .flatMap((n) => {
      const f = first.get(sampleStoreNamespace(n));
      return f !== undefined && f >= rowsAt.get(n)! ? [f - rowsAt.get(n)!] : [];
    })
    .sort((a, b) => a - b);
  /** Per Function, from `from(name)` to `to(name)` in ms, where both were seen. */
  const step = (from: (n: string) => number | undefined, to: (n: string) => number | undefined) =>
    names
      .flatMap((n) => {
        const a = from(n);
        const b = to(n);
        return a !== undefined && b !== undefined ? [b - a] : [];
      })
      .sort((a, b) => a - b);
  const podAt = (n: string) => {
    const p = opts.podRunningAt(n);
    return p === undefined ? undefined : rowsAt.get(n)! + (p - rowsAtPerf.get(n)!);
  };
  const firstCallAt = (n: string) => {
    const f = first.get(sampleStoreNamespace(n));
    return f !== undefined && f >= rowsAt.get(n)! ? f : undefined;
  };
  const loaded = loadedAt(opts.callLog);
  /** The first worker process of Function n that loaded after its pod was Running. */
  const workerLoadedAt = (n: string) => {
    const p = podAt(n);
    return p === undefined ? undefined : loaded.get(n)?.find((at) => at >= p);
  };
  const steps = {
    rows_to_queue_depth: step(
      (n) => rowsAt.get(n),
      (n) => depthAt.get(n),
    ),
    queue_depth_to_replicas: step(
      (n) => depthAt.get(n),
      (n) => activeAt.get(n),
    ),
    replicas_to_pod_running: step((n) => activeAt.get(n), podAt),
    // Its parts, to the second: the Deployment and ReplicaSet controllers, the scheduler, kwok.
    replicas_to_pod_created: step(
      (n) => activeAt.get(n),
      (n) => opts.podSteps(n)?.createdAt,
    ),
    pod_created_to_scheduled: step(
      (n) => opts.podSteps(n)?.createdAt,
      (n) => opts.podSteps(n)?.scheduledAt,
    ),
    pod_scheduled_to_running: step((n) => opts.podSteps(n)?.scheduledAt, podAt),
    pod_running_to_first_call: step(podAt, firstCallAt),
    // Its parts: the process starting and loading its modules (every sample pod starts at once on
    // this machine's cores; on a cluster each has its own), then connecting, polling and claiming.
    pod_running_to_worker_loaded: step(podAt, workerLoadedAt),
    worker_loaded_to_first_call: step(workerLoadedAt, firstCallAt),
  };
  // Each sample's own line, with the wall-clock time its rows arrived: a p95 is one or two of ten
  // Functions, and this is what finds that one in KEDA's and the operator's logs (kept with
  // LAYER_BENCH_KEEP_LOGS=1).
  const secs = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? `${Math.round((b - a) / 100) / 10} s` : '-';
  for (const n of names) {
    const rows = rowsAt.get(n);
    log(
      `  keda: ${n}: rows at ${rows === undefined ? '-' : new Date(rows).toISOString()}; ` +
        `→ depth ${secs(rows, depthAt.get(n))}, → replicas ${secs(depthAt.get(n), activeAt.get(n))}, ` +
        `→ pod running ${secs(activeAt.get(n), podAt(n))}, → first call ${secs(podAt(n), firstCallAt(n))}`,
    );
  }
  const toZero = names
    .flatMap((n) => (zeroAt.has(n) ? [zeroAt.get(n)! - drainedAt.get(n)!] : []))
    .sort((a, b) => a - b);
  const written = await Promise.all(
    names.map((n) => opts.store.countRows(sampleStoreNamespace(n), [`${opts.attribute(n)}_v`, 'Eq', 'v1'])),
  );
  const s = (ms: number) => Math.round(ms / 100) / 10;
  return {
    keda_sample_functions: names.length,
    keda_rows_per_function: keda.rows,
    keda_polling_interval_s: keda.pollingS,
    keda_trigger: keda.push ? 'external-push' : 'metrics-api',
    keda_rows_arrive: keda.sequential ? 'one Function at a time' : 'all at once',
    keda_cooldown_s: keda.cooldownS,
    keda_discovery_interval_s: keda.discoveryS,
    rows_to_first_processing_p50_s: s(percentile(toFirst, 50)),
    rows_to_first_processing_p95_s: s(percentile(toFirst, 95)),
    // Where that time went (p50 / p95 of each step, seconds).
    ...Object.fromEntries(
      Object.entries(steps).flatMap(([k, v]) => [
        [`${k}_p50_s`, s(percentile(v, 50))],
        [`${k}_p95_s`, s(percentile(v, 95))],
      ]),
    ),
    drained_to_zero_p50_s: s(percentile(toZero, 50)),
    drained_to_zero_p95_s: s(percentile(toZero, 95)),
    // Functions that never processed or never went back to zero are missing from the figures.
    keda_never_processed: names.length - toFirst.length,
    keda_never_back_to_zero: names.length - toZero.length,
    keda_rows_written_exactly: written.every((w) => w === keda.rows),
  };
}
