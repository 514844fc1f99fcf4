// Which events on objects the operator owns start a reconcile pass: deletes and foreign edits do;
// our own adds and status churn (a Deployment scaling) do not.
import { describe, expect, it } from 'vitest';
import { ownedEventMatters, ownedFingerprint } from '../../../src/operator/watch-rules.js';
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
  const before = ownedFingerprint(deployment());
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
    // Someone edited the spec: generation moved.
    { row: 'foreign spec edit', verb: 'update' as const, obj: deployment({ generation: 4 }), want: true },
    // Someone removed our label.
    { row: 'label edit', verb: 'update' as const, obj: deployment({ labels: {} }), want: true },
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

  it('an update seen first (no fingerprint yet) starts a pass', () => {
    expect(ownedEventMatters('update', undefined, deployment())).toBe(true);
  });
});
