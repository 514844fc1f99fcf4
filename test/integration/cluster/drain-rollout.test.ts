// Scale-in that drains and a rollout, on a cluster where controllers act (issue 23 items 4 and 5;
// docs/adr/0103-scale-in-drains.md). The chart is installed, `layer operator` runs as the chart
// runs it, KEDA and the HPA scale, and each worker pod is a process of the tag-products example
// (test/integration/cluster/fixtures/logged-tag-products.ts) that logs every handler call, so the
// test can tell which rows were computed, by which pod and build, and how often.
//
// 1. A busy autoscaled Function at 4 replicas is cut to 1 (spec.scaling.replicas.max, as a user
//    would): the HPA removes three pods; each gets SIGTERM, finishes the batch its handler is
//    computing, hands its claims' other batches back and exits inside its grace period. Every row
//    is exact, no row is computed twice (so none the stopped pods finished), and no claim waited
//    for its heartbeat timeout (no claim retries, nothing lost).
// 2. Changing the worker image (tag v1 → v2, a second build of the example) mid-run rolls the
//    Deployment through the Deployment controller's real RollingUpdate; old pods drain as in 1 and
//    no row is lost or computed twice. Then a new output version with spec.rollout.canaryRows runs
//    its canary on the new build, waits for promotion, and after `promote` every row carries the
//    new version, each computed once, by the new build.
// 3. The image and the output version (with canaryRows) changed in ONE apply mid-run: the new
//    version waits until the rollout leaves no pod of the old build (docs/adr/0124), so the canary
//    and every row at the new version are computed by the new build, each once.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFunctionStatus, promoteFunctionRollout } from '../../../src/client/function-client.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import type { WorkerRun } from '../../../src/dev/pod-runner.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { tagsForTitle } from '../../../examples/tag-products/handler.js';
import { range, readAll, seedRows } from '../function/harness.js';
import { applyCr, eventually } from '../operator/harness.js';
import type { CallLogLine } from './fixtures/logged-tag-products.js';
import {
  callsPerRow,
  fixtureCommand,
  functionCr as seedFunctionCr,
  NS,
  readCallLog,
  runningPods,
  runsOf as runsOfIn,
  startOperatorCluster,
  WORKER_TIMEOUT_SECONDS,
  type OperatorCluster,
} from './operator-cluster.js';

const IMAGE = 'ghcr.io/hev/tag-products';
const BUILDS = ['v1', 'v2'] as const;
/** Per batch on top of the handler, so scale-in and the rollout meet busy workers. */
const SLOW_MS = 1500;
/** The pod's grace (plan-pod.ts: batch timeout + 15 s). */
const GRACE_SECONDS = WORKER_TIMEOUT_SECONDS + 15;
const log = (line: string) => process.stderr.write(`[drain-rollout] ${line}\n`);
const KEDA_POLLING_SECONDS = 60;
const callLog = join(tmpdir(), `layer-calls-${randomUUID()}.jsonl`);

let c: OperatorCluster;

beforeAll(async () => {
  c = await startOperatorCluster({
    label: 'drain',
    log,
    // KEDA's push path (ADR 0131): the operator's gRPC scaler serves every trigger and pushes
    // activations; KEDA polls only once a minute, so a workload that wakes in seconds was pushed.
    pushScaler: true,
    keda: { pollingIntervalSeconds: KEDA_POLLING_SECONDS, cooldownPeriodSeconds: 10 },
    // Two tags, two builds of the same example; the build label and the call log are the image's ENV.
    commandFor: (image) => {
      const build = BUILDS.find((b) => image === `${IMAGE}:${b}`);
      if (!build) return undefined;
      return fixtureCommand('logged-tag-products.ts', {
        TAG_PRODUCTS_BUILD: build,
        TAG_PRODUCTS_CALL_LOG: callLog,
        TAG_PRODUCTS_SLOW_MS: String(SLOW_MS),
      });
    },
  });
}, 60 * 60_000);

afterAll(async () => {
  await c?.stop();
  rmSync(callLog, { force: true });
});

