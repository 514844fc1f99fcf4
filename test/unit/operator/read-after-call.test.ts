// readAfterCall (src/activities/kube/read-after-call.ts, ADR 0114): concurrent reconcile passes
// share one list of the unlabelled Functions, but never one begun before the pass asked — a list
// begun before a pass's label patch could miss a Function labelled meanwhile.
import { describe, expect, it } from 'vitest';
import { readAfterCall } from '../../../src/activities/kube/read-after-call.js';

/** A read whose calls the test settles one by one; each resolves to its own sequence number. */
function controlledRead() {
  const pending: { resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  let started = 0;
  const read = () =>
    new Promise<number>((resolve, reject) => {
      const n = ++started;
      pending.push({ resolve: () => resolve(n), reject });
    });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { read, pending, started: () => started, tick };
}

describe('readAfterCall', () => {
  it('a call with nothing in flight starts a read of its own', async () => {
    const c = controlledRead();
    const shared = readAfterCall(c.read);
    const a = shared();
    expect(c.started()).toBe(1);
    c.pending[0]!.resolve(0);
    await expect(a).resolves.toBe(1);
  });

  it('calls made while a read runs share the next read, which starts when that one ends', async () => {
    const c = controlledRead();
    const shared = readAfterCall(c.read);
    const first = shared();
    // Three passes ask while the first read is in flight: it began before them, so not theirs.
    const later = [shared(), shared(), shared()];
    expect(c.started()).toBe(1);
    c.pending[0]!.resolve(0);
    await expect(first).resolves.toBe(1);
    await c.tick();
    expect(c.started()).toBe(2);
    c.pending[1]!.resolve(0);
    await expect(Promise.all(later)).resolves.toEqual([2, 2, 2]);
  });

  it('a failed read fails only the calls it served; the next call reads anew', async () => {
    const c = controlledRead();
    const shared = readAfterCall(c.read);
    const first = shared();
    const waiting = shared();
    c.pending[0]!.reject(new Error('apiserver 429'));
    await expect(first).rejects.toThrow('apiserver 429');
    await c.tick();
    // The waiting call's own read (begun after it) answers it.
    c.pending[1]!.resolve(0);
    await expect(waiting).resolves.toBe(2);
    const again = shared();
    c.pending[2]!.resolve(0);
    await expect(again).resolves.toBe(3);
  });
});
