import { describe, expect, it } from 'vitest';
import { GO_BUILD_TIMEOUT_MS, goBuildTimeoutMs } from '../../../src/dev/binaries.js';

describe('goBuildTimeoutMs', () => {
  it.each([
    [undefined, GO_BUILD_TIMEOUT_MS],
    ['', GO_BUILD_TIMEOUT_MS],
    ['120', 120 * 60_000],
    ['1', 60_000],
  ])('LAYER_GO_BUILD_TIMEOUT_MIN=%s gives %d ms', (raw, expected) => {
    expect(goBuildTimeoutMs({ LAYER_GO_BUILD_TIMEOUT_MIN: raw })).toBe(expected);
  });

  it('stays inside CI 90 minutes by default', () => {
    expect(GO_BUILD_TIMEOUT_MS).toBeLessThan(90 * 60_000);
  });

  it.each(['0', '-5', '1.5', 'ninety'])('refuses %s naming the variable and the fix', (raw) => {
    expect(() => goBuildTimeoutMs({ LAYER_GO_BUILD_TIMEOUT_MIN: raw })).toThrow(
      /LAYER_GO_BUILD_TIMEOUT_MIN .*whole number of minutes/,
    );
  });
});
