// A one-line progress bar for long-running work (`layer function status --watch`, `npm start`):
// a pure renderer, so the format is unit-tested, and a small writer that redraws the line in
// place on a terminal and falls back to a periodic plain line when output is a pipe or a log.

export interface ProgressInput {
  /** Units done so far. */
  done: number;
  /** Units expected in total (0: unknown or nothing to do). */
  total: number;
  /** Current rate, units per second (0: unknown or stalled). */
  rowsPerSecond: number;
  /** Time since the work started, milliseconds. */
  elapsedMs: number;
  /** Characters between the brackets (default 24). */
  width?: number;
  /** Unit name after the counts (default "rows"). */
  unit?: string;
}

const FULL = '█';
const EMPTY = '░';
const numberFormat = new Intl.NumberFormat('en-US');

function count(n: number): string {
  return numberFormat.format(Math.max(0, Math.round(n)));
}

/** "4s", "2m05s", "1h02m"; "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatRate(rate: number): string {
  if (rate >= 100) return count(rate);
  if (rate >= 10) return rate.toFixed(0);
  return rate.toFixed(1).replace(/\.0$/, '');
}

/**
 * One line: bar, counts, percent, rate, ETA (or elapsed time once done).
 *
 * @example
 * renderProgress({ done: 6400, total: 10000, rowsPerSecond: 812, elapsedMs: 7900, width: 12 })
 * // '[████████░░░░] 6,400/10,000 rows  64%  812 rows/s  ETA 4s'
 */
export function renderProgress(p: ProgressInput): string {
  const width = Math.max(1, Math.floor(p.width ?? 24));
  const unit = p.unit ?? 'rows';
  const done = Math.max(0, Number.isFinite(p.done) ? p.done : 0);
  const total = Math.max(0, Number.isFinite(p.total) ? p.total : 0);
  const rate = Math.max(0, Number.isFinite(p.rowsPerSecond) ? p.rowsPerSecond : 0);
  // Nothing to do counts as complete; more done than expected (rows added meanwhile) caps at 100 %.
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const remaining = Math.max(0, total - done);
  // Round to the nearest cell, but never show a full bar (or 100 %) while rows remain.
  const filled = remaining === 0 ? width : Math.min(width - 1, Math.round(fraction * width));
  const bar = FULL.repeat(filled) + EMPTY.repeat(width - filled);
  const percent = remaining === 0 ? 100 : Math.min(99, Math.floor(fraction * 100));
  let tail: string;
  if (remaining === 0) tail = `done in ${formatDuration(Math.max(0, p.elapsedMs) / 1000)}`;
  else if (rate === 0) tail = 'ETA ?';
  else tail = `ETA ${formatDuration(Math.max(1, remaining / rate))}`;
  return `[${bar}] ${count(done)}/${count(total)} ${unit}  ${percent}%  ${formatRate(rate)} ${unit}/s  ${tail}`;
}

/** Where the writer draws: a stream with an optional TTY flag (process.stdout / stderr). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressWriter {
  /** Draw the current state (rate-limited to one plain line per interval when not a TTY). */
  update(p: ProgressInput): void;
  /** Draw the final state and end the line. */
  finish(p?: ProgressInput): void;
}

/**
 * Redraws one line in place on a TTY (carriage return, no newline); on a pipe prints a full
 * line at most every `intervalMs` (default 5 s) so logs stay readable.
 *
 * @example
 * const bar = createProgressWriter(process.stderr);
 * bar.update({ done, total, rowsPerSecond, elapsedMs });
 * bar.finish();
 */
export function createProgressWriter(
  stream: ProgressStream,
  opts: { intervalMs?: number; now?: () => number } = {},
): ProgressWriter {
  const interval = opts.intervalMs ?? 5000;
  const now = opts.now ?? Date.now;
  let lastPlainAt = -Infinity;
  let last: ProgressInput | undefined;
  let lastLength = 0;
  const fit = (p: ProgressInput): ProgressInput =>
    p.width !== undefined || !stream.columns
      ? p
      : { ...p, width: Math.max(10, Math.min(40, stream.columns - 60)) };
  const draw = (p: ProgressInput): void => {
    const line = renderProgress(fit(p));
    // Pad over a longer previous line so no stale characters remain.
    stream.write(`\r${line}${' '.repeat(Math.max(0, lastLength - line.length))}`);
    lastLength = line.length;
  };
  return {
    update(p) {
      last = p;
      if (stream.isTTY) return draw(p);
      const t = now();
      if (t - lastPlainAt < interval) return;
      lastPlainAt = t;
      stream.write(renderProgress(p) + '\n');
    },
    finish(p) {
      const final = p ?? last;
      if (stream.isTTY) {
        if (final) draw(final);
        stream.write('\n');
      } else if (final) {
        stream.write(renderProgress(final) + '\n');
      }
    },
  };
}
