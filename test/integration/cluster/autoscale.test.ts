// End to end on a cluster where controllers act (issue 23 item 3; docs/adr/0091 and 0113):
// `helm upgrade --install` of deploy/helm/layer, then `layer operator` as the chart's Deployment
// runs it (operator-cluster.ts), against kube-apiserver with kube-controller-manager (Deployments,
// the HPA controller), kube-scheduler, kwok nodes shaped like the stock pools, and KEDA's operator
// and metrics API server. Worker pods run as worker processes (src/dev/pod-runner.ts).
//
// - A `mode: autoscale, min 0, max 4` Function idles at zero replicas, wakes when 20,000 rows
//   arrive (KEDA 0 → 1), scales out on queue depth (the HPA reading external.metrics.k8s.io →
//   KEDA → the operator's queue-depth endpoint) onto the cpu pool's kwok nodes, writes every row
//   exactly once with its exact value, and goes back to zero after KEDA's cooldown.
// - Riding along in the same run: a `mode: fixed` Pipeline on the cpu-large pool chunks submitted
//   documents into its target, and a paused Function with rows to do runs no pod and writes nothing.
// - A worker that crash-loops shows Degraded=CrashLoop: the kwok stage's crash-looping image, and a
//   worker process that exits (the pod runner reports it as a kubelet would); fixing the image
//   clears it.
//
// No test writes status. The CRs are read as `kubectl get` prints them (the CRDs'
// additionalPrinterColumns, evaluated by the apiserver) on a sampled timeline beside the real
// Deployment, HPA, pods and queue depth, so each step says what the CR said while the cluster was
// in that state.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ROLE_LABEL } from '../../../src/api/defaults.js';
import { getPipelineStatus, submitPipelineItems } from '../../../src/client/pipeline-client.js';
import { CRASH_LOOP_IMAGE, KWOK_NODE_ANNOTATION } from '../../../src/dev/kwok-nodes.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { tagsForTitle } from '../../../examples/tag-products/handler.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { range, readAll, seedRows } from '../function/harness.js';
import { paragraphs } from '../pipeline/chunker.js';
import { byDocument, readChunks } from '../pipeline/harness.js';
import { applyCr, condition, eventually, readCr, type Live } from '../operator/harness.js';
import {
  callsPerRow,
  fixtureCommand,
  functionCr,
  isPodOf,
  NS,
  printedRows,
  readCallLog,
  runningOf,
  runsOf,
  startOperatorCluster,
  type OperatorCluster,
  type PrintedRow,
} from './operator-cluster.js';

const WORKER_IMAGE = 'ghcr.io/hev/tag-products:latest';
const PIPELINE_IMAGE = 'ghcr.io/hev/chunk-documents:latest';
/** A build of the example that cannot start: its process exits 1 at once, every time. */
const EXITING_IMAGE = 'ghcr.io/hev/tag-products:broken';
const FN = 'tag-autoscale';
const PAUSED = 'tag-paused';
const PIPELINE = 'chunk-fixed';
const ROWS = 20_000;
const PAUSED_ROWS = 500;
const DOCUMENTS = 300;
const BATCH_SIZE = 40;
/** Extra handler time per batch, so the queue stays deep while KEDA and the HPA react. */
const SLOW_MS = 1000;
const MAX = 4;
const log = (line: string) => process.stderr.write(`[autoscale] ${line}\n`);
const callLog = join(tmpdir(), `layer-calls-${randomUUID()}.jsonl`);
const storeNs = `products-${randomUUID().slice(0, 8)}`;
const pausedNs = `paused-${randomUUID().slice(0, 8)}`;
const chunksNs = `chunks-${randomUUID().slice(0, 8)}`;

let c: OperatorCluster;

