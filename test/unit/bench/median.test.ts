import { describe, expect, it } from 'vitest';
import { median } from '../../../bench/function/median.js';

describe('the median of the no-op/direct pairs', () => {
  it.each([
    { values: [1.05], expected: 1.05 },
    { values: [0.74, 1.05, 0.9], expected: 0.9 },
    { values: [1.3, 0.7, 1.1, 0.9], expected: 1 },
    { values: [2, 2, 1], expected: 2 },
  ])('of $values is $expected', ({ values, expected }) => {
    expect(median(values)).toBeCloseTo(expected, 10);
  });
});
