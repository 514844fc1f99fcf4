// Child server processes (Temporal dev server, etcd, kube-apiserver, the store) started by the
// test harness and by `layer dev up`. Output goes to a log file, never to our terminal, and the
// error a person sees on a failed start quotes the tail of that log.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';
import { ProvisionError } from './binaries.js';
import { waitFor } from './net.js';

export interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Survive this process's exit (for `layer dev up`); otherwise it is killed when we exit. */
  detached?: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** undefined while running; otherwise how it ended, with the tail of its log. */
  exitReason(): string | undefined;
  stop(timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave an attached server behind when the parent ends, however it ends.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function logTail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function startProcess(opts: StartProcessOptions): ManagedProcess {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: opts.detached ?? false,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${opts.command}`);
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    running.delete(child);
    exited = `${opts.name} exited (${signal ?? `code ${code}`}); last log lines from ${opts.logFile}:\n${logTail(opts.logFile)}`;
  });
  child.on('error', (err) => {
    exited = `${opts.name} failed to start: ${err.message}`;
  });
  if (opts.detached) child.unref();
  else {
    running.add(child);
    installExitHook();
  }
  return {
    name: opts.name,
    pid: child.pid,
    logFile: opts.logFile,
    exitReason: () => exited,
    stop: async (timeoutMs = 10_000) => {
      if (exited !== undefined || child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Stop a process known only by pid (a detached server from an earlier `layer dev up`). */
async function stopPid(pid: number, timeoutMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * When a process started, as an opaque marker: the kernel's start time in clock ticks since
 * boot (`/proc/<pid>/stat` field 22) on Linux, `ps -o lstart=` elsewhere. A pid can be reused by
 * an unrelated process after ours exits (or after a reboot); the pair (pid, start marker) cannot.
 */
export function processStartMarker(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ? `ticks:${fields[19]}` : undefined;
  } catch {
    // not Linux, or no such process
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return out ? `lstart:${out}` : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of a running process, or undefined (no such process, or not Linux). */
function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** How to recognise a process we started earlier, from what the state file recorded. */
export interface ProcessIdentity {
  pid: number;
  /** `processStartMarker` when it was started; absent in state files written before it existed. */
  startMarker?: string;
  /** For such older state files: what its command line must contain. */
  commandPattern: RegExp;
}

/** Alive and the very process we started (never an unrelated process that reused the pid). */
export function isOurProcess(id: ProcessIdentity): boolean {
  if (!isAlive(id.pid)) return false;
  if (id.startMarker !== undefined) return processStartMarker(id.pid) === id.startMarker;
  const cmd = processCommandLine(id.pid);
  return cmd !== undefined && id.commandPattern.test(cmd);
}

/**
 * Stops a process from an earlier run only if it is still ours. `foreign`: the pid is alive but
 * belongs to another process now (pid reuse, reboot); it is left alone.
 */
export async function stopOurProcess(
  id: ProcessIdentity,
  timeoutMs = 10_000,
): Promise<'stopped' | 'gone' | 'foreign'> {
  if (!isAlive(id.pid)) return 'gone';
  if (!isOurProcess(id)) return 'foreign';
  return (await stopPid(id.pid, timeoutMs)) ? 'stopped' : 'gone';
}

/**
 * Waits until the server `proc` started answers `check` (its exit ends the wait early); one that
 * never does is stopped, and the reason is `component`'s ProvisionError.
 */
export async function waitServing(
  proc: ManagedProcess,
  component: string,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitFor(what, check, { timeoutMs, isAlive: proc.exitReason });
  } catch (err) {
    await proc.stop();
    throw new ProvisionError(component, (err as Error).message);
  }
}
