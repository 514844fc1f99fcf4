// Which events on objects the operator owns start a reconcile pass: deletes, foreign edits and
// availability flips do; our own adds and status churn (a Deployment scaling) do not. Worker pods
// start one when a container starts or stops failing.
import { describe, expect, it } from 'vitest';
import {
  ownedEventMatters,
  ownedFingerprint,
  podFingerprint,
  podOwner,
} from '../../../src/operator/watch-rules.js';
import { workloadLabels } from '../../../src/operator/labels.js';
import type { RawObject } from '../../../src/operator/reconcile-types.js';

const deployment = (over: Record<string, unknown> = {}, status: unknown = {}): RawObject =>
  ({
    kind: 'Deployment',
    metadata: {
      name: 'layer-fn-x',
      namespace: 'layer',
      uid: 'u1',
      generation: 3,
      labels: { a: '1' },
      resourceVersion: '10',
      ...over,
    },
    spec: { replicas: 2 },
    status,
  }) as RawObject;

describe('ownedEventMatters', () => {
  const before = ownedFingerprint(deployment({}, { availableReplicas: 1 }));
  it.each([
    // Our own server-side apply created it.
    { row: 'add', verb: 'add' as const, obj: deployment(), want: false },
    // KEDA scaling moves status and resourceVersion only.
    {
      row: 'status churn',
      verb: 'update' as const,
      obj: deployment({ resourceVersion: '11' }, { availableReplicas: 2 }),
      want: false,
    },
    // WorkerAvailable reads "at least one replica available": losing the last one needs a pass.
    {
      row: 'no replica available any more',
      verb: 'update' as const,
      obj: deployment({ resourceVersion: '12' }, { availableReplicas: 0 }),
      want: true,
    },
    // The rollout is stuck (ReplicasUnavailable).
    {
      row: 'progress deadline exceeded',
      verb: 'update' as const,
      obj: deployment(
        { resourceVersion: '13' },
        {
          availableReplicas: 1,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      ),
      want: true,
    },
    // Someone edited the spec: generation moved.
    {
      row: 'foreign spec edit',
      verb: 'update' as const,
      obj: deployment({ generation: 4 }, { availableReplicas: 1 }),
      want: true,
    },
    // Someone removed our label.
    {
      row: 'label edit',
      verb: 'update' as const,
      obj: deployment({ labels: {} }, { availableReplicas: 1 }),
      want: true,
    },
    // Deleted: the pass re-creates it.
    { row: 'delete', verb: 'delete' as const, obj: deployment(), want: true },
  ])('$row → $want', ({ verb, obj, want }) => {
    expect(ownedEventMatters(verb, before, obj)).toBe(want);
  });

  it('a Service (no generation) changes through its spec', () => {
    const svc = (port: number): RawObject =>
      ({ kind: 'Service', metadata: { name: 's', uid: 'u2' }, spec: { ports: [{ port }] } }) as RawObject;
    expect(ownedEventMatters('update', ownedFingerprint(svc(80)), svc(80))).toBe(false);
    expect(ownedEventMatters('update', ownedFingerprint(svc(80)), svc(81))).toBe(true);
  });

  // A new output.version waits for the worker rollout (ADR 0124): the event that finishes it must
  // start the pass that gives the workflow the version, not leave it to the resync.
  describe('rollout progress', () => {
    const rolling = (status: Record<string, unknown>) =>
      deployment({ generation: 4 }, { availableReplicas: 2, ...status });
    // Generation 4 seen by the controller, one pod of the new template and two old ones.
    const midRollout = ownedFingerprint(rolling({ observedGeneration: 4, replicas: 3, updatedReplicas: 1 }));
    it.each([
      {
        row: 'another new pod, old pods still left',
        obj: rolling({ observedGeneration: 4, replicas: 3, updatedReplicas: 2 }),
        want: false,
      },
      {
        row: 'the last old pod gone: rollout complete',
        obj: rolling({ observedGeneration: 4, replicas: 2, updatedReplicas: 2 }),
        want: true,
      },
      // Scaled to 0: nothing old left once the controller has seen the new spec.
      {
        row: 'at zero replicas, the controller catches up',
        obj: rolling({ observedGeneration: 4 }),
        want: true,
      },
    ])('$row → $want', ({ obj, want }) => {
      expect(ownedEventMatters('update', midRollout, obj)).toBe(want);
    });
    it('a rollout complete when seen, and then status churn, start nothing more', () => {
      const done = rolling({ observedGeneration: 4, replicas: 2, updatedReplicas: 2 });
      const scaled = rolling({ observedGeneration: 4, replicas: 2, updatedReplicas: 2, readyReplicas: 1 });
      expect(ownedEventMatters('update', ownedFingerprint(done), scaled)).toBe(false);
    });
  });

  it('an update seen first (no fingerprint yet) starts a pass', () => {
    expect(ownedEventMatters('update', undefined, deployment())).toBe(true);
  });
});

describe('worker pod events', () => {
  const pod = (waiting?: string, name = 'layer-fn-x-1'): RawObject =>
    ({
      kind: 'Pod',
      metadata: { name, namespace: 'layer', uid: name, labels: workloadLabels('Function', 'x') },
      status: {
        containerStatuses: [
          { name: 'worker', state: waiting ? { waiting: { reason: waiting } } : { running: {} } },
        ],
      },
    }) as RawObject;

  it.each([
    { row: 'healthy pod', obj: pod(), want: '' },
    { row: 'creating', obj: pod('ContainerCreating'), want: '' },
    { row: 'crash loop', obj: pod('CrashLoopBackOff'), want: 'worker:CrashLoopBackOff' },
    { row: 'image pull', obj: pod('ImagePullBackOff'), want: 'worker:ImagePullBackOff' },
    { row: 'gone', obj: undefined, want: '' },
  ])('$row → "$want"', ({ obj, want }) => {
    expect(podFingerprint(obj)).toBe(want);
  });

  it('finds the owning workload by label, also for names longer than a label value', () => {
    const long = 'f'.repeat(80);
    const fns = [
      { kind: 'Function', metadata: { name: 'x', namespace: 'layer' } },
      { kind: 'Function', metadata: { name: long, namespace: 'layer' } },
      { kind: 'Function', metadata: { name: 'x', namespace: 'other' } },
    ] as RawObject[];
    expect(podOwner(pod(), fns)).toEqual({ kind: 'Function', namespace: 'layer', name: 'x' });
    const longPod = {
      metadata: { name: 'p', namespace: 'layer', labels: workloadLabels('Function', long) },
    } as RawObject;
    expect(podOwner(longPod, fns)).toEqual({ kind: 'Function', namespace: 'layer', name: long });
    expect(podOwner({ metadata: { name: 'p', namespace: 'layer' } } as RawObject, fns)).toBeUndefined();
  });
});