const calls = (): CallLogLine[] => readCallLog(callLog);

/** The seed Function at one build of the example. */
const functionCr = (
  name: string,
  storeNs: string,
  o: { build: string; version: string; scaling: Record<string, unknown>; canaryRows?: number },
) => seedFunctionCr(name, storeNs, { ...o, image: `${IMAGE}:${o.build}` });

const runsOf = (name: string): WorkerRun[] => runsOfIn(c, name);

const status = (name: string): Promise<FunctionStatus> =>
  getFunctionStatus(c.temporal, { k8sNamespace: NS, name });

/** Every row at `version` with exactly the value the example computes. */
async function allRowsAt(storeNs: string, version: string, rows: number) {
  const all = await readAll(c.storeClient, storeNs, ['title', 'tags', 'tags_v']);
  return all.length === rows && all.every((r) => r.tags_v === version) ? all : undefined;
}

/** No claim lost, retried or failed: nothing waited for a heartbeat timeout. */
function expectNoLostClaims(s: FunctionStatus) {
  expect(s.observations?.claimRetries).toBe(0);
  expect(s.observations?.claimsLost).toBe(0);
  expect(s.observations?.failuresByType).toEqual({});
  expect(s.counters.deadLettered).toBe(0);
}

/** What the stopped pods did around their SIGTERM, for the assertions and the report. */
function stoppedRuns(name: string, since: number): WorkerRun[] {
  return runsOf(name).filter((r) => r.terminatingAt !== undefined && r.terminatingAt >= since);
}

function expectDrained(stopped: WorkerRun[], lines: CallLogLine[]) {
  for (const r of stopped) {
    const drainMs = r.exitedAt! - r.terminatingAt!;
    log(`${r.pod}: SIGTERM → exit ${drainMs} ms (grace ${GRACE_SECONDS} s)`);
    expect(r.killed, r.logFile).toBeFalsy();
    expect(r.exitCode).toBe(0);
    expect(drainMs).toBeLessThan(GRACE_SECONDS * 1000);
    // Every call it started returned: the batch in hand at SIGTERM was finished, not dropped.
    const mine = lines.filter((l) => l.pid === r.pid);
    expect(mine.filter((l) => l.event === 'call').length).toBe(
      mine.filter((l) => l.event === 'return').length,
    );
  }
  // At least one stopped pod was computing when told to stop: the drain had work to finish.
  const busyAtStop = stopped.filter((r) =>
    lines.some((l) => l.pid === r.pid && l.event === 'return' && l.at > r.terminatingAt!),
  );
  expect(busyAtStop.length).toBeGreaterThan(0);
}