beforeAll(async () => {
  c = await startOperatorCluster({
    label: 'autoscale',
    log,
    commandFor: (image) => {
      if (image === WORKER_IMAGE)
        return fixtureCommand('logged-tag-products.ts', {
          TAG_PRODUCTS_CALL_LOG: callLog,
          TAG_PRODUCTS_SLOW_MS: String(SLOW_MS),
        });
      if (image === PIPELINE_IMAGE) return fixtureCommand('chunk-documents.ts');
      if (image === EXITING_IMAGE)
        return {
          command: process.execPath,
          args: ['-e', 'console.error("tag-products: cannot load its model"); process.exit(1)'],
        };
      // CRASH_LOOP_IMAGE: no process; kwok's pod-crash-loop stage reports it.
      return undefined;
    },
  });
}, 60 * 60_000);

afterAll(async () => {
  await c?.stop();
  rmSync(callLog, { force: true });
});

const custom = () => c.admin.makeApiClient(CustomObjectsApi);
const autoscale = { pool: 'cpu', mode: 'autoscale', replicas: { min: 0, max: MAX } };

function pipelineCr() {
  const seed = loadSeed('pipeline');
  return {
    apiVersion: seed.apiVersion,
    kind: 'Pipeline',
    metadata: { name: PIPELINE, namespace: NS },
    spec: {
      target: { namespace: chunksNs },
      worker: { image: PIPELINE_IMAGE, dispatch: 'pull', batchSize: 16, timeoutSeconds: 10 },
      scaling: { pool: 'cpu-large', mode: 'fixed', replicas: { min: 1, max: 1 } },
    },
  };
}

const documents = range(0, DOCUMENTS).map((i) => ({
  key: `doc-${i}`,
  payload: {
    text: range(0, 1 + (i % 4))
      .map((k) => `document ${i} paragraph ${k} about product ${i * 7 + k}`)
      .join('\n\n'),
  },
}));

/** One look at everything the test follows, for the timeline. */
interface Sample {
  t: number;
  /** The autoscaled Function's Deployment: spec.replicas (KEDA and the HPA write it), available. */
  replicas: number | undefined;
  available: number;
  hpaDesired: number | undefined;
  /** Its Running pods. */
  pods: V1Pod[];
  queueDepth: number | undefined;
  /** The CRs as printed (columns and the object they came from, one read per kind). */
  fn: PrintedRow;
  paused: PrintedRow;
  pipeline: PrintedRow;
  /** Pods of the paused Function, in any phase. */
  pausedPods: number;
  pipelinePods: V1Pod[];
}

