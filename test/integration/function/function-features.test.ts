// Issue 16's engine features on the real Temporal dev server and the embedded store over HTTP:
// input fingerprints (an edited input re-runs exactly that row) and canary rollouts of a new
// output version (sample → side attribute → awaitingPromotion → promote / abort through the CLI).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  abortFunctionRollout,
  discoverFunctionNow,
  type FunctionRef,
} from '../../../src/client/function-client.js';
import type { FunctionRuntimeSpec } from '../../../src/contracts/function.js';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import { inputFingerprint } from '../../../packages/worker/src/claim-execution/input-fingerprint.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { LayerPhaseKey } from '../../../src/contracts/search-attributes.js';
import { runLayer } from '../../helpers/layer-cli.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  baseSpec,
  eventually,
  range,
  readAll,
  recordHistories,
  seedRows,
  engineHarnessPerFile,
  startFunction,
  startPullWorker,
  statusOf,
  uniqueName,
  type RunningPullWorker,
} from './harness.js';

const h = engineHarnessPerFile();
const dir = mkdtempSync(join(tmpdir(), 'layer-features-'));

/** Tags a row with its title's words and the version that computed them; counts calls per id. */
function versionedTagger(calls: Map<number, number>): FunctionHandler {
  return (rows, ctx) =>
    rows.map((r) => {
      calls.set(r.id as number, (calls.get(r.id as number) ?? 0) + 1);
      return { id: r.id, value: [ctx.output.version, ...String(r.inputs.title).toLowerCase().split(/\s+/)] };
    });
}

/**
 * A Function over `ns` (discovery on demand only) with its pull worker, once every one of its
 * `rows` rows is tagged. The caller stops the worker.
 */
async function taggedFunction(
  ns: string,
  name: string,
  rows: number,
  overrides: Partial<FunctionRuntimeSpec>,
): Promise<{
  spec: FunctionRuntimeSpec;
  ref: FunctionRef;
  calls: Map<number, number>;
  worker: RunningPullWorker;
}> {
  const spec = baseSpec(name, ns, {
    filter: undefined,
    schedule: {
      discoveryIntervalSeconds: 3600,
      leaseSeconds: 30,
      maxInFlightBatches: 4,
      maxConcurrentScans: 1,
    },
    ...overrides,
  });
  const ref = { k8sNamespace: spec.k8sNamespace, name };
  const calls = new Map<number, number>();
  const worker = startPullWorker(h, spec, versionedTagger(calls));
  try {
    await startFunction(h, spec);
    await eventually(
      () => statusOf(h, ref),
      (s) => s.counters.processed === rows && s.phase === 'idle',
      90_000,
      `${rows} rows tagged`,
    );
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return { spec, ref, calls, worker };
}

function layer(...args: string[]) {
  return runLayer(
    {
      LAYER_STATE_DIR: join(dir, 'no-dev-env'),
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      LAYER_ORCHESTRATOR_TASK_QUEUE: h.taskQueue,
    },
    args,
  );
}

describe('input fingerprints', () => {
  it('re-runs exactly the 10 of 10,000 rows whose title was edited, with no version bump', async () => {
    const ns = uniqueName('fp');
    const name = uniqueName('fp');
    await seedRows(h.store, ns, range(1, 10_001));
    const { ref, calls, worker } = await taggedFunction(ns, name, 10_000, {
      output: { attribute: 'tags', kind: 'tags', version: 'v1', inputFingerprint: true },
      worker: { dispatch: 'pull', batchSize: 500, timeoutSeconds: 30 },
    });
    try {
      expect(calls.size).toBe(10_000);

      const edited = [3, 777, 1500, 2048, 4001, 5555, 6000, 7321, 9000, 10_000];
      await h.store.patchRows(ns, edited.map((id) => ({ id, title: `Edited title ${id}` })) as never);
      const discoveriesBefore = (await statusOf(h, ref)).counters.discoveries;
      await discoverFunctionNow(h.client, ref);
      const after = await eventually(
        () => statusOf(h, ref),
        (s) =>
          s.counters.discoveries > discoveriesBefore && s.counters.processed === 10_010 && s.phase === 'idle',
        60_000,
        'the edited rows re-run',
      );
      expect(after.outputVersion).toBe('v1');
      const rerun = [...calls].filter(([, n]) => n > 1).map(([id]) => id);
      expect(rerun.sort((a, b) => a - b)).toEqual(edited);
      expect(Math.max(...calls.values())).toBe(2);

      const rows = await readAll(h.store, ns, ['title', 'tags', 'tags_v', 'tags_fp']);
      const byId = new Map(rows.map((r) => [r.id as number, r]));
      expect(byId.get(777)?.tags).toEqual(['v1', 'edited', 'title', '777']);
      expect(byId.get(777)?.tags_fp).toBe(inputFingerprint(['id', 'title'], { title: 'Edited title 777' }));
      expect(byId.get(778)?.tags_fp).toBe(
        inputFingerprint(['id', 'title'], { title: 'Product number 778 deluxe' }),
      );
      expect(rows.filter((r) => r.tags_v === 'v1')).toHaveLength(10_000);

      // A pass over unchanged inputs finds nothing.
      await discoverFunctionNow(h.client, ref);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.discoveries > after.counters.discoveries + 0 && s.phase === 'idle',
        30_000,
        'another idle pass',
      );
      expect((await statusOf(h, ref)).counters.processed).toBe(10_010);
      expect(Math.max(...calls.values())).toBe(2);
    } finally {
      await worker.stop();
    }
  });
});

