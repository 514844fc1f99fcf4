// The progress line `layer function status --watch` and `npm start` draw: format, edge cases
// (nothing to do, more done than expected, no rate yet) and the TTY / pipe writer.
import { describe, expect, it } from 'vitest';
import { createProgressWriter, formatDuration, renderProgress } from '../../../src/cli/progress.js';

describe('renderProgress', () => {
  it.each([
    // The documented example: rounded bar, thousands separators, ETA from the rate.
    [
      { done: 6400, total: 10000, rowsPerSecond: 812, elapsedMs: 7900, width: 12 },
      '[████████░░░░] 6,400/10,000 rows  64%  812 rows/s  ETA 4s',
    ],
    // Nothing done yet and no rate: an empty bar and an unknown ETA, not Infinity.
    [
      { done: 0, total: 500, rowsPerSecond: 0, elapsedMs: 0, width: 10 },
      '[░░░░░░░░░░] 0/500 rows  0%  0 rows/s  ETA ?',
    ],
    // Nothing to do is complete, not a division by zero.
    [
      { done: 0, total: 0, rowsPerSecond: 0, elapsedMs: 1500, width: 4 },
      '[████] 0/0 rows  100%  0 rows/s  done in 2s',
    ],
    // Rows added after the total was taken: capped at a full bar and 100 %, no negative ETA.
    [
      { done: 120, total: 100, rowsPerSecond: 30, elapsedMs: 4000, width: 4 },
      '[████] 120/100 rows  100%  30 rows/s  done in 4s',
    ],
    // One row left never shows as complete, even when it rounds to a full bar.
    [
      { done: 9999, total: 10000, rowsPerSecond: 1000, elapsedMs: 9000, width: 10 },
      '[█████████░] 9,999/10,000 rows  99%  1,000 rows/s  ETA 1s',
    ],
    // Slow rates keep a decimal; long ETAs switch to minutes.
    [
      { done: 10, total: 1000, rowsPerSecond: 2.5, elapsedMs: 4000, width: 5 },
      '[░░░░░] 10/1,000 rows  1%  2.5 rows/s  ETA 6m36s',
    ],
    // Hours for very long work.
    [
      { done: 0, total: 100000, rowsPerSecond: 10, elapsedMs: 0, width: 2 },
      '[░░] 0/100,000 rows  0%  10 rows/s  ETA 2h46m',
    ],
    // Garbage in (NaN rate, negative done) renders as zero rather than "NaN".
    [
      { done: -5, total: 10, rowsPerSecond: Number.NaN, elapsedMs: 0, width: 2 },
      '[░░] 0/10 rows  0%  0 rows/s  ETA ?',
    ],
    // Another unit for other kinds of work.
    [
      { done: 1, total: 2, rowsPerSecond: 1, elapsedMs: 1000, width: 2, unit: 'items' },
      '[█░] 1/2 items  50%  1 items/s  ETA 1s',
    ],
  ])('%j', (input, expected) => {
    expect(renderProgress(input)).toBe(expected);
  });

  it('defaults to a 24-cell bar', () => {
    expect(renderProgress({ done: 1, total: 2, rowsPerSecond: 1, elapsedMs: 0 })).toMatch(/^\[█{12}░{12}\]/);
  });
});

describe('formatDuration', () => {
  it.each([
    // Sub-minute in seconds.
    [0, '0s'],
    [59.4, '59s'],
    // Minutes pad their seconds so the line does not jitter.
    [61, '1m01s'],
    [3600, '1h00m'],
    // Unknown stays visibly unknown.
    [Number.POSITIVE_INFINITY, '?'],
    [-1, '?'],
  ])('%s s → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('createProgressWriter', () => {
  const p = (done: number) => ({ done, total: 10, rowsPerSecond: 1, elapsedMs: 0, width: 4 });

  it('redraws in place on a TTY and ends the line on finish', () => {
    const out: string[] = [];
    const w = createProgressWriter({ isTTY: true, write: (s: string) => out.push(s) });
    w.update(p(5));
    w.update(p(10));
    w.finish();
    expect(out.slice(0, 2).every((s) => s.startsWith('\r') && !s.includes('\n'))).toBe(true);
    expect(out.at(-1)).toBe('\n');
    expect(out.at(-2)).toContain('10/10 rows');
  });

  it('pads over a longer previous line so no stale characters remain', () => {
    const out: string[] = [];
    const w = createProgressWriter({ isTTY: true, write: (s: string) => out.push(s) });
    w.update({ ...p(1), rowsPerSecond: 123456 });
    w.update(p(2));
    expect(out[1]!.length).toBe(out[0]!.length);
  });

  it('prints whole lines at most once per interval when not a TTY', () => {
    const out: string[] = [];
    let now = 0;
    const w = createProgressWriter(
      { write: (s: string) => out.push(s) },
      { intervalMs: 5000, now: () => now },
    );
    w.update(p(1));
    now = 1000;
    w.update(p(2)); // within the interval: skipped
    now = 6000;
    w.update(p(3));
    w.finish();
    expect(out).toHaveLength(3);
    expect(out.every((s) => s.endsWith('\n') && !s.includes('\r'))).toBe(true);
    expect(out[2]).toContain('3/10');
  });
});
