// A memory cgroup with the operator pod's limit (the chart's 512Mi), so bench:operator runs the
// operator as a pod does: Node sizes its heap from the cgroup's limit at start (259 MB of V8 heap
// under 512Mi, measured on Node 24), the kernel counts its memory, and an overrun is an OOM kill
// — not a large RSS on a 24 GiB machine that a pod would never reach. cgroup v1 (memory
// controller at /sys/fs/cgroup/memory) or v2 (a cgroup2 mount whose controllers include memory).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** The file a process writes its pid to, to join (before exec, so Node sees the limit). */
  procsFile: string;
  limitMib: number;
  /** The group's peak charge in MiB (RSS plus page cache the process caused). */
  peakMib(): number | undefined;
  /**
   * The kubelet's working set now, in MiB: the charge minus the page cache the kernel may drop
   * (inactive file), what a pod's memory graph and eviction read. The peak above also counts the
   * files the process read and wrote, which a node reclaims before it kills.
   */
  workingSetMib(): number | undefined;
  /** Processes the kernel killed for going over the limit. */
  oomKills(): number;
  remove(): void;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** The memory hierarchy to create a group in, or why there is none. */
function hierarchy(): { version: 1 | 2; root: string } | string {
  if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes'))
    return { version: 1, root: '/sys/fs/cgroup/memory' };
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    if ((read(join(root, 'cgroup.controllers')) ?? '').split(' ').includes('memory'))
      return { version: 2, root };
  }
  return 'no cgroup memory controller is mounted (cgroup v1 /sys/fs/cgroup/memory or a cgroup2 mount with memory)';
}

/** Creates the group (root only), or returns why it cannot. */
export function memoryCgroup(name: string, limitMib: number): MemoryCgroup | { unavailable: string } {
  const h = hierarchy();
  if (typeof h === 'string') return { unavailable: h };
  const dir = join(h.root, name);
  try {
    mkdirSync(dir, { recursive: true });
    if (h.version === 2) {
      // A child's controllers must be enabled in its parent first.
      try {
        writeFileSync(join(h.root, 'cgroup.subtree_control'), '+memory');
      } catch {
        // Already on, or set by whoever owns the root.
      }
    }
    writeFileSync(
      join(dir, h.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'),
      String(limitMib * 2 ** 20),
    );
  } catch (err) {
    return { unavailable: `cannot create ${dir}: ${(err as Error).message} (root is needed)` };
  }
  const mib = (v: string | undefined) =>
    v === undefined ? undefined : Math.round((Number(v) / 2 ** 20) * 10) / 10;
  return {
    procsFile: join(dir, 'cgroup.procs'),
    limitMib,
    peakMib: () => mib(read(join(dir, h.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak'))),
    workingSetMib: () => {
      const usage = read(join(dir, h.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'));
      const stat = read(join(dir, 'memory.stat')) ?? '';
      const inactive = new RegExp(
        `^${h.version === 1 ? 'total_inactive_file' : 'inactive_file'} (\\d+)$`,
        'm',
      ).exec(stat);
      if (usage === undefined || !inactive) return undefined;
      return mib(String(Math.max(0, Number(usage) - Number(inactive[1]))));
    },
    oomKills: () => {
      const text = read(join(dir, h.version === 1 ? 'memory.oom_control' : 'memory.events')) ?? '';
      return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
    },
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still has a process (the bench is ending anyway); the kernel keeps the empty group.
      }
    },
  };
}