describe('canary rollouts', () => {
  it('computes a sample into tags__canary, waits, promotes through the CLI; a second canary is aborted', async () => {
    const ns = uniqueName('canary');
    const name = uniqueName('canary');
    await seedRows(h.store, ns, range(1, 201));
    // The first version rolls out over every row: there is nothing to compare it with.
    const { spec, ref, calls, worker } = await taggedFunction(ns, name, 200, {
      rollout: { canaryRows: 20 },
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: 30 },
    });
    try {
      expect((await layer('function', 'promote', name, '-n', 'test')).stderr).toContain(
        'no rollout is waiting: change spec.output.version with spec.rollout.canaryRows set to start one',
      );

      // v2: 20 sampled rows into the side attribute, then the engine waits.
      await startFunction(h, { ...spec, generation: 2, output: { ...spec.output, version: 'v2' } });
      const waiting = await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'awaitingPromotion',
        60_000,
        'awaitingPromotion',
      );
      expect(waiting.outputVersion).toBe('v1');
      expect(waiting.rollout).toMatchObject({
        fromVersion: 'v1',
        toVersion: 'v2',
        stage: 'awaitingPromotion',
        sampled: 20,
        written: 20,
        failed: 0,
      });
      expect(waiting.rollout!.comparison).toHaveLength(5);
      for (const c of waiting.rollout!.comparison) {
        const words = `product number ${String(c.id)} deluxe`.split(' ');
        expect(c).toEqual({
          namespace: ns,
          id: c.id,
          old: ['v1', ...words],
          oldVersion: 'v1',
          new: ['v2', ...words],
        });
      }
      let rows = await readAll(h.store, ns, ['tags_v', 'tags__canary', 'tags__canary_v']);
      const canaried = rows.filter((r) => r.tags__canary_v === 'v2');
      expect(canaried).toHaveLength(20);
      expect(rows.filter((r) => r.tags__canary !== undefined && r.tags__canary !== null)).toHaveLength(20);
      expect(rows.every((r) => r.tags_v === 'v1')).toBe(true);
      // Deterministic and spread: not simply the first 20 ids.
      const sampleIds = canaried.map((r) => r.id as number);
      expect(Math.max(...sampleIds)).toBeGreaterThan(100);
      expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(220);
      // What the Temporal UI shows: the phase search attribute and the current details.
      const handle = h.client.workflow.getHandle(functionWorkflowId(spec.k8sNamespace, name));
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(LayerPhaseKey)).toBe('awaitingPromotion');
      const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      expect(metadata.currentDetails).toContain('**awaitingPromotion**');
      expect(metadata.currentDetails).toContain(
        `- canary of \`v2\` done: 20 of 20 sampled rows written, 0 failed — **\`layer function promote ${name}\`** to continue`,
      );
      expect((await layer('function', 'status', name, '-n', 'test')).stdout).toContain(
        `\`layer function promote ${name}\` continues at v2`,
      );

      const promote = await layer('function', 'promote', name, '-n', 'test');
      expect(promote.stdout).toBe(`function test/${name}: promoted, running output version v2\n`);
      await eventually(
        () => statusOf(h, ref),
        (s) => s.counters.processed === 400 && s.phase === 'idle' && s.outputVersion === 'v2',
        60_000,
        'v2 on every row',
      );
      rows = await eventually(
        () => readAll(h.store, ns, ['tags', 'tags_v', 'tags__canary', 'tags__canary_v']),
        (all) => all.every((r) => r.tags__canary_v === undefined || r.tags__canary_v === null),
        30_000,
        'canary attribute removed',
      );
      expect(rows.every((r) => r.tags_v === 'v2' && (r.tags as string[])[0] === 'v2')).toBe(true);
      expect(rows.every((r) => r.tags__canary === undefined || r.tags__canary === null)).toBe(true);
      expect((await statusOf(h, ref)).rollout).toBeUndefined();

      // v3: canary, then abort — the rows keep v2 and the side attribute goes.
      await startFunction(h, { ...spec, generation: 3, output: { ...spec.output, version: 'v3' } });
      await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'awaitingPromotion',
        60_000,
        'v3 awaiting',
      );
      const abort = await layer('function', 'abort', name, '-n', 'test');
      expect(abort.stdout).toBe(`function test/${name}: rollout aborted, running output version v2\n`);
      const abortedStatus = await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'idle' && s.rollout?.stage === 'aborted',
        30_000,
        'aborted, idle',
      );
      expect(abortedStatus.outputVersion).toBe('v2');
      expect(abortedStatus.counters.processed).toBe(400);
      rows = await eventually(
        () => readAll(h.store, ns, ['tags_v', 'tags__canary', 'tags__canary_v']),
        (all) => all.every((r) => r.tags__canary_v === undefined || r.tags__canary_v === null),
        30_000,
        'canary attribute removed after abort',
      );
      expect(rows.every((r) => r.tags_v === 'v2')).toBe(true);
      expect(rows.every((r) => r.tags__canary === undefined || r.tags__canary === null)).toBe(true);
      expect((await layer('function', 'abort', name, '-n', 'test')).stderr).toContain(
        'the rollout of v3 is already aborted: the engine runs v2',
      );
      // ADR 0055: promote after abort is refused with the reason, and nothing moves.
      const refusedPromote = await layer('function', 'promote', name, '-n', 'test');
      expect(refusedPromote.code).not.toBe(0);
      expect(refusedPromote.stderr).toContain(
        `function test/${name}: the rollout of v3 was aborted: the engine runs v2 and an aborted version is not promoted`,
      );
      const afterRefusal = await statusOf(h, ref);
      expect(afterRefusal.rollout?.stage).toBe('aborted');
      expect(afterRefusal.outputVersion).toBe('v2');

      // v4 with no worker to compute the canary: an abort cancels the canary's claim at once.
      await worker.stop();
      await startFunction(h, { ...spec, generation: 4, output: { ...spec.output, version: 'v4' } });
      await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'canary',
        30_000,
        'v4 canary',
      );
      await eventually(
        async () => (await handle.fetchHistory()).events ?? [],
        (events) =>
          events.some((e) =>
            e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data
              ? Buffer.from(e.activityTaskScheduledEventAttributes.input.payloads[0].data)
                  .toString()
                  .includes('tags__canary')
              : false,
          ) && events.filter((e) => e.activityTaskScheduledEventAttributes).length > 0,
        30_000,
        'canary claim scheduled',
      );
      await abortFunctionRollout(h.client, ref);
      const abortedV4 = await eventually(
        () => statusOf(h, ref),
        (s) => s.phase === 'idle' && s.rollout?.stage === 'aborted' && s.rollout.toVersion === 'v4',
        30_000,
        'v4 aborted while its canary ran',
      );
      expect(abortedV4.outputVersion).toBe('v2');
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.activityTaskCancelRequestedEventAttributes)).toHaveLength(1);
      expect(events.filter((e) => e.activityTaskCanceledEventAttributes)).toHaveLength(1);
      await recordHistories(h, functionWorkflowId(spec.k8sNamespace, name), 'function-v2-canary');
    } finally {
      await worker.stop();
    }
  });
});
