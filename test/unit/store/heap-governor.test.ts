// The heap governor collects only once the heap outgrew its budget past the live heap.
import { describe, expect, it } from 'vitest';
import { createHeapGovernor } from '../../../src/store/heap-governor.js';

describe('createHeapGovernor', () => {
  it('does nothing within budget and collects once garbage exceeds it', () => {
    const governor = createHeapGovernor(8 * 1024 * 1024);
    governor.check();
    expect(governor.collections).toBe(0);
    // ~40 MB of short-lived garbage that a young-generation GC may not have reclaimed yet,
    // kept reachable until after the check so the heap has certainly grown.
    const garbage: number[][] = [];
    for (let i = 0; i < 400; i++) garbage.push(Array.from({ length: 12_500 }, (_, j) => j + 0.5));
    governor.check();
    expect(garbage.length).toBe(400);
    expect(governor.collections).toBe(1);
  });
});
