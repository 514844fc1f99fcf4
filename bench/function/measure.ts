// bench:function's measuring tools: store calls counted and timed by method, and CPU seconds of
// each process over a phase.
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { round } from './settings.js';

/** Per store method: how many calls and their total latency. */
export type StoreTimings = Map<string, { calls: number; ms: number }>;

/** Wraps a store client so every call's count and latency are recorded by method name. */
export function timedStore(store: StoreClient, timings: StoreTimings): StoreClient {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
        } finally {
          const entry = timings.get(String(prop)) ?? { calls: 0, ms: 0 };
          entry.calls += 1;
          entry.ms += performance.now() - t;
          timings.set(String(prop), entry);
        }
      };
    },
  });
}

export function formatTimings(timings: StoreTimings): string {
  return [...timings.entries()]
    .map(([name, { calls, ms }]) => `${name} ${calls}× ${round(ms / Math.max(1, calls), 1)} ms`)
    .join(', ');
}

export interface CpuProbe {
  name: string;
  read: () => number;
}

export function cpuSnapshot(probes: CpuProbe[]): Map<string, number> {
  return new Map(probes.map((p) => [p.name, p.read()]));
}

export function cpuReport(probes: CpuProbe[], before: Map<string, number>, wallS: number): string {
  const parts = probes.map((p) => {
    const used = p.read() - (before.get(p.name) ?? 0);
    return `${p.name} ${round(used, 1)} s (${round((used / wallS) * 100)}%)`;
  });
  return `CPU over ${round(wallS, 1)} s wall: ${parts.join(', ')}`;
}
