// The watcher's informer caches keep a projection of each object (watch-rules.ts): every rule
// the watcher runs must read the same from the projection as from the object the apiserver sent,
// and the projection must be a small part of it (the operator's memory at 500 Functions).
import { describe, expect, it } from 'vitest';
import {
  cachedOwned,
  cachedPod,
  cachedResource,
  fingerprint,
  functionsSharingOutput,
  ownedFingerprint,
  ownerOf,
  podFingerprint,
  podOwner,
  rawWorkloadPool,
} from '../../../src/operator/watch-rules.js';
import { deploymentRolledOut } from '../../../src/operator/worker-availability.js';
import { planWorkloadObjects } from '../../../src/operator/workload-objects.js';
import { operatorSettings } from '../../../src/operator/settings.js';
import { workloadLabels } from '../../../src/operator/labels.js';
import type { RawObject } from '../../../src/operator/reconcile-types.js';
import { fn, helmRules, scaling } from './builders.js';

/** What the apiserver adds to an applied object: bookkeeping, managedFields, a status. */
function asServed(o: object, status: Record<string, unknown> | undefined, generation?: number): RawObject {
  const raw = JSON.parse(JSON.stringify(o)) as RawObject;
  const metadata = raw.metadata as Record<string, unknown>;
  Object.assign(metadata, {
    uid: `uid-${String(metadata.name)}`,
    resourceVersion: '4711',
    creationTimestamp: '2026-12-07T10:00:00Z',
    ...(generation !== undefined ? { generation } : {}),
    managedFields: [
      {
        manager: 'layer-operator',
        operation: 'Apply',
        fieldsV1: { 'f:spec': JSON.parse(JSON.stringify(raw.spec ?? {})) },
      },
    ],
  });
  if (status) raw.status = status;
  return raw;
}

const size = (o: unknown) => JSON.stringify(o).length;

const planned = planWorkloadObjects(
  {
    workload: {
      ...fn(scaling({ mode: 'autoscale', replicas: { min: 0, max: 4 } })),
      // The apiserver's uid: without one no owner reference is planned.
      metadata: { ...fn().metadata, uid: 'fn-uid' },
    },
    infraRules: helmRules(),
  },
  operatorSettings(),
).apply;
const plannedDeployment = planned.find((o) => o.kind === 'Deployment')!;
const plannedScaledObject = planned.find((o) => o.kind === 'ScaledObject')!;

const deployments: [string, RawObject][] = [
  ['new, never observed', asServed(plannedDeployment, undefined, 1)],
  [
    'mid-rollout, one replica available',
    asServed(
      plannedDeployment,
      {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 1,
        availableReplicas: 1,
        readyReplicas: 1,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'ok',
            lastUpdateTime: 'x',
          },
          { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'rolling' },
        ],
      },
      2,
    ),
  ],
  [
    'stuck: progress deadline exceeded',
    asServed(
      plannedDeployment,
      {
        observedGeneration: 3,
        replicas: 1,
        updatedReplicas: 1,
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'late' },
        ],
      },
      3,
    ),
  ],
];

describe('what the caches keep of owned objects', () => {
  it.each(deployments)(
    'Deployment %s: same fingerprint, owner and rollout, without the pod template',
    (_, d) => {
      const kept = cachedOwned(d);
      expect(ownedFingerprint({ ...kept, kind: 'Deployment' })).toBe(
        ownedFingerprint({ ...d, kind: 'Deployment' }),
      );
      expect(ownerOf(kept)).toEqual(ownerOf(d));
      expect(ownerOf(kept)).toBeDefined();
      expect(deploymentRolledOut(kept as never)).toBe(deploymentRolledOut(d as never));
      expect(kept.spec).toBeUndefined();
      expect(kept.metadata).not.toHaveProperty('managedFields');
      // The informer compares and keys by these.
      expect(kept.metadata).toMatchObject({
        name: d.metadata?.name,
        namespace: d.metadata?.namespace,
        resourceVersion: '4711',
      });
      expect(size(kept)).toBeLessThan(size(d) / 3);
    },
  );

  it('a ScaledObject: same fingerprint and owner, without its triggers', () => {
    const so = asServed(
      plannedScaledObject,
      { conditions: [{ type: 'Ready', status: 'True', reason: 'ScaledObjectReady' }] },
      1,
    );
    const kept = cachedOwned(so);
    expect(ownedFingerprint(kept)).toBe(ownedFingerprint(so));
    expect(ownerOf(kept)).toEqual(ownerOf(so));
    expect(kept.spec).toBeUndefined();
  });

  it('a Service (no generation): keeps its spec, which its fingerprint reads', () => {
    const svc = asServed(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's', namespace: 'layer', labels: { a: '1' } },
        spec: { ports: [{ port: 80 }] },
      },
      { loadBalancer: {} },
    );
    const kept = cachedOwned(svc);
    expect(ownedFingerprint(kept)).toBe(ownedFingerprint(svc));
    expect(kept.spec).toEqual(svc.spec);
  });
});

describe('what the caches keep of worker pods', () => {
  const pod = (containerStatuses: unknown[]): RawObject =>
    asServed(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'layer-fn-x-1', namespace: 'layer', labels: workloadLabels('Function', 'x') },
        spec: {
          containers: [
            {
              name: 'worker',
              image: 'img',
              env: Array.from({ length: 30 }, (_, i) => ({ name: `E${i}`, value: 'v'.repeat(40) })),
            },
          ],
        },
      },
      { phase: 'Running', podIP: '10.0.0.1', containerStatuses },
    );
  it.each([
    [
      'running',
      pod([
        { name: 'worker', ready: true, state: { running: { startedAt: 't' } }, image: 'img', imageID: 'id' },
      ]),
    ],
    [
      'crash loop after an exit',
      pod([
        {
          name: 'worker',
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: 't', finishedAt: 't' } },
        },
      ]),
    ],
  ])('%s: same fingerprint and owner', (_, p) => {
    const fns = [{ kind: 'Function', metadata: { name: 'x', namespace: 'layer' } }] as RawObject[];
    const kept = cachedPod(p);
    expect(podFingerprint(kept)).toBe(podFingerprint(p));
    expect(podOwner(kept, fns)).toEqual(podOwner(p, fns));
    expect(podOwner(kept, fns)).toBeDefined();
    expect(kept).not.toHaveProperty('spec');
    expect(size(kept)).toBeLessThan(size(p) / 3);
  });
});

describe('what the caches keep of hevlayer.com resources', () => {
  it('a Function: same fingerprint, pool and output fan-out; no status', () => {
    const f = asServed(
      fn(),
      { conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'm'.repeat(500) }] },
      2,
    );
    (f.metadata as Record<string, unknown>).finalizers = ['hevlayer.com/finalizer'];
    const kept = cachedResource(f);
    expect(fingerprint(kept)).toBe(fingerprint(f));
    expect(rawWorkloadPool(kept)).toBe(rawWorkloadPool(f));
    const other = { ...f, metadata: { ...f.metadata, name: 'other' } } as RawObject;
    expect(functionsSharingOutput(kept, [cachedResource(other)])).toEqual(functionsSharingOutput(f, [other]));
    expect(kept.spec).toEqual(f.spec);
    expect(kept).not.toHaveProperty('status');
    expect(kept.metadata).not.toHaveProperty('managedFields');
  });
});
