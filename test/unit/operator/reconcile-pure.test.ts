// Pure parts of the operator's reconcile: runtime spec, selector matching, the watcher's event
// rules, queue depth, inbound auth decisions and status change detection.
import { describe, expect, it } from 'vitest';
import { seedFunction } from '../../fixtures/seeds.js';
import {
  toFunctionRuntimeSpec,
  runtimeSpecProblems,
  workloadPushUrl,
} from '../../../src/operator/runtime-spec.js';
import {
  matchesSelector,
  namespaceOwner,
  resolveTargetNamespaces,
} from '../../../src/operator/index-selector.js';
import { FINALIZER } from '../../../src/operator/finalizer.js';
import { OUTPUT_CLAIM_LABEL, outputClaimLabel } from '../../../src/operator/output-ownership.js';
import {
  changedPools,
  fingerprint,
  poolsOf,
  rawWorkloadPool,
  workloadsOnPools,
} from '../../../src/operator/watch-rules.js';
import { functionStatusDepth } from '../../../src/contracts/queue-depth.js';
import { queueDepthOf } from '../../../src/contracts/queue-depth.js';
import { authorize, bearerOf } from '../../../src/server/inbound-auth.js';
import { planReconcilePass } from '../../../src/operator/reconcile/plan-pass.js';
import { finalStatus } from '../../../src/operator/reconcile/status.js';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import { operatorSettings } from '../../../src/operator/settings.js';
import { engineUnavailable } from '../../../src/activities/kubernetes-activities.js';
import { estimateFromCounts } from '../../../src/operator/function-estimate.js';

describe('toFunctionRuntimeSpec', () => {
  it('defaults output.version to v1 and sets the pull task queue', () => {
    const fn = seedFunction();
    delete fn.spec.output.version;
    const spec = toFunctionRuntimeSpec(fn, ['products']);
    expect(spec.output.version).toBe('v1');
    expect(spec.worker).toEqual({
      dispatch: 'pull',
      batchSize: 32,
      timeoutSeconds: 30,
      taskQueue: 'layer-fn.layer.tag-products',
    });
    expect(runtimeSpecProblems(spec)).toEqual([]);
  });
  it('push workers get the planner Service URL', () => {
    const fn = seedFunction();
    fn.spec.worker.dispatch = 'push';
    expect(toFunctionRuntimeSpec(fn, []).worker.pushUrl).toBe(
      workloadPushUrl('Function', 'layer', 'tag-products', 8080),
    );
  });
  it('carries spec.worker.rateLimit to the engine as written', () => {
    const fn = seedFunction();
    fn.spec.worker.rateLimit = { key: 'openai', rowsPerMinute: 3000 };
    const spec = toFunctionRuntimeSpec(fn, []);
    expect(spec.worker.rateLimit).toEqual({ key: 'openai', rowsPerMinute: 3000 });
    expect(runtimeSpecProblems(spec)).toEqual([]);
  });
  it('carries spec.rollout and output.inputFingerprint to the engine, and leaves them out when unset', () => {
    const fn = seedFunction();
    expect(toFunctionRuntimeSpec(fn, []).rollout).toBeUndefined();
    expect(toFunctionRuntimeSpec(fn, []).output.inputFingerprint).toBeUndefined();
    fn.spec.rollout = { canaryRows: 50 };
    fn.spec.output.inputFingerprint = true;
    const spec = toFunctionRuntimeSpec(fn, ['products']);
    expect(spec.rollout).toEqual({ canaryRows: 50 });
    expect(spec.output).toEqual({
      attribute: 'tags',
      kind: 'tags',
      version: fn.spec.output.version,
      inputFingerprint: true,
    });
  });
  it('values the engine refuses become problems, not calls', () => {
    const fn = seedFunction();
    fn.spec.schedule.maxInFlightBatches = 5000;
    expect(runtimeSpecProblems(toFunctionRuntimeSpec(fn, []))[0]).toContain('maxInFlightBatches');
  });
});

