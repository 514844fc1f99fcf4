// Child server processes (Temporal dev server, etcd, kube-apiserver, the store) started by the
// test harness and by `layer dev up`. Output goes to a log file, never to our terminal, and the
// error a person sees on a failed start quotes the tail of that log.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';

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
export async function stopPid(pid: number, timeoutMs = 10_000): Promise<boolean> {
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
