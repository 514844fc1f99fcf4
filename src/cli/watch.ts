// The `status --watch` loop of `layer function` and `layer pipeline`: poll the workflow's status,
// print a progress bar (or one JSON object per poll), stop on Ctrl-C or SIGTERM, close the client.
import type { Command } from 'commander';
import { InvalidInputError } from '../../packages/worker/src/util/errors.js';
import { createProgressWriter, type ProgressInput } from './progress.js';
import type { TemporalClient } from './temporal-connect.js';

/** The flags watchOptions adds to a `status` command. */
export interface WatchFlags {
  watch?: boolean;
  json?: boolean;
  interval: string;
}

/** Adds --watch, --json and --interval to a `status` command; `units` is what the bar counts. */
export function watchOptions(status: Command, units: string): Command {
  return status
    .option('-w, --watch', `redraw a progress bar with ${units}/s and ETA until Ctrl-C`)
    .option('--json', 'print the status as JSON (one object per poll with --watch)')
    .option('--interval <seconds>', 'seconds between polls with --watch', '1');
}

/** --interval in milliseconds; anything but a positive number of seconds is refused, naming the flag. */
export function watchIntervalMs(interval: string): number {
  const seconds = Number(interval);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidInputError(
      '--interval',
      `expected a positive number, got '${interval}'`,
      'e.g. --interval 2',
    );
  return seconds * 1000;
}

export interface WatchLoop<Status, Start> {
  /** The connected client; closed when the loop ends. */
  temporal: TemporalClient;
  /** One status query; each gets `timeoutMs` to answer. */
  status: (temporal: TemporalClient) => Promise<Status>;
  timeoutMs: number;
  /** A failed query in the user's words; `pastDeadline`: its deadline had passed when it failed. */
  explain: (err: unknown, pastDeadline: boolean) => unknown;
  /** What the first answer fixes for the rest of the watch (rates are measured from it). */
  start: (first: Status, nowMs: number) => Start;
  progress: (start: Start, status: Status, nowMs: number) => ProgressInput;
  /** The workflow ID, printed once (not with --json). */
  workflowId: string;
  json?: boolean | undefined;
  intervalMs: number;
}

export async function watchStatusLoop<Status extends object, Start>(
  loop: WatchLoop<Status, Start>,
): Promise<void> {
  const bar = createProgressWriter(process.stderr);
  const query = () => {
    const deadline = Date.now() + loop.timeoutMs;
    return loop.temporal.connection
      .withDeadline(deadline, () => loop.status(loop.temporal))
      .catch((err: unknown) => {
        throw loop.explain(err, Date.now() >= deadline);
      });
  };
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const first = await query();
    const w = loop.start(first, Date.now());
    if (!loop.json) process.stdout.write(`watching ${loop.workflowId} (Ctrl-C to stop)\n`);
    let last: ProgressInput | undefined;
    for (;;) {
      const s = await query();
      last = loop.progress(w, s, Date.now());
      if (loop.json) process.stdout.write(JSON.stringify({ ...s, progress: last }) + '\n');
      else bar.update(last);
      const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), loop.intervalMs).unref());
      if ((await Promise.race([tick, stopped.then(() => 'stop' as const)])) === 'stop') break;
    }
    if (!loop.json) bar.finish(last);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await loop.temporal.close();
  }
}
