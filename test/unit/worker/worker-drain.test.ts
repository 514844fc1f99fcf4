// The drain of a stopping pull worker (docs/adr/0103): which signals start it, and the Temporal
// Worker's shutdown times next to the pod's grace period.
import { describe, expect, it } from 'vitest';
import { drainShutdownTimes, workerDrain } from '../../../packages/worker/src/worker-drain.js';
import { fn } from '../operator/builders.js';
import { workerGraceSeconds } from '../../../src/operator/plan-pod.js';

describe('workerDrain', () => {
  it('starts on a shutdown signal or on start(), once; dispose stops listening', () => {
    const before = process.listenerCount('SIGUSR2');
    const drain = workerDrain(['SIGUSR2']);
    expect(drain.signal.aborted).toBe(false);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(drain.signal.aborted).toBe(true);
    drain.start(); // idempotent
    drain.dispose();
    expect(process.listenerCount('SIGUSR2')).toBe(before);

    const other = workerDrain([]);
    other.start();
    expect(other.signal.aborted).toBe(true);
    other.dispose();
  });

  it.each([10, 30, 300])(
    'batch timeout %i s: claims run on for the drain window, and the forced stop still comes before the pod is killed',
    (timeoutSeconds) => {
      const t = drainShutdownTimes(timeoutSeconds);
      const graceMs = workerGraceSeconds(fn({ spec: { worker: { timeoutSeconds } } })) * 1000;
      expect(t.shutdownGraceTime).toBeGreaterThan(timeoutSeconds * 1000);
      expect(t.shutdownForceTime).toBeGreaterThan(t.shutdownGraceTime);
      expect(t.shutdownForceTime).toBeLessThan(graceMs);
    },
  );
});
