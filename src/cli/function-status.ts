// The pure side of `layer function status` and `--watch`: a status query's answer as text (the
// canary's stage and sample values included), and the watch's progress arithmetic. The command
// wiring that prints them is src/cli/commands/function.ts.
import type { FunctionStatus } from '../contracts/function.js';
import { formatDuration, type ProgressInput } from './progress.js';

const fmt = new Intl.NumberFormat('en-US');

/** The human form of a status query answer. */
export function formatStatus(s: FunctionStatus, now: Date = new Date()): string {
  const c = s.counters;
  const byNs = Object.entries(s.pendingRowsByNamespace)
    .map(([ns, n]) => `${ns} ${fmt.format(n)}`)
    .join(', ');
  const lines = [
    `Function ${s.k8sNamespace}/${s.name} (generation ${s.generation}, output version ${s.outputVersion})`,
    `  phase:           ${s.phase}${s.degraded ? ` (${s.degraded.reason} since ${s.degraded.since}; next try ${s.degraded.retryAt})` : ''}`,
    `  targets:         ${s.targetNamespaces.join(', ') || '(none)'}`,
    `  pending rows:    ${fmt.format(s.pendingRows)}${byNs ? ` (${byNs})` : ''}`,
    `  in flight:       ${s.claimsInFlight ?? s.inFlightBatches} claims, ${s.inFlightBatches} batches, ${fmt.format(s.inFlightRows)} rows`,
    `  processed:       ${fmt.format(c.processed)} rows (${fmt.format(c.superseded)} superseded) in ${fmt.format(c.batches)} batches`,
    `  failed:          ${fmt.format(c.failedBatches)} batches; ${fmt.format(c.deadLettered)} rows dead-lettered`,
    `  rate:            ${s.rowsPerSecond} rows/s`,
    ...(s.rateLimit
      ? [
          `  shared limit:    ${s.rateLimit.key}${s.rateLimit.waiting ? ' — waiting on the shared budget' : ''} ` +
            `(${Math.round(s.rateLimit.lastClaimWaitShare * 100)}% of the last claim's time; ${s.rateLimit.waitedSeconds} s waited in all)`,
        ]
      : []),
    `  last discovery:  ${
      s.lastDiscoveryAt
        ? `${s.lastDiscoveryAt} (${formatDuration((now.getTime() - Date.parse(s.lastDiscoveryAt)) / 1000)} ago)`
        : 'never'
    }`,
  ];
  if (s.degraded) lines.push(`  degraded:        ${s.degraded.message} — ${s.degraded.hint}`);
  lines.push(...formatRollout(s));
  if (s.lastError) lines.push(`  last error:      ${s.lastError}`);
  return lines.join('\n');
}

/** The rollout lines of a status: the canary's stage and a few old → new values. */
function formatRollout(s: FunctionStatus): string[] {
  const r = s.rollout;
  if (!r) return [];
  const stage =
    r.stage === 'canary'
      ? `canary of ${r.toVersion} running on ${fmt.format(r.canaryRows)} sampled rows (rows stay at ${r.fromVersion})`
      : r.stage === 'awaitingPromotion'
        ? `canary of ${r.toVersion}: ${fmt.format(r.written)} of ${fmt.format(r.sampled)} sampled rows written, ${fmt.format(r.failed)} failed; ` +
          `\`layer function promote ${s.name}\` continues at ${r.toVersion}, \`layer function abort ${s.name}\` goes back to ${r.fromVersion}`
        : `rollout of ${r.toVersion} aborted: running ${r.fromVersion} (change spec.output.version to roll out again)`;
  const lines = [`  rollout:         ${stage}`];
  for (const c of r.comparison)
    lines.push(`    ${c.namespace}/${String(c.id)}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`);
  if (r.error) lines.push(`    canary error: ${r.error}`);
  return lines;
}

/**
 * Progress of a watch. The workflow recounts pending rows once per discovery pass, so between
 * passes `pendingRows` is a snapshot, not a live number. done = rows written; total = rows
 * written + rows pending, taken whenever a new count arrives (pendingRows changes) and snapped
 * to done when the workflow goes idle with nothing in flight (every pending row was handled).
 */
export interface WatchState {
  startedAtMs: number;
  total: number;
  lastPending: number;
  samples: { atMs: number; processed: number }[];
}

function isIdle(s: FunctionStatus): boolean {
  return s.phase === 'idle' && s.inFlightBatches === 0;
}

export function startWatch(s: FunctionStatus, nowMs: number): WatchState {
  return {
    startedAtMs: nowMs,
    total: isIdle(s) ? s.counters.processed : s.counters.processed + s.pendingRows,
    lastPending: s.pendingRows,
    samples: [{ atMs: nowMs, processed: s.counters.processed }],
  };
}

/** Folds one status into the watch and returns the line to draw (rate over the last 10 s). */
export function watchProgress(
  w: WatchState,
  s: FunctionStatus,
  nowMs: number,
  windowMs = 10_000,
): ProgressInput {
  const done = s.counters.processed;
  w.samples.push({ atMs: nowMs, processed: done });
  while (w.samples.length > 2 && w.samples[0]!.atMs < nowMs - windowMs) w.samples.shift();
  const first = w.samples[0]!;
  const spanMs = nowMs - first.atMs;
  const rate = spanMs > 0 ? ((done - first.processed) / spanMs) * 1000 : s.rowsPerSecond;
  if (s.pendingRows !== w.lastPending) {
    // A fresh count: what is left now is exactly what it says.
    w.lastPending = s.pendingRows;
    w.total = done + s.pendingRows;
  } else if (isIdle(s)) {
    w.total = done;
  }
  return { done, total: Math.max(w.total, done), rowsPerSecond: rate, elapsedMs: nowMs - w.startedAtMs };
}
