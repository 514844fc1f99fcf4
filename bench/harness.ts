// What every benchmark and the chaos run share: one flag reader (`--name N`), the load average
// printed beside every figure, and the child processes a run starts — tracked so that Ctrl-C,
// SIGTERM or an exception never leaves one running.
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';

/**
 * `--name N`: a number of at least `min` (1 unless a zero means "skip this phase"), a whole one
 * unless `integer: false`; else an error naming the flag — not a NaN that runs on silently.
 */
export function arg(name: string, fallback: number, min = 1, opts: { integer?: boolean } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  const integer = opts.integer ?? true;
  if ((integer ? !Number.isInteger(n) : !Number.isFinite(n)) || n < min)
    throw new Error(
      `--${name} expects ${integer ? 'an integer' : 'a number'} of at least ${min}, got '${process.argv[i + 1] ?? ''}'`,
    );
  return n;
}

/** `--name value`, or undefined when the flag is absent. */
export function textArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (process.argv[i + 1] ?? '');
}

/** The 1-minute load average, printed beside every figure (a noisy machine shows itself). */
export function load1(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/** 1/5/15-minute load averages, `separator`-joined: other work on the machine skews every figure. */
export function loadText(separator = ' / '): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(separator);
}

/**
 * The run's child processes: each tracked one is SIGKILLed when this process exits, and on
 * SIGINT/SIGTERM after `onSignal` (stop a server that is not a child) has had its chance.
 */
export function childProcesses(
  log: (line: string) => void,
  onSignal: () => Promise<unknown> = async () => {},
) {
  const children = new Set<ChildProcess>();
  const killAll = (): void => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping child processes`);
      killAll();
      void onSignal().finally(() => process.exit(130));
    });
  }

  function track(child: ChildProcess, name: string): ChildProcess {
    children.add(child);
    child.once('exit', () => children.delete(child));
    child.once('error', (err) => log(`${name}: ${err.message}`));
    return child;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the child has exited. */
  async function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  return { track, stopChild, killAll };
}