async function queueDepth(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${c.apiPort}/v1/queue-depth/functions/${NS}/${FN}`, {
    headers: { authorization: `Bearer ${c.workerKey}` },
  });
  return ((await res.json()) as { queueDepth: number }).queueDepth;
}

async function sample(started: number): Promise<Sample> {
  const deploymentName = workloadObjectName('Function', FN);
  const [d, hpas, pods, functions, pipelines, depth] = await Promise.all([
    c.admin
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ namespace: NS, name: deploymentName })
      .catch(() => undefined),
    c.admin.makeApiClient(AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: NS }),
    c.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS }),
    printedRows(c.admin, 'Function'),
    printedRows(c.admin, 'Pipeline'),
    queueDepth().catch(() => undefined),
  ]);
  const hpa = hpas.items.find((h) => h.spec?.scaleTargetRef.name === deploymentName);
  return {
    t: Date.now() - started,
    replicas: d?.spec?.replicas,
    available: d?.status?.availableReplicas ?? 0,
    hpaDesired: hpa?.status?.desiredReplicas,
    pods: runningOf(pods.items, FN),
    queueDepth: depth,
    fn: functions.get(FN)!,
    paused: functions.get(PAUSED)!,
    pipeline: pipelines.get(PIPELINE)!,
    pausedPods: pods.items.filter(isPodOf(PAUSED)).length,
    pipelinePods: runningOf(pods.items, PIPELINE, 'Pipeline'),
  };
}

const reason = (row: PrintedRow | undefined, type: string) =>
  condition(row?.object, type)?.reason as string | undefined;
const status = (row: PrintedRow | undefined, type: string) =>
  condition(row?.object, type)?.status as string | undefined;

const brief = (s: Sample) =>
  `t=${(s.t / 1000).toFixed(1)}s replicas=${s.replicas} available=${s.available} hpa=${s.hpaDesired} ` +
  `running=${s.pods.length} depth=${s.queueDepth} | ${FN}: WorkerAvailable=${reason(s.fn, 'WorkerAvailable')} ` +
  `Ready=${s.fn?.columns.Ready} Phase=${s.fn?.columns.Phase} Pending=${s.fn?.columns.Pending} | ` +
  `${PAUSED}: ${reason(s.paused, 'WorkerAvailable')} | ${PIPELINE}: ${reason(s.pipeline, 'WorkerAvailable')} ` +
  `Phase=${s.pipeline?.columns.Phase} Pending=${s.pipeline?.columns.Pending}`;

/** Whether anything but the clock differs between two samples (the log shows only changes). */
const changed = (a: Sample, b: Sample) => brief(a).replace(/^\S+/, '') !== brief(b).replace(/^\S+/, '');

/** The WorkerAvailable reason the Function's Deployment calls for (worker-availability.ts). */
const expectedWorkerReason = (s: Sample) =>
  s.available >= 1 ? 'DeploymentAvailable' : s.replicas === 0 ? 'ScaledToZero' : 'ReplicasStarting';

/** Consecutive repeats collapsed: the states in the order they came. */
const steps = <T>(xs: T[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

/** Every printer column is its JSONPath over the very object it was printed from. */
function expectColumnsOfObject(row: PrintedRow) {
  const o = row.object;
  expect(row.columns).toMatchObject({
    Ready: condition(o, 'Ready')?.status ?? null,
    Reason: condition(o, 'Ready')?.reason ?? null,
    Phase: o.status?.phase ?? null,
    Pending: o.status?.pendingRows ?? null,
    Pool: o.status?.pool ?? null,
    Mode: o.spec.scaling.mode,
    Min: o.spec.scaling.replicas.min,
    Max: o.spec.scaling.replicas.max,
    Paused: o.spec.paused,
    Image: o.spec.worker.image,
  });
}

/** What a paused Function shows at every step: paused as asked, ready, nothing running. */
function expectPaused(s: Sample) {
  expect(s.paused.columns, brief(s)).toMatchObject({
    Ready: 'True',
    Phase: 'paused',
    Paused: true,
    Mode: 'autoscale',
    Pool: 'cpu',
  });
  expect(reason(s.paused, 'WorkerAvailable')).toBe('Paused');
  expect(s.pausedPods).toBe(0);
}

/** What the fixed Pipeline shows once its pod is up: its one replica available, ready. */
function expectPipelineAvailable(s: Sample) {
  expect(s.pipeline.columns, brief(s)).toMatchObject({
    Ready: 'True',
    Pool: 'cpu-large',
    Mode: 'fixed',
    Min: 1,
    Max: 1,
  });
  expect(reason(s.pipeline, 'WorkerAvailable')).toBe('DeploymentAvailable');
}

/** Each pod sits on a kwok node carrying every label of its pool's nodeSelector (live InfraRules). */
async function expectOnPoolNodes(pods: V1Pod[], pool: string, nodeRole: string) {
  const rules = await readCr(custom(), 'InfraRules', undefined, 'default');
  const selector = (rules?.spec.computePools as Live[]).find((p) => p.name === pool)?.nodeSelector as
    Record<string, string> | undefined;
  expect(selector, `pool ${pool} in InfraRules/default`).toBeDefined();
  const nodes = new Map<string, V1Node>(
    (await c.admin.makeApiClient(CoreV1Api).listNode()).items.map((n) => [n.metadata!.name!, n]),
  );
  for (const p of pods) {
    const node = nodes.get(p.spec!.nodeName!);
    expect(p.spec?.nodeSelector).toMatchObject(selector!);
    expect(node?.metadata?.annotations?.[KWOK_NODE_ANNOTATION], p.spec?.nodeName).toBe('fake');
    expect(node?.metadata?.labels).toMatchObject({ ...selector, [NODE_ROLE_LABEL]: nodeRole });
    // And a worker process ran for it (the pod runner saw it Running on that node).
    const run = c.runner.runs().find((r) => r.pod === `${NS}/${p.metadata!.name}`);
    expect(run?.node, p.metadata!.name).toBe(p.spec!.nodeName);
  }
}

/**
 * Samples the cluster until stopped, one look after another (each a handful of reads), logging
 * the samples in which something changed.
 */
function follow(): { timeline: Sample[]; stop(): Promise<void> } {
  const started = Date.now();
  const timeline: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const s = await sample(started).catch((err: unknown) => {
        log(`sample skipped: ${String(err)}`);
        return undefined;
      });
      if (s) {
        if (timeline.length === 0 || changed(timeline.at(-1)!, s)) log(brief(s));
        timeline.push(s);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return {
    timeline,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const timedOut = (timeline: Sample[]) => (err: unknown) => {
  throw new Error(`${String(err)}\n${timeline.map(brief).join('\n')}\n${c.logs()}`);
};

describe('autoscale end to end: helm install, layer operator, KEDA, HPA, pods as worker processes', () => {
  it('the autoscaled Function idles at zero, the paused Function runs nothing, the fixed Pipeline runs its one pod', async () => {
    // The autoscaled Function starts with nothing to do: its one row is already tagged.
    await seedRows(c.storeClient, storeNs, [0], () => ({ tags: ['done'], tags_v: 'v1' }));
    // The paused one has rows to do, which it must leave alone.
    await seedRows(c.storeClient, pausedNs, range(1, PAUSED_ROWS + 1));
    await applyCr(
      custom(),
      functionCr(FN, storeNs, { image: WORKER_IMAGE, scaling: autoscale, batchSize: BATCH_SIZE }),
    );
    await applyCr(
      custom(),
      functionCr(PAUSED, pausedNs, { image: WORKER_IMAGE, scaling: autoscale, paused: true }),
    );
    await applyCr(custom(), pipelineCr());

    // The Deployment is created at min (0) and handed over (ADR 0128): no pod starts before rows do.
    const started = Date.now();
    const timeline: Sample[] = [];
    const idle = await eventually(
      'KEDA idles the Function at zero, the paused one paused, the Pipeline available; each CR says so',
      async () => {
        const s = await sample(started);
        if (timeline.length === 0 || changed(timeline.at(-1)!, s)) log(brief(s));
        timeline.push(s);
        const settled =
          s.replicas === 0 &&
          s.available === 0 &&
          reason(s.fn, 'WorkerAvailable') === 'ScaledToZero' &&
          s.fn.columns.Phase === 'idle' &&
          s.paused?.columns.Phase === 'paused' &&
          reason(s.pipeline, 'WorkerAvailable') === 'DeploymentAvailable' &&
          s.pipeline.columns.Phase === 'idle';
        return settled ? s : undefined;
      },
      300_000,
    ).catch(timedOut(timeline));

    expect(idle.fn.columns).toMatchObject({
      Ready: 'True',
      Reason: 'Ready',
      Phase: 'idle',
      Pending: 0,
      Pool: 'cpu',
      Mode: 'autoscale',
      Min: 0,
      Max: MAX,
      Paused: false,
      Image: WORKER_IMAGE,
    });
    expect(status(idle.fn, 'Degraded')).toBe('False');
    expect(idle.pods).toHaveLength(0);
    // Never above zero on the way, and no worker process ran (created at the apiserver's default
    // of 1, one did, until KEDA's cooldown took it back).
    expect(
      timeline.filter((x) => (x.replicas ?? 0) > 0).map(brief),
      'samples with replicas above zero',
    ).toEqual([]);
    expect(runsOf(c, FN)).toEqual([]);
    expectPaused(idle);
    expectPipelineAvailable(idle);
    for (const row of [idle.fn, idle.paused, idle.pipeline]) expectColumnsOfObject(row);
    // KEDA's ScaledObject carries the chart's polling and cooldown; the paused and fixed workloads have none.
    const so = (await custom().getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'scaledobjects',
      name: workloadObjectName('Function', FN),
    })) as Live;
    expect(so.spec).toMatchObject({
      minReplicaCount: 0,
      maxReplicaCount: MAX,
      pollingInterval: 2,
      cooldownPeriod: 10,
    });
    expect(condition(so, 'Ready')?.status, JSON.stringify(so.status)).toBe('True');
    const scaledObjects = (await custom().listNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'scaledobjects',
    })) as { items: Live[] };
    expect(scaledObjects.items.map((o) => o.metadata.name)).toEqual([workloadObjectName('Function', FN)]);
    const apps = c.admin.makeApiClient(AppsV1Api);
    const pausedDeployment = await apps.readNamespacedDeployment({
      namespace: NS,
      name: workloadObjectName('Function', PAUSED),
    });
    expect(pausedDeployment.spec?.replicas).toBe(0);
    // The Pipeline's one pod is a worker process on the cpu-large pool's nodes.
    expect(idle.pipelinePods).toHaveLength(1);
    await expectOnPoolNodes(idle.pipelinePods, 'cpu-large', 'worker-cpu');
  }, 600_000);

  it('20,000 rows arrive: KEDA wakes it, the HPA scales out on queue depth onto cpu nodes, every row exact, back to zero; the Pipeline and the paused Function ride along', async () => {
    // Followed from before the rows arrive, so the first step is the idle one KEDA wakes from.
    const followed = follow();
    const { timeline } = followed;
    let done: Record<string, unknown>[];
    try {
      await eventually('the idle state sampled', async () => (timeline.length > 0 ? true : undefined));
      await seedRows(c.storeClient, storeNs, range(1, ROWS + 1));
      const submitted = await submitPipelineItems(
        c.temporal,
        { k8sNamespace: NS, name: PIPELINE },
        documents,
      );
      expect(submitted).toEqual({ accepted: DOCUMENTS, duplicates: 0 });
      done = await eventually(
        'every row written, the queue at 0 and KEDA back at zero replicas',
        async () => {
          const s = timeline.at(-1);
          const woke = timeline.some((x) => (x.replicas ?? 0) >= 1);
          if (!s || !woke || s.replicas !== 0 || s.available !== 0 || s.queueDepth !== 0) return undefined;
          if (reason(s.fn, 'WorkerAvailable') !== 'ScaledToZero' || s.fn.columns.Phase !== 'idle')
            return undefined;
          const rows = await readAll(c.storeClient, storeNs, ['title', 'tags', 'tags_v']);
          return rows.every((r) => r.tags_v === 'v1') ? rows : undefined;
        },
        900_000,
      ).catch(timedOut(timeline));
    } finally {
      await followed.stop();
    }
    const story = timeline.map(brief).join('\n');

    // Every row, with exactly the value the example's handler computes (row 0 untouched) ...
    expect(done).toHaveLength(ROWS + 1);
    for (const r of done) {
      if (r.id === 0) expect(r.tags).toEqual(['done']);
      else expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
    }
    // ... each computed once, by more than one pod: scaling out added capacity that did work.
    const lines = readCallLog(callLog);
    const perRow = callsPerRow(lines, storeNs, 'tags', 'v1');
    expect(perRow.size).toBe(ROWS);
    expect([...perRow.entries()].filter(([, l]) => l.length > 1).map(([id]) => id)).toEqual([]);
    const computingPids = new Set([...perRow.values()].map((l) => l[0]!.pid));
    const fnRuns = runsOf(c, FN);
    log(`rows computed by ${computingPids.size} worker processes of ${fnRuns.length} started`);
    expect(computingPids.size).toBeGreaterThan(1);
    for (const pid of computingPids) expect(fnRuns.some((r) => r.pid === pid)).toBe(true);

    // KEDA woke it (0 → ≥1), the HPA went past one replica on the queue-depth metric, up to max.
    const maxHpa = Math.max(...timeline.map((s) => s.hpaDesired ?? 0));
    const maxRunning = Math.max(...timeline.map((s) => s.pods.length));
    const maxDepth = Math.max(...timeline.map((s) => s.queueDepth ?? 0));
    log(`max HPA desired ${maxHpa}, max running pods ${maxRunning}, max queue depth ${maxDepth}`);
    expect(maxHpa, story).toBeGreaterThan(1);
    expect(maxHpa).toBeLessThanOrEqual(MAX);
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(MAX);
    expect(maxDepth).toBeGreaterThan(0);
    // KEDA took it to zero only once the queue had drained.
    timeline.forEach((s, i) => {
      const before = timeline[i - 1];
      if (before && (before.replicas ?? 0) > 0 && s.replicas === 0) expect(before.queueDepth, story).toBe(0);
    });

    // Pods landed on the cpu pool's nodes, each a worker process.
    const seenPods = new Map(timeline.flatMap((s) => s.pods).map((p) => [p.metadata!.name!, p]));
    expect(seenPods.size).toBeGreaterThan(1);
    await expectOnPoolNodes([...seenPods.values()], 'cpu', 'worker-cpu');

    // The CR followed the real Deployment step by step: idle → available → idle, in that order,
    // the same steps the Deployment went through (a pod starting may be too brief to sample or to
    // be seen by a pass, so ReplicasStarting is left out of both).
    const starting = (r: string | undefined) => r !== 'ReplicasStarting';
    const crSteps = steps(timeline.map((s) => reason(s.fn, 'WorkerAvailable')).filter(starting));
    const deploymentSteps = steps(timeline.map(expectedWorkerReason).filter(starting));
    log(`WorkerAvailable: ${crSteps.join(' → ')}; the Deployment: ${deploymentSteps.join(' → ')}`);
    expect(deploymentSteps, story).toEqual(['ScaledToZero', 'DeploymentAvailable', 'ScaledToZero']);
    expect(crSteps, story).toEqual(deploymentSteps);
    for (const s of timeline) {
      const worker = reason(s.fn, 'WorkerAvailable');
      expect(status(s.fn, 'Degraded'), brief(s)).toBe('False');
      // Ready is the worker's availability while nothing else is wrong: Unknown only while starting.
      expect(s.fn.columns.Ready, brief(s)).toBe(worker === 'ReplicasStarting' ? 'Unknown' : 'True');
      expectColumnsOfObject(s.fn);
    }
    // The printed Phase and Pending show the run: running with rows pending, then idle at 0.
    const running = timeline.filter((s) => s.fn.columns.Phase === 'running');
    expect(running.length, story).toBeGreaterThan(0);
    expect(Math.max(...running.map((s) => Number(s.fn.columns.Pending ?? 0)))).toBeGreaterThan(0);
    expect(Math.max(...timeline.map((s) => Number(s.fn.columns.Pending ?? 0)))).toBeLessThanOrEqual(ROWS);
    expect(timeline.at(-1)!.fn.columns).toMatchObject({ Ready: 'True', Phase: 'idle', Pending: 0 });

    // The paused Function rode along: paused at every step, no pod, no process, no call, no row.
    for (const s of timeline) expectPaused(s);
    expect(runsOf(c, PAUSED)).toEqual([]);
    expect(lines.filter((l) => l.namespace === pausedNs)).toEqual([]);
    const pausedRows = await readAll(c.storeClient, pausedNs, ['tags_v']);
    expect(pausedRows).toHaveLength(PAUSED_ROWS);
    expect(pausedRows.filter((r) => r.tags_v !== undefined && r.tags_v !== null)).toEqual([]);

    // The fixed Pipeline rode along on its one pod: every document's chunks are in its target.
    for (const s of timeline) {
      expectPipelineAvailable(s);
      expectColumnsOfObject(s.pipeline);
    }
    const pipelineStatus = await eventually(
      'every document chunked',
      async () => {
        const st = await getPipelineStatus(c.temporal, { k8sNamespace: NS, name: PIPELINE });
        return st.queue.done === DOCUMENTS && st.phase === 'idle' ? st : undefined;
      },
      300_000,
    );
    expect(pipelineStatus.queue).toEqual({ pending: 0, inFlight: 0, done: DOCUMENTS, failed: 0 });
    const docs = byDocument(await readChunks(c.storeClient, chunksNs));
    expect(Object.keys(docs).sort()).toEqual(documents.map((d) => d.key).sort());
    for (const d of documents) expect(docs[d.key], d.key).toEqual(paragraphs(d.payload.text));
    expect(runsOf(c, PIPELINE, 'Pipeline')).toHaveLength(1);
    const pipelineNow = (await printedRows(c.admin, 'Pipeline')).get(PIPELINE)!;
    expect(pipelineNow.columns).toMatchObject({ Ready: 'True', Phase: 'idle', Pending: 0 });
  }, 1_200_000);

  it('a worker that crash-loops shows Degraded=CrashLoop (kwok stage, and a worker process that exits); a working image clears it', async () => {
    const kwokCrash = 'tag-crash-stage';
    const exiting = 'tag-crash-exit';
    const fixed = { pool: 'cpu', mode: 'fixed', replicas: { min: 1, max: 1 } };
    for (const [name, image] of [
      [kwokCrash, CRASH_LOOP_IMAGE],
      [exiting, EXITING_IMAGE],
    ] as const) {
      const ns = `${name}-${randomUUID().slice(0, 8)}`;
      await seedRows(c.storeClient, ns, [0], () => ({ tags: ['done'], tags_v: 'v1' }));
      await applyCr(custom(), functionCr(name, ns, { image, scaling: fixed }));
    }
    const crashLooping = async (name: string) => {
      const row = (await printedRows(c.admin, 'Function')).get(name);
      return condition(row?.object, 'Degraded')?.reason === 'CrashLoop' ? row : undefined;
    };
    const degraded = new Map<string, Live>();
    for (const name of [kwokCrash, exiting]) {
      const row = await eventually(`${name} Degraded=CrashLoop`, () => crashLooping(name), 300_000).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}\n${c.logs()}`);
        },
      );
      expect(condition(row.object, 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoop' });
      expect(condition(row.object, 'WorkerAvailable')).toMatchObject({
        status: 'False',
        reason: 'CrashLoop',
      });
      expect(row.columns).toMatchObject({
        Ready: 'False',
        Reason: 'CrashLoop',
        Image: row.object.spec.worker.image,
      });
      expect(condition(row.object, 'Degraded')?.message).toMatch(/CrashLoopBackOff.*last exit 1/);
      expectColumnsOfObject(row);
      degraded.set(name, row.object);
    }
    // kwok alone crash-loops its image; the other was a real process that exited 1 each time the
    // runner restarted it, and the pod's status said so as a kubelet's would.
    expect(runsOf(c, kwokCrash)).toEqual([]);
    const exits = runsOf(c, exiting).filter((r) => r.exitedAt !== undefined);
    expect(exits.length).toBeGreaterThan(0);
    expect(exits.map((r) => r.exitCode)).toEqual(exits.map(() => 1));
    log(`${exiting}: ${condition(degraded.get(exiting), 'Degraded')?.message as string}`);

    // A working image rolls the Deployment; once the crash-looping pod is gone the CR recovers.
    const ns = (await readCr(custom(), 'Function', NS, exiting))!.spec.targetNamespaces[0] as string;
    await applyCr(custom(), functionCr(exiting, ns, { image: WORKER_IMAGE, scaling: fixed }));
    const recovered = await eventually(
      `${exiting} available on the working image, not degraded`,
      async () => {
        const row = (await printedRows(c.admin, 'Function')).get(exiting);
        return reason(row, 'WorkerAvailable') === 'DeploymentAvailable' &&
          status(row, 'Degraded') === 'False' &&
          row?.columns.Ready === 'True'
          ? row
          : undefined;
      },
      300_000,
    );
    expect(recovered.columns).toMatchObject({ Image: WORKER_IMAGE, Reason: 'Ready' });
    const live = runsOf(c, exiting).filter((r) => r.exitedAt === undefined);
    expect(live).toHaveLength(1);
    expect(live[0]!.env.LAYER_WORKLOAD_NAME).toBe(exiting);
  }, 900_000);
});
