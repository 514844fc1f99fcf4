// Error text is bounded wherever it enters a payload (docs/adr/0075): the pure pieces.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  MAX_ERROR_TEXT_CHARS,
  truncateErrorText,
} from '../../../packages/worker/src/contracts/error-text.js';
import {
  classifyError,
  toActivityFailure,
  WorkerCallError,
} from '../../../packages/worker/src/claim-execution/failures.js';
import { PermitDeferredError } from '../../../packages/worker/src/claim-execution/rate-limit-gate.js';
import { pushAnswerLimitBytes } from '../../../src/activities/push-call.js';
import { STORE_MAX_ATTRIBUTE_VALUE_BYTES } from '../../../packages/worker/src/contracts/store-limits.js';

const HUGE = 'e'.repeat(20 * 1024 * 1024);

describe('truncateErrorText', () => {
  it.each([
    // fits: unchanged
    ['short', 10, 'short'],
    // exactly the limit: unchanged
    ['x'.repeat(10), 10, 'x'.repeat(10)],
    // over: cut, with the original length
    ['x'.repeat(11), 10, `${'x'.repeat(10)}… [truncated: 11 characters in all]`],
    // cut twice: the note keeps the original length
    [
      `${'x'.repeat(20)}… [truncated: 999 characters in all]`,
      10,
      `${'x'.repeat(10)}… [truncated: 999 characters in all]`,
    ],
  ])('%#: %s', (text, max, expected) => {
    expect(truncateErrorText(text, max)).toBe(expected);
  });
});

describe('failure classification bounds the message', () => {
  it('a 20 MiB handler error leaves classifyError and toActivityFailure small', () => {
    const report = classifyError(new WorkerCallError(`handler failed: ${HUGE}`, 'HandlerFailed'));
    expect(report.message.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
    expect(report.message).toMatch(/truncated: 20971536 characters in all/);
    expect(toActivityFailure(new Error(HUGE)).message.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
    const app = ApplicationFailure.create({ message: HUGE, type: 'HandlerFailed' });
    expect(toActivityFailure(app).message.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
  });

  it('a deferred permit is systemic RateLimitWait with its retry time, not a 429', () => {
    expect(classifyError(new PermitDeferredError('later', 4_000))).toEqual({
      type: 'RateLimitWait',
      message: 'later',
      retryAfterMs: 4_000,
    });
  });
});

describe('pushAnswerLimitBytes', () => {
  it.each([
    // one row: one attribute value plus room for the JSON around it
    [1, undefined, STORE_MAX_ATTRIBUTE_VALUE_BYTES + 64 * 1024],
    // many rows: the ceiling (64 MiB by default) wins
    [100, undefined, 64 * 1024 * 1024],
    // a raised ceiling lets a big batch answer more
    [100, 1024 * 1024 * 1024, 100 * STORE_MAX_ATTRIBUTE_VALUE_BYTES + 64 * 1024],
    // no rows (a Pipeline batch of nothing) still allows one value
    [0, undefined, STORE_MAX_ATTRIBUTE_VALUE_BYTES + 64 * 1024],
  ])('%i rows, ceiling %s', (rows, ceiling, expected) => {
    expect(pushAnswerLimitBytes(rows, ceiling)).toBe(expected);
  });
});
