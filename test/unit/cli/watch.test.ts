// `status --watch --interval <seconds>` of `layer function` and `layer pipeline`.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';
import { watchIntervalMs } from '../../../src/cli/watch.js';

describe('watchIntervalMs', () => {
  it.each([
    ['1', 1000],
    ['2.5', 2500],
    ['0.2', 200],
  ])('--interval %s polls every %i ms', (raw, ms) => {
    expect(watchIntervalMs(raw)).toBe(ms);
  });

  it.each(['0', '-1', 'soon', 'Infinity'])('--interval %s is refused naming the flag', (raw) => {
    expect(() => watchIntervalMs(raw)).toThrow(InvalidInputError);
    expect(() => watchIntervalMs(raw)).toThrow(/--interval.*expected a positive number/);
  });
});