describe('scale-in drains and a rollout, on a cluster where controllers act', () => {
  it("a Function idle at zero wakes on the operator's push, not at KEDA's next poll", async () => {
    const name = 'tag-push';
    const storeNs = `push-${randomUUID().slice(0, 8)}`;
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const apps = c.admin.makeApiClient(AppsV1Api);
    const deployment = workloadObjectName('Function', name);
    // One row already tagged: the Function starts with nothing to do.
    await seedRows(c.storeClient, storeNs, range(1, 2));
    await applyCr(
      custom,
      functionCr(name, storeNs, {
        build: 'v1',
        version: 'v1',
        scaling: { pool: 'cpu', mode: 'autoscale', replicas: { min: 0, max: 2 } },
      }),
    );
    await eventually(
      'every row tagged, the Deployment at 0 replicas',
      async () => {
        const rows = await allRowsAt(storeNs, 'v1', 1);
        const d = await apps
          .readNamespacedDeployment({ namespace: NS, name: deployment })
          .catch(() => undefined);
        return rows && d?.spec?.replicas === 0 ? true : undefined;
      },
      300_000,
    );
    // KEDA's own check of the new ScaledObject is behind us; its next poll is up to a minute away.
    await new Promise((r) => setTimeout(r, 5_000));

    const rowsAt = Date.now();
    await seedRows(c.storeClient, storeNs, range(2, 201));
    const wokeAfterMs = await eventually(
      'KEDA scaled the Deployment to 1',
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: NS, name: deployment });
        return (d.spec?.replicas ?? 0) >= 1 ? Date.now() - rowsAt : undefined;
      },
      KEDA_POLLING_SECONDS * 2 * 1000,
    );
    log(`rows appear → replicas ≥ 1 in ${wokeAfterMs} ms (KEDA polls every ${KEDA_POLLING_SECONDS} s)`);
    // The operator pushed it: its scaler logged the activation for exactly this Function.
    const pushed = c.operator
      .log()
      .split('\n')
      .filter((l) => l.includes('pushed activation to KEDA'));
    expect(
      pushed.some((l) => l.includes(`Function/${NS}/${name}`)),
      pushed.join('\n'),
    ).toBe(true);
    // Half a poll interval: a poll could have landed first by chance, never every time.
    expect(wokeAfterMs).toBeLessThan((KEDA_POLLING_SECONDS / 2) * 1000);
    const done = await eventually('every row written', () => allRowsAt(storeNs, 'v1', 200), 300_000);
    for (const r of done) expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
  });

  it('a busy Function cut from 4 replicas to 1 mid-run: every row exact, none computed twice, no claim lost', async () => {
    const name = 'tag-drain';
    const storeNs = `drain-${randomUUID().slice(0, 8)}`;
    const ROWS = 6000;
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const autoscale = (max: number) => ({ pool: 'cpu', mode: 'autoscale', replicas: { min: 0, max } });
    await seedRows(c.storeClient, storeNs, range(1, ROWS + 1));
    await applyCr(custom, functionCr(name, storeNs, { build: 'v1', version: 'v1', scaling: autoscale(4) }));

    // KEDA wakes it, the HPA scales out on queue depth; wait until all four pods compute.
    await eventually(
      'four worker pods, each computing batches',
      async () => {
        const pods = await runningPods(c, name);
        const since = Date.now() - 6_000;
        const busy = new Set(
          calls()
            .filter((l) => l.event === 'call' && l.at > since)
            .map((l) => l.pid),
        );
        const live = runsOf(name).filter((r) => r.exitedAt === undefined);
        log(`pods ${pods.length}, processes ${live.length}, computing ${busy.size}`);
        return pods.length === 4 && live.filter((r) => busy.has(r.pid)).length === 4 ? true : undefined;
      },
      300_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });
    const before = (await status(name)).counters.processed;
    expect(before, 'the cut must come mid-run').toBeLessThan(ROWS);

    const cutAt = Date.now();
    log(`cutting max to 1 with ${before} of ${ROWS} rows written`);
    await applyCr(custom, functionCr(name, storeNs, { build: 'v1', version: 'v1', scaling: autoscale(1) }));
    const apps = c.admin.makeApiClient(AppsV1Api);
    // Each spec.replicas seen after the cut: 4 → 1 is the HPA clamping to the new max; a 0 in
    // between would be KEDA deactivating the ScaledObject, which must not happen while claims are
    // leased (ADR 0103). Kept for the failure message with KEDA's lines about this workload.
    const replicasSeen: string[] = [];
    const stopped = await eventually(
      'the Deployment at 1 replica, three pods stopped',
      async () => {
        const d = await apps.readNamespacedDeployment({
          namespace: NS,
          name: workloadObjectName('Function', name),
        });
        const seen = `${String(d.spec?.replicas)} at +${Date.now() - cutAt} ms`;
        if (replicasSeen.at(-1)?.split(' ')[0] !== String(d.spec?.replicas)) replicasSeen.push(seen);
        const stopped = stoppedRuns(name, cutAt);
        return d.spec?.replicas === 1 && stopped.length === 3 && stopped.every((r) => r.exitedAt)
          ? stopped
          : undefined;
      },
      180_000,
    ).catch((err: unknown) => {
      const keda = readFileSync(c.cluster.logs.kedaOperator, 'utf8')
        .split('\n')
        .filter((l) => l.includes(workloadObjectName('Function', name)) || l.includes(name));
      throw new Error(
        `${String(err)}\nspec.replicas after the cut: ${replicasSeen.join(', ')}\n` +
          `stopped since the cut: ${stoppedRuns(name, cutAt).length}\n--- KEDA about ${name}\n${keda.slice(-40).join('\n')}\n` +
          `--- operator's scaler\n${c.operator
            .log()
            .split('\n')
            .filter((l) => l.includes('scaler') || l.includes('KEDA'))
            .slice(-20)
            .join('\n')}`,
      );
    });
    log(`spec.replicas after the cut: ${replicasSeen.join(', ')}`);
    const left = (await status(name)).counters.processed;
    log(`three pods drained and exited; ${left} of ${ROWS} rows written by then`);
    expect(left, 'the pods must have stopped mid-run').toBeLessThan(ROWS);
    const done = await eventually('every row written', () => allRowsAt(storeNs, 'v1', ROWS), 600_000);

    for (const r of done) expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
    const lines = calls();
    // Each row computed exactly once: none the stopped pods had finished was computed again.
    const perRow = callsPerRow(lines, storeNs, 'tags', 'v1');
    expect(perRow.size).toBe(ROWS);
    const twice = [...perRow.entries()].filter(([, l]) => l.length > 1);
    expect(twice.map(([id, l]) => `${id}: ${l.map((x) => x.pid).join(',')}`)).toEqual([]);
    expectDrained(stopped, lines);
    expectNoLostClaims(await status(name));
  }, 1_200_000);

  it('a new worker image rolls the Deployment mid-run with nothing lost or computed twice; a canary then runs on the new build', async () => {
    const name = 'tag-rollout';
    const storeNs = `rollout-${randomUUID().slice(0, 8)}`;
    const ROWS = 3000;
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const fixed = { pool: 'cpu', mode: 'fixed', replicas: { min: 2, max: 2 } };
    const deploymentName = workloadObjectName('Function', name);
    const apps = c.admin.makeApiClient(AppsV1Api);
    await seedRows(c.storeClient, storeNs, range(1, ROWS + 1));
    await applyCr(
      custom,
      functionCr(name, storeNs, { build: 'v1', version: 'v1', scaling: fixed, canaryRows: 20 }),
    );
    await eventually(
      'two v1 pods computing',
      async () => {
        const live = runsOf(name).filter((r) => r.exitedAt === undefined);
        const busy = new Set(
          calls()
            .filter((l) => l.event === 'call' && l.build === 'v1')
            .map((l) => l.pid),
        );
        return live.filter((r) => busy.has(r.pid)).length === 2 ? true : undefined;
      },
      300_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });

    // The new build: only the image changes, so the Deployment controller rolls it out.
    const rolloutAt = Date.now();
    const written = (await status(name)).counters.processed;
    log(`image v1 → v2 with ${written} of ${ROWS} rows written`);
    expect(written).toBeLessThan(ROWS);
    await applyCr(
      custom,
      functionCr(name, storeNs, { build: 'v2', version: 'v1', scaling: fixed, canaryRows: 20 }),
    );
    await eventually(
      'the rollout complete: two ready v2 pods, the old ReplicaSet at zero, its pods exited',
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: NS, name: deploymentName });
        const pods = await runningPods(c, name);
        const stopped = stoppedRuns(name, rolloutAt);
        const complete =
          d.status?.updatedReplicas === 2 &&
          d.status.readyReplicas === 2 &&
          (d.status.replicas ?? 0) === 2 &&
          pods.every((p) => p.spec?.containers[0]?.image === `${IMAGE}:v2`) &&
          stopped.length === 2 &&
          stopped.every((r) => r.exitedAt);
        return complete ? true : undefined;
      },
      300_000,
    );
    const rs = await apps.listNamespacedReplicaSet({ namespace: NS });
    const mine = rs.items.filter((r) => r.metadata?.ownerReferences?.some((o) => o.name === deploymentName));
    expect(mine.map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort()).toEqual([
      [`${IMAGE}:v1`, 0],
      [`${IMAGE}:v2`, 2],
    ]);
    await eventually('every row at v1', () => allRowsAt(storeNs, 'v1', ROWS), 600_000);
    let lines = calls();
    const v1 = callsPerRow(lines, storeNs, 'tags', 'v1');
    expect(v1.size).toBe(ROWS);
    expect([...v1.entries()].filter(([, l]) => l.length > 1).map(([id]) => id)).toEqual([]);
    // Both builds computed part of it: the rollout came mid-run.
    const byBuild = (b: string) => [...v1.values()].filter((l) => l[0]!.build === b).length;
    log(`rows computed by build v1: ${byBuild('v1')}, by v2: ${byBuild('v2')}`);
    expect(byBuild('v1')).toBeGreaterThan(0);
    expect(byBuild('v2')).toBeGreaterThan(0);
    expectDrained(stoppedRuns(name, rolloutAt), lines);
    expectNoLostClaims(await status(name));

    // A new output version with canaryRows on the new build: the sample runs first, then waits.
    await applyCr(
      custom,
      functionCr(name, storeNs, { build: 'v2', version: 'v2', scaling: fixed, canaryRows: 20 }),
    );
    const canaryDone = await eventually(
      'the canary computed and awaiting promotion',
      async () => {
        const s = await status(name);
        return s.rollout?.stage === 'awaitingPromotion' ? s.rollout : undefined;
      },
      300_000,
    );
    expect(canaryDone).toMatchObject({
      fromVersion: 'v1',
      toVersion: 'v2',
      sampled: 20,
      written: 20,
      failed: 0,
    });
    lines = calls();
    const canary = callsPerRow(lines, storeNs, 'tags__canary', 'v2');
    expect(canary.size).toBe(20);
    expect([...canary.values()].every((l) => l.length === 1 && l[0]!.build === 'v2')).toBe(true);
    // Nothing but the sample ran at v2 before promotion.
    expect(callsPerRow(lines, storeNs, 'tags', 'v2').size).toBe(0);
    await promoteFunctionRollout(c.temporal, { k8sNamespace: NS, name });
    const done = await eventually('every row at v2', () => allRowsAt(storeNs, 'v2', ROWS), 600_000);
    for (const r of done) expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
    lines = calls();
    const v2 = callsPerRow(lines, storeNs, 'tags', 'v2');
    expect(v2.size).toBe(ROWS);
    expect([...v2.values()].every((l) => l.length === 1 && l[0]!.build === 'v2')).toBe(true);
    expectNoLostClaims(await status(name));
  }, 1_800_000);

  it('a new image and a new output version with canaryRows in one apply mid-run: the version waits for the rollout, only the new build computes it', async () => {
    const name = 'tag-one-apply';
    const storeNs = `one-apply-${randomUUID().slice(0, 8)}`;
    const ROWS = 3000;
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const fixed = { pool: 'cpu', mode: 'fixed', replicas: { min: 2, max: 2 } };
    await seedRows(c.storeClient, storeNs, range(1, ROWS + 1));
    await applyCr(
      custom,
      functionCr(name, storeNs, { build: 'v1', version: 'v1', scaling: fixed, canaryRows: 20 }),
    );
    await eventually(
      'two v1 pods computing',
      async () => {
        const live = runsOf(name).filter((r) => r.exitedAt === undefined);
        const busy = new Set(
          calls()
            .filter((l) => l.event === 'call' && l.build === 'v1' && l.namespace === storeNs)
            .map((l) => l.pid),
        );
        return live.filter((r) => busy.has(r.pid)).length === 2 ? true : undefined;
      },
      300_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });

    // Pods here are Ready as soon as kwok runs them, so a rollout would be over in a few hundred ms,
    // before a new worker process even polls; in a cluster, image pulls and readiness keep the old
    // pods polling for seconds or minutes. minReadySeconds (a Deployment field the operator does
    // not set, so its server-side apply keeps it) gives the old pods that time here: each new pod
    // counts as available only after 8 s, and only then is an old pod stopped.
    const apps = c.admin.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment(
      { namespace: NS, name: workloadObjectName('Function', name), body: { spec: { minReadySeconds: 8 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const applyAt = Date.now();
    const written = (await status(name)).counters.processed;
    log(`image v1 → v2 and output.version v1 → v2 in one apply, with ${written} of ${ROWS} rows written`);
    expect(written).toBeLessThan(ROWS);
    await applyCr(
      custom,
      functionCr(name, storeNs, { build: 'v2', version: 'v2', scaling: fixed, canaryRows: 20 }),
    );
    const canaryDone = await eventually(
      'the canary computed and awaiting promotion',
      async () => {
        const s = await status(name);
        return s.rollout?.stage === 'awaitingPromotion' ? s.rollout : undefined;
      },
      300_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });
    expect(canaryDone).toMatchObject({
      fromVersion: 'v1',
      toVersion: 'v2',
      sampled: 20,
      written: 20,
      failed: 0,
    });
    const stopped = stoppedRuns(name, applyAt);
    const lastStop = Math.max(...stopped.map((r) => r.terminatingAt!));
    log(
      stopped.length === 0
        ? 'the canary finished before any old pod was told to stop'
        : `old pods told to stop ${stopped.map((r) => r.terminatingAt! - applyAt).join(', ')} ms after the apply; ` +
            `the canary started ${Date.parse(canaryDone.startedAt) - lastStop} ms after the last of them`,
    );
    let lines = calls();
    // Every canary row computed once, by the new build: no old pod took the canary's claim.
    const canary = callsPerRow(lines, storeNs, 'tags__canary', 'v2');
    log(`canary rows by build: ${JSON.stringify(countBy([...canary.values()].flat(), (l) => l.build))}`);
    expect(canary.size).toBe(20);
    expect([...canary.entries()].filter(([, l]) => l.length !== 1 || l[0]!.build !== 'v2')).toEqual([]);
    // Nothing but the sample ran at v2 before promotion.
    expect(callsPerRow(lines, storeNs, 'tags', 'v2').size).toBe(0);
    // The canary waited for the rollout: both old pods had been told to stop by the time it finished.
    expect(stopped.length).toBe(2);
    // While the version waited, the workflow kept v1 (and its filter): no row computed twice at v1.
    const v1 = callsPerRow(lines, storeNs, 'tags', 'v1');
    expect([...v1.entries()].filter(([, l]) => l.length > 1).map(([id]) => id)).toEqual([]);
    log(`rows at v1 before the canary: ${v1.size}`);

    await promoteFunctionRollout(c.temporal, { k8sNamespace: NS, name });
    const done = await eventually('every row at v2', () => allRowsAt(storeNs, 'v2', ROWS), 600_000);
    for (const r of done) expect(r.tags, `row ${String(r.id)}`).toEqual(tagsForTitle(r.title));
    lines = calls();
    const v2 = callsPerRow(lines, storeNs, 'tags', 'v2');
    log(`rows at v2 by build: ${JSON.stringify(countBy([...v2.values()].flat(), (l) => l.build))}`);
    expect(v2.size).toBe(ROWS);
    expect(
      [...v2.entries()].filter(([, l]) => l.length !== 1 || l[0]!.build !== 'v2').map(([id]) => id),
    ).toEqual([]);
    // The old pods drained (none killed), and the Function said why v2 waited while they ran: its
    // Ready flipped to WaitingForWorkerRollout (an Event, so a short hold is not missed).
    for (const r of stopped) expect(r.killed, r.logFile).toBeFalsy();
    const events = await c.admin.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace: NS,
      fieldSelector: `involvedObject.name=${name},reason=WaitingForWorkerRollout`,
    });
    log(`hold events: ${events.items.map((e) => e.message).join(' | ') || 'none'}`);
    expect(events.items.map((e) => e.message)).toContainEqual(
      expect.stringContaining('spec.output.version v2 waits for the worker rollout'),
    );
    expectNoLostClaims(await status(name));
  }, 1_800_000);
});

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}
