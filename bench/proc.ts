// /proc readings the benchmarks print beside their figures: CPU seconds and memory of one
// process (a server, the orchestrator), read by pid so they are that process's alone.
import { readFileSync } from 'node:fs';

const round = (n: number) => Math.round(n * 10) / 10;

export function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of a process (and its reaped children) so far. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state is field 3, so utime (14) … cstime (17) are indices 11 … 14.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}
