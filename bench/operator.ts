// Operator benchmark (issue 6 item 10), on a real kube-apiserver + etcd and a real Temporal dev
// server, with the real `layer operator` process (watcher, orchestrator Worker with the operator
// activities and the real Temporal WorkloadEngine, HTTP API) and an embedded store:
//   1. latency: Functions applied a few at a time; for each, the time from the create call
//      until both its Deployment and its KEDA ScaledObject exist (p50 / p95),
//   2. settle: a burst of Functions created as fast as the apiserver takes them; the time until
//      every one has its Deployment and ScaledObject and a status whose observedGeneration is
//      current.
// Prints progress on stderr; the last line on stdout is one JSON object.
// Usage: npm run bench:operator [-- --latency 100 --settle 500 --concurrency 4]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startKubeApiServer } from '../src/dev/kube-apiserver.js';
import { startTemporalDevServer } from '../src/dev/temporal-server.js';
import { workloadObjectName } from '../src/operator/names.js';
import { startStoreServer } from '../src/store/server.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const LATENCY_FUNCTIONS = arg('latency', 100);
const SETTLE_FUNCTIONS = arg('settle', 500);
const CONCURRENCY = arg('concurrency', 4);
const SETTLE_TIMEOUT_MS = arg('settle-timeout-s', 900) * 1000;
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
  for (const dir of [new URL('deploy/crds/', ROOT), new URL('test/fixtures/keda/', ROOT)]) {
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

function functionCr(namespace: string, name: string): object {
  const seed = parse(
    readFileSync(new URL('test/fixtures/seeds/function-tag-products.yaml', ROOT), 'utf8'),
  ) as {
    spec: object;
  };
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Function',
    metadata: { name, namespace },
    spec: seed.spec,
  };
}

/** `layer operator` as shipped, configured only through its environment. */
async function startOperator(env: Record<string, string>): Promise<ChildProcess> {
  const bin = fileURLToPath(new URL('bin/layer.js', ROOT));
  const child = spawn(process.execPath, [bin, 'operator', '--port', '0'], {
    // Its stdout goes to our stderr: the SDK core logs there, and our stdout ends in one JSON line.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LAYER_FROM_SOURCE: '1', ...env },
  });
  child.stdout!.pipe(process.stderr);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    let watcher = false;
    let api = false;
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      err += text;
      for (const line of text.split('\n')) if (line.startsWith('operator')) log(line);
      watcher ||= err.includes('informers started');
      api ||= /operator\/api: listening on/.test(err);
      if (watcher && api) resolve();
    });
    child.once('exit', (code) => reject(new Error(`layer operator exited with ${code}:\n${err}`)));
  });
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'layer-bench-operator-'));
  const kube = await startKubeApiServer({ log, stateDir: join(dir, 'kube'), fastEtcd: true });
  const temporal = await startTemporalDevServer({ log, logFile: join(dir, 'temporal.log') });
  const store = await startStoreServer({ memory: true });
  let operator: ChildProcess | undefined;
  try {
    const kc = kube.adminKubeConfig();
    await installCrds(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const infra = parse(
      readFileSync(new URL('test/fixtures/seeds/infrarules-default.yaml', ROOT), 'utf8'),
    ) as object;
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'infrarules',
      body: infra,
    });
    for (const ns of ['bench-latency', 'bench-settle'])
      await core.createNamespace({ body: { metadata: { name: ns } } });

    operator = await startOperator({
      KUBECONFIG: kube.kubeconfigPath,
      TEMPORAL_ADDRESS: temporal.address,
      LAYER_STORE_URL: store.url,
      LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    });

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
      engine: 'real (Temporal WorkloadEngine; Function workflows started)',
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
      load_avg_1m_end: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
    log(
      `apply → Deployment + ScaledObject: p50 ${result.apply_to_objects_p50_ms} ms, p95 ${result.apply_to_objects_p95_ms} ms; ` +
        `${SETTLE_FUNCTIONS} Functions settled in ${result.settle_seconds ?? 'timeout'} s; ${load()}`,
    );
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (operator.exitCode === null) operator.kill('SIGKILL');
    }
    await store.close();
    await temporal.stop();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