describe('label selectors', () => {
  it.each([
    // matchLabels must all hold
    [{ matchLabels: { a: '1' } }, { a: '1', b: '2' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    // set-based operators
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' as const, values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' as const }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' as const }] }, { a: 'x' }, false],
    // empty selector matches everything
    [{}, undefined, true],
  ])('%j on %j → %s', (selector, labels, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });
  it('resolves sorted unique namespaces; the oldest Index owns a namespace', () => {
    const idx = (name: string, ns: string | undefined, created: string, labels = { t: 'x' }) => ({
      metadata: { name, namespace: 'layer', labels, creationTimestamp: created },
      spec: ns ? { namespace: ns } : {},
    });
    const list = [idx('b', undefined, '2'), idx('a', 'b', '1'), idx('c', 'z', '3', { t: 'y' })];
    expect(resolveTargetNamespaces({ matchLabels: { t: 'x' } }, list)).toEqual(['b']);
    expect(namespaceOwner(list.slice(0, 2))?.metadata.name).toBe('a');
  });
});

describe('watcher rules', () => {
  it('status-only changes keep the fingerprint', () => {
    const a = { metadata: { generation: 1, labels: {} }, spec: {}, status: { x: 1 } };
    expect(fingerprint(a)).toBe(fingerprint({ ...a, status: { x: 2 } }));
    expect(fingerprint(a)).not.toBe(fingerprint({ ...a, metadata: { ...a.metadata, generation: 2 } }));
  });
  it('the finalizer and claim label a pass writes keep the fingerprint; anyone else’s change it', () => {
    const a = { metadata: { generation: 1, labels: { team: 'x' }, finalizers: ['other/f'] }, spec: {} };
    const withOurs = {
      ...a,
      metadata: {
        ...a.metadata,
        labels: { ...a.metadata.labels, [OUTPUT_CLAIM_LABEL]: outputClaimLabel('tags') },
        finalizers: ['other/f', FINALIZER],
      },
    };
    expect(fingerprint(withOurs)).toBe(fingerprint(a));
    expect(fingerprint({ ...a, metadata: { ...a.metadata, labels: { team: 'y' } } })).not.toBe(
      fingerprint(a),
    );
    expect(fingerprint({ ...a, metadata: { ...a.metadata, finalizers: [] } })).not.toBe(fingerprint(a));
  });
  it('InfraRules edits requeue only workloads on changed pools', () => {
    const rules = (sel: string) => ({
      spec: { computePools: [{ name: 'cpu', nodeSelector: { a: sel } }, { name: 'gpu' }] },
    });
    const changed = changedPools(poolsOf(rules('1')), poolsOf(rules('2')));
    expect(changed).toEqual(new Set(['cpu']));
    const w = (name: string, spec: object) => ({
      kind: 'Function',
      metadata: { name, namespace: 'n' },
      spec,
    });
    const refs = workloadsOnPools(changed, [
      w('a', { scaling: { pool: 'cpu' } }),
      w('b', { worker: { computeClass: 'gpu' } }),
      w('c', {}),
    ]);
    expect(refs.map((r) => r.name)).toEqual(['a', 'c']);
    expect(changedPools(undefined, poolsOf(rules('1')))).toBe('*');
    expect(rawWorkloadPool(w('g', { worker: { computeClass: 'gpu' } }))).toBe('gpu');
  });
});

describe('queue depth and ids', () => {
  it.each([
    [0, 32, 0, 0],
    [1, 32, 0, 1], // a partial batch still needs a worker
    [100, 32, 2, 6],
    [-5, 32, 1, 1], // never negative
  ])('pending %i / batch %i + %i in flight = %i', (p, b, f, d) => expect(queueDepthOf(p, b, f)).toBe(d));
  it.each([
    // 64 rows counted pending, all 64 leased in 2 batches: 2, not ceil(64/32) + 2 = 4.
    [{ pendingRows: 64, inFlightRows: 64, inFlightBatches: 2 }, 2],
    // 100 pending, 32 of them leased in 1 batch: ceil(68 / 32) = 3 waiting + 1 in flight.
    [{ pendingRows: 100, inFlightRows: 32, inFlightBatches: 1 }, 4],
    // The count lags: more in flight than counted never goes negative.
    [{ pendingRows: 10, inFlightRows: 64, inFlightBatches: 2 }, 2],
  ])('a Function status counts leased rows once: %j → %i', (status, depth) =>
    expect(functionStatusDepth(status, 32)).toBe(depth),
  );
  it('reconcile workflow ids', () => {
    expect(reconcileWorkflowId('Function', 'layer', 'x')).toBe('reconcile/Function/layer/x');
    expect(reconcileWorkflowId('InfraRules', undefined, 'default')).toBe('reconcile/InfraRules/-/default');
  });
});

describe('inbound auth', () => {
  const keys = {
    mode: 'keys' as const,
    keys: [
      { name: 'r', scopes: ['read' as const], key: 'rk' },
      { name: 'w', scopes: ['write' as const], key: 'wk' },
    ],
  };
  it.each([
    [{ mode: 'open' as const }, undefined, 'admin', true],
    [{ mode: 'deriveFromStore' as const, storeKey: 's' }, 'Bearer s', 'admin', true],
    [{ mode: 'deriveFromStore' as const, storeKey: 's' }, 'Bearer t', 'read', 401],
    [keys, undefined, 'read', 401],
    [keys, 'Bearer rk', 'read', true],
    [keys, 'Bearer rk', 'write', 403],
    [keys, 'Bearer wk', 'read', true], // write implies read
    [keys, 'Bearer wk', 'admin', 403],
    [keys, 'Basic rk', 'read', 401],
    // In a cluster with no VectorStore: reads stay open, control calls are refused.
    [{ mode: 'readOnly' as const }, undefined, 'read', true],
    [{ mode: 'readOnly' as const }, undefined, 'write', 403],
    [{ mode: 'readOnly' as const }, 'Bearer anything', 'admin', 403],
  ] as const)('%j with %s needing %s → %s', (auth, header, need, expected) => {
    const d = authorize(auth, header, need);
    expect(d.ok ? true : d.status).toBe(expected);
  });
  it('parses bearer headers strictly', () => {
    expect(bearerOf('bearer abc')).toBe('abc');
    expect(bearerOf('Bearer a b')).toBeUndefined();
  });
});

describe('planReconcilePass and finalStatus', () => {
  const settings = operatorSettings({ inboundAuth: { mode: 'open' } });
  const fnRaw = (extra: object = {}) => ({
    ...JSON.parse(JSON.stringify(seedFunction())),
    metadata: {
      name: 'f',
      namespace: 'layer',
      generation: 3,
      uid: 'u',
      finalizers: ['hevlayer.com/finalizer'],
    },
    ...extra,
  });
  const rules = {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'InfraRules',
    metadata: { name: 'default' },
    spec: { computePools: [{ name: 'cpu', kind: 'cpu', maxReplicasPerWorkload: 10 }] },
  };

  it('a deleting workload stops its workflow, deletes what it owns and releases the finalizer', () => {
    const owned = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'layer-fn-f' }];
    const plan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Function', namespace: 'layer', name: 'f' },
        object: fnRaw({
          metadata: {
            name: 'f',
            namespace: 'layer',
            deletionTimestamp: 'now',
            finalizers: ['hevlayer.com/finalizer'],
          },
        }),
        owned,
      },
    });
    expect(plan).toMatchObject({
      outcome: 'deleting',
      finalizer: 'remove',
      remove: owned,
      engine: { action: 'stop' },
    });
  });
  it('a Function spec the engine refuses is a WorkflowReady condition, and the engine is not synced', () => {
    const raw = fnRaw();
    raw.spec.schedule.maxInFlightBatches = 5000;
    const plan = planReconcilePass({
      settings,
      observed: { ref: { kind: 'Function', namespace: 'layer', name: 'f' }, object: raw, infraRules: rules },
    });
    expect(plan.engine).toEqual({ action: 'none' });
    expect(plan.status?.conditions).toContainEqual(
      expect.objectContaining({
        type: 'WorkflowReady',
        status: 'False',
        reason: 'EngineRejectedSpec',
        message: expect.stringContaining('the Function engine refuses this spec: ') as unknown,
      }),
    );
  });
  it('a Function writing an output attribute an older Function owns is refused and its workflow stopped', () => {
    const other = {
      ...JSON.parse(JSON.stringify(seedFunction())),
      metadata: { name: 'first', namespace: 'team-a', creationTimestamp: '2026-12-01T00:00:00Z' },
    };
    const me = fnRaw({
      metadata: {
        name: 'f',
        namespace: 'layer',
        generation: 3,
        uid: 'u',
        finalizers: ['hevlayer.com/finalizer'],
        creationTimestamp: '2026-12-02T00:00:00Z',
      },
    });
    const plan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Function', namespace: 'layer', name: 'f' },
        object: me,
        infraRules: rules,
        functions: [other, me],
      },
    });
    expect(plan.outcome).toBe('blocked');
    expect(plan.engine).toEqual({ action: 'stop', kind: 'Function', namespace: 'layer', name: 'f' });
    expect(plan.apply).toEqual([]);
    expect(plan.status?.conditions).toContainEqual(
      expect.objectContaining({
        type: 'SpecValid',
        status: 'False',
        reason: 'OutputConflict',
        message: expect.stringContaining('is already written by Function team-a/first') as unknown,
      }),
    );
    // The owner itself plans normally.
    const ownerPlan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Function', namespace: 'team-a', name: 'first' },
        object: {
          ...other,
          metadata: { ...other.metadata, generation: 1, finalizers: ['hevlayer.com/finalizer'] },
        },
        infraRules: rules,
        functions: [other, me],
      },
    });
    expect(ownerPlan.engine.action).toBe('sync');
  });
  it('an unchanged pass reports no change; generation is stamped on every condition', () => {
    const observed = {
      ref: { kind: 'Function' as const, namespace: 'layer', name: 'f' },
      object: fnRaw(),
      infraRules: rules,
      owned: [],
    };
    const plan = planReconcilePass({ settings, observed });
    expect(plan.outcome).toBe('applied');
    const first = finalStatus(plan.status!, undefined, '2026-01-01T00:00:00Z');
    expect(first.changed).toBe(true);
    expect(
      (first.status.conditions as { observedGeneration: number }[]).every((c) => c.observedGeneration === 3),
    ).toBe(true);
    const again = planReconcilePass({
      settings,
      observed: { ...observed, object: { ...fnRaw(), status: first.status } },
    });
    expect(finalStatus(again.status!, undefined, '2026-01-02T00:00:00Z').changed).toBe(false);
  });
  it('an engine that cannot be asked makes the workload Degraded=EngineUnavailable and not Ready', () => {
    const plan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Function' as const, namespace: 'layer', name: 'f' },
        object: fnRaw(),
        infraRules: rules,
        owned: [],
      },
    });
    const { status } = finalStatus(
      plan.status!,
      engineUnavailable('workflow query timed out: no worker polls layer-orchestrator'),
      '2026-01-01T00:00:00Z',
    );
    const conditions = status.conditions as {
      type: string;
      status: string;
      reason: string;
      message: string;
    }[];
    expect(conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'EngineUnavailable',
      message: expect.stringContaining('no worker polls'),
    });
    expect(conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'EngineUnavailable',
    });
  });

  describe('a new output.version waits for the worker rollout (ADR 0124)', () => {
    const seed = seedFunction();
    const image = seed.spec.worker.image;
    const version = seed.spec.output.version!;
    const observedWith = (
      status: Record<string, unknown>,
      deployment: { image: string; rolledOut: boolean },
    ) => ({
      ref: { kind: 'Function' as const, namespace: 'layer', name: 'f' },
      object: fnRaw({ status }),
      infraRules: rules,
      owned: [],
      worker: {
        podProblems: [],
        deployment: {
          desiredReplicas: 2,
          availableReplicas: 2,
          progressDeadlineExceeded: false,
          ...deployment,
        },
      },
    });
    const conditionsOf = (status: Record<string, unknown>) =>
      status.conditions as { type: string; status: string; reason: string; message: string }[];

    it('the pass that rolls a new image holds the whole spec: the workflow is given nothing', () => {
      const plan = planReconcilePass({
        settings,
        observed: observedWith({ outputVersion: 'v0' }, { image: 'old:1', rolledOut: true }),
      });
      expect(plan.engine).toEqual({ action: 'none' });
      // The Deployment is still applied: the rollout is what the spec waits for.
      expect(plan.apply.map((o) => o.kind)).toContain('Deployment');
      const { status } = finalStatus(plan.status!, undefined, '2026-01-01T00:00:00Z');
      expect(status).toMatchObject({ outputVersion: 'v0', pendingOutputVersion: version });
      expect(conditionsOf(status).find((c) => c.type === 'WorkflowReady')).toMatchObject({
        status: 'Unknown',
        reason: 'WaitingForWorkerRollout',
        message: expect.stringContaining(`runs old:1 and is being rolled to ${image}`) as unknown,
      });
      expect(conditionsOf(status).find((c) => c.type === 'Ready')).toMatchObject({
        status: 'Unknown',
        reason: 'WaitingForWorkerRollout',
      });
    });
    it('still held while old pods are left; given with its version once none is', () => {
      const previous = { outputVersion: 'v0', pendingOutputVersion: version };
      const rolling = planReconcilePass({
        settings,
        observed: observedWith(previous, { image, rolledOut: false }),
      });
      expect(rolling.engine.action).toBe('none');
      const done = planReconcilePass({
        settings,
        observed: observedWith(previous, { image, rolledOut: true }),
      });
      expect(done.engine).toMatchObject({ action: 'sync', spec: { output: { version } } });
      expect(finalStatus(done.status!, undefined, '2026-01-01T00:00:00Z').status).toMatchObject({
        outputVersion: version,
        pendingOutputVersion: null,
      });
    });
    it('a spec the engine did not take leaves status.outputVersion as it was', () => {
      const plan = planReconcilePass({
        settings,
        observed: observedWith(
          { outputVersion: 'v0', pendingOutputVersion: version },
          { image, rolledOut: true },
        ),
      });
      expect(plan.engine.action).toBe('sync');
      const { status } = finalStatus(plan.status!, engineUnavailable('timed out'), '2026-01-01T00:00:00Z');
      expect(status).toMatchObject({ outputVersion: 'v0', pendingOutputVersion: version });
    });
  });

  it("a paused Function is planned with the annotated rate and its pool's cost hint", () => {
    const plan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Function' as const, namespace: 'layer', name: 'f' },
        object: fnRaw({
          metadata: {
            name: 'f',
            namespace: 'layer',
            generation: 1,
            uid: 'u',
            finalizers: ['hevlayer.com/finalizer'],
            annotations: { 'hevlayer.com/plan-rows-per-second': '12.5' },
          },
          spec: { ...JSON.parse(JSON.stringify(seedFunction())).spec, paused: true },
        }),
        infraRules: {
          ...rules,
          spec: {
            computePools: [{ name: 'cpu', kind: 'cpu', maxReplicasPerWorkload: 10, costPerHour: 0.5 }],
          },
        },
        owned: [],
      },
    });
    expect(plan.rowPlan).toMatchObject({ rowsPerSecondPerCall: 12.5, costPerHour: 0.5, maxWorkers: 6 });
    // 3,600 rows at 12.5 rows/s per call × 8 in flight = 100 rows/s → 36 s on 6 workers.
    const p = estimateFromCounts(
      plan.rowPlan!.spec,
      6,
      { a: 3000, b: 600 },
      { rowsPerSecondPerCall: 12.5, source: 'given' },
      undefined,
      0.5,
    );
    expect(p).toMatchObject({ rows: 3600, batches: Math.ceil(3000 / 32) + Math.ceil(600 / 32) });
    expect(p.estimate).toMatchObject({ rowsPerSecond: 100, seconds: 36, workers: 6, batchesInFlight: 8 });
    expect(p.estimate!.workerHours).toBeCloseTo((36 * 6) / 3600, 2);
    expect(p.estimate!.cost).toBeCloseTo(p.estimate!.workerHours * 0.5, 2);
    // Not paused: no plan.
    expect(
      planReconcilePass({
        settings,
        observed: {
          ref: { kind: 'Function' as const, namespace: 'layer', name: 'f' },
          object: fnRaw(),
          infraRules: rules,
          owned: [],
        },
      }).rowPlan,
    ).toBeUndefined();
  });
});
