// Statuses for /metrics without a query per workload per scrape (docs/adr/0127): a status query is
// a workflow task — a full replay for an evicted workflow — and a Prometheus scrape asked one of
// every workload, 1,000 queries each scrape at 1,000 Functions. An idle workload (no claim out, no
// scan) has counters that cannot move while its memo summary stays the same, so its last status is
// served again (for at most `maxAgeMs`); anything else, or whose summary changed, is asked afresh.
// Not `paused`: the claims already out when a pause came still finish and count.
import type { EngineSummary } from '../contracts/engine-summary.js';
import type { EngineSummaryRead } from './engine-summary.js';

/** The phase whose counters cannot change while the summary stays the same. */
const RESTING_PHASE = 'idle';

export interface StatusCacheOptions<S> {
  /** The workflow's summary from its memo (one describe, no worker). */
  summary(namespace: string, name: string): Promise<EngineSummaryRead>;
  /** The full status (a query). */
  query(namespace: string, name: string): Promise<S | undefined>;
  /** A resting workload is asked again after this long all the same (default 5 min). */
  maxAgeMs?: number;
  now?: () => number;
}

/** Whether a cached status taken under `cached` still answers for `now`'s summary. */
export function cachedStatusHolds(
  cached: { summary: EngineSummary; atMs: number } | undefined,
  now: EngineSummary | undefined,
  nowMs: number,
  maxAgeMs: number,
): boolean {
  if (!cached || !now) return false;
  if (now.phase !== RESTING_PHASE) return false;
  if (nowMs - cached.atMs >= maxAgeMs) return false;
  return JSON.stringify(cached.summary) === JSON.stringify(now);
}

export function createStatusCache<S>(opts: StatusCacheOptions<S>) {
  const maxAgeMs = opts.maxAgeMs ?? 300_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { summary: EngineSummary; atMs: number; status: S }>();
  return async (namespace: string, name: string): Promise<S | undefined> => {
    const key = `${namespace}/${name}`;
    const read = await opts.summary(namespace, name);
    if (!read.running) {
      entries.delete(key);
      return undefined;
    }
    const cached = entries.get(key);
    if (cachedStatusHolds(cached, read.summary, now(), maxAgeMs)) return cached!.status;
    const status = await opts.query(namespace, name);
    if (status === undefined || !read.summary) entries.delete(key);
    else entries.set(key, { summary: read.summary, atMs: now(), status });
    return status;
  };
}
