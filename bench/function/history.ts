// bench:function's reading of a Function workflow's history: events by type, over every
// continue-as-new run, claim latencies and the batch time the claim results report.
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { ClaimReport, PackedClaimReport } from '../../packages/worker/src/contracts/claims.js';
import { RUN_FUNCTION_CLAIM_ACTIVITY } from '../../packages/worker/src/contracts/function.js';
import { round } from './settings.js';

export interface HistoryStats {
  runs: number;
  events: number;
  /** Events of the longest run (Temporal's limits are per run). */
  maxRunEvents: number;
  /** Σ of the batches' worker time (ms), from the claim results. */
  batchWorkMs: number;
  handlerBatches: number;
  byType: Record<string, number>;
  activitiesByType: Record<string, number>;
  batchActivities: number;
  /** Batch activity latencies in ms (means): scheduled→started, started→completed. */
  batchScheduleToStartMs: number;
  batchStartToCloseMs: number;
  discoverScheduleToCloseMs: number;
}

type HistoryEvent = NonNullable<History['events']>[number];

/** The claim activity: one dispatch, several handler batches (docs/adr/0011). */
const CLAIM_ACTIVITY = RUN_FUNCTION_CLAIM_ACTIVITY;

/** A claim's result payload (JSON) from history. */
function claimResult(data: Uint8Array | null | undefined): ClaimReport | PackedClaimReport | undefined {
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as ClaimReport | PackedClaimReport;
  } catch {
    return undefined;
  }
}

/** `activityTaskScheduledEventAttributes` → `ActivityTaskScheduled`. */
function eventTypeName(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (value && key.endsWith('EventAttributes')) {
      const name = key.slice(0, -'EventAttributes'.length);
      return name[0]!.toUpperCase() + name.slice(1);
    }
  }
  return `EventType${String(event.eventType)}`;
}

/** Every run of the workflow (following continue-as-new back from the latest run). */
export async function historyStats(client: Client, workflowId: string): Promise<HistoryStats> {
  const stats: HistoryStats = {
    runs: 0,
    events: 0,
    maxRunEvents: 0,
    batchWorkMs: 0,
    handlerBatches: 0,
    byType: {},
    activitiesByType: {},
    batchActivities: 0,
    batchScheduleToStartMs: 0,
    batchStartToCloseMs: 0,
    discoverScheduleToCloseMs: 0,
  };
  let scheduleToStart = 0;
  let startToClose = 0;
  let discoverTotal = 0;
  let discoverCount = 0;
  let runId: string | undefined = undefined;
  const seen = new Set<string>();
  for (;;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const thisRun = started?.originalExecutionRunId ?? runId ?? 'latest';
    if (seen.has(thisRun)) break;
    seen.add(thisRun);
    stats.runs += 1;
    stats.events += events.length;
    stats.maxRunEvents = Math.max(stats.maxRunEvents, events.length);
    const scheduled = new Map<string, { type: string; at: number }>();
    const startedAt = new Map<string, number>();
    for (const event of events) {
      const type = eventTypeName(event);
      stats.byType[type] = (stats.byType[type] ?? 0) + 1;
      const at = tsToMs(event.eventTime);
      const id = String(event.eventId);
      if (event.activityTaskScheduledEventAttributes) {
        const activity = event.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
        stats.activitiesByType[activity] = (stats.activitiesByType[activity] ?? 0) + 1;
        scheduled.set(id, { type: activity, at });
      } else if (event.activityTaskStartedEventAttributes) {
        startedAt.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at);
      } else if (event.activityTaskCompletedEventAttributes) {
        const sid = String(event.activityTaskCompletedEventAttributes.scheduledEventId);
        const s = scheduled.get(sid);
        const st = startedAt.get(sid);
        if (s?.type === CLAIM_ACTIVITY && st !== undefined) {
          stats.batchActivities += 1;
          scheduleToStart += st - s.at;
          startToClose += at - st;
          const result = claimResult(event.activityTaskCompletedEventAttributes.result?.payloads?.[0]?.data);
          // Current claims come back packed (docs/adr/0100): one ms per finished batch.
          const batchMs =
            result && 'outcomes' in result ? result.outcomes.map((o) => o.ms) : (result?.ms ?? []);
          for (const ms of batchMs) {
            stats.handlerBatches += 1;
            stats.batchWorkMs += ms;
          }
        } else if (s?.type === 'discoverRows') {
          discoverTotal += at - s.at;
          discoverCount += 1;
        }
      }
    }
    const previous: string | null | undefined = started?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  const batches = stats.activitiesByType[CLAIM_ACTIVITY] ?? 0;
  if (stats.batchActivities > 0) {
    stats.batchScheduleToStartMs = round(scheduleToStart / stats.batchActivities, 1);
    stats.batchStartToCloseMs = round(startToClose / stats.batchActivities, 1);
  }
  if (discoverCount > 0) stats.discoverScheduleToCloseMs = round(discoverTotal / discoverCount, 1);
  stats.batchActivities = batches;
  return stats;
}

export function formatBreakdown(stats: HistoryStats): string[] {
  const batches = Math.max(1, stats.handlerBatches);
  const lines = Object.entries(stats.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `    ${type.padEnd(36)} ${String(n).padStart(7)}  ${round(n / batches, 2)} / batch`);
  const acts = Object.entries(stats.activitiesByType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  return [...lines, `    activities scheduled: ${acts}`];
}
