// What a benchmark phase cost Temporal, read from the workflow's histories (every run of the
// continue-as-new chain): history events, billable Temporal Cloud actions and payload bytes. The
// benches print these per 1,000 rows (per 1M for actions) beside the server's CPU and, on the
// local cluster, PostgreSQL's write counters (src/dev/temporal-cluster-pg.ts).
//
// Actions, as Temporal Cloud bills them — "Temporal Cloud Actions",
// https://docs.temporal.io/cloud/actions (also /evaluate/cloud/actions): actions are the unit of
// consumption pricing, "such as starting Workflows, recording a Heartbeat, or sending Signals", in
// the categories Workflow (started: client start, Continue-As-New, child start; reset), Activity
// (started, and each retry), Timer, Signal, Query, Update, Schedule, Nexus; actions during
// Workflow Replay are not billed. The page warns that history event types "do not always map 1:1"
// to action types; this is the mapping used here, per run's history:
//   WorkflowExecutionStarted                   1 (the first start, and each Continue-As-New)
//   ActivityTaskScheduled                      its attempt count (the started event's `attempt`,
//                                              so retries count; 1 if it never started)
//   TimerStarted                               1
//   WorkflowExecutionSignaled                  1   SignalExternalWorkflowExecutionInitiated 1
//   WorkflowExecutionUpdateAccepted            1
//   UpsertWorkflowSearchAttributes             1   StartChildWorkflowExecutionInitiated     1
//   MarkerRecorded (local activities)          1 per workflow task that recorded any
// Not in history, so counted by the caller where it issues them: queries (the benches' status
// polls, and the workers' claimSpec queries — one per worker process and spec, docs/adr/0100).
// Heartbeats are billed too and are not in history either; they are bounded from it
// (`claimHeartbeats`): the Core SDK sends an activity's first heartbeat at once and then at most one
// per throttle interval, 0.8 × its heartbeatTimeout (the scheduled event's); a claim heartbeats
// first after CLAIM_HEARTBEAT_EVERY_MS (2 s, its quiet time), and a retried attempt once at its
// start (docs/adr/0100). So an attempt that ran d ms sends at most (retried ? 1 : 0) +
// (d < 2 s ? 0 : 1 + ⌊(d − 2 s) / throttle⌋); an attempt before the last one (its started event is
// not in history) counts 1 + ⌊its lease / throttle⌋ at most — here 1, as it is rare and short
// (lost within the heartbeat timeout). Activities scheduled without a heartbeat timeout never do.
import type { Client } from '@temporalio/client';
import { CLAIM_HEARTBEAT_EVERY_MS } from '../packages/worker/src/contracts/claims.js';
import type { History } from '@temporalio/common/lib/proto-utils.js';

type HistoryEvent = NonNullable<History['events']>[number];

export interface TemporalCosts {
  runs: number;
  events: number;
  /** Billable actions found in history (see the table above). */
  historyActions: number;
  actionsByKind: Record<string, number>;
  /** Σ over every payload in every event: data bytes + metadata keys and values. */
  payloadBytes: number;
  /** Upper bound of the heartbeats that reached the server (see the table above). */
  heartbeats: number;
}

const ms = (t: unknown): number | undefined => {
  const ts = t as
    { seconds?: { toNumber?: () => number } | number | string; nanos?: number } | null | undefined;
  if (!ts) return undefined;
  const seconds = typeof ts.seconds === 'object' ? (ts.seconds?.toNumber?.() ?? 0) : Number(ts.seconds ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
};

/** Upper bound of the heartbeats of one run's activities that reached the server. */
export function claimHeartbeats(events: readonly HistoryEvent[]): number {
  const throttleMs = new Map<string, number>();
  const started = new Map<string, { atMs: number; attempt: number }>();
  let beats = 0;
  for (const e of events) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const timeoutMs = ms(scheduled.heartbeatTimeout);
      if (timeoutMs) throttleMs.set(id, 0.8 * timeoutMs);
      continue;
    }
    const start = e.activityTaskStartedEventAttributes;
    if (start) {
      started.set(String(start.scheduledEventId), {
        atMs: ms(e.eventTime) ?? 0,
        attempt: start.attempt ?? 1,
      });
      continue;
    }
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (!closed) continue;
    const scheduledId = String(closed.scheduledEventId);
    const throttle = throttleMs.get(scheduledId);
    const run = started.get(scheduledId);
    if (throttle === undefined || !run) continue;
    const durationMs = Math.max(0, (ms(e.eventTime) ?? run.atMs) - run.atMs);
    const retried = run.attempt > 1 ? 1 : 0;
    const afterQuiet =
      durationMs < CLAIM_HEARTBEAT_EVERY_MS
        ? 0
        : 1 + Math.floor((durationMs - CLAIM_HEARTBEAT_EVERY_MS) / throttle);
    beats += run.attempt - 1 + retried + afterQuiet;
  }
  return beats;
}

/** Sum of the encoded size of every Payload ({metadata, data}) anywhere in an event. */
export function payloadBytes(value: unknown, seen = new Set<object>()): number {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return 0;
  if (seen.has(value)) return 0;
  seen.add(value);
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && (v.metadata === undefined || typeof v.metadata === 'object')) {
    let n = v.data.length;
    for (const [k, m] of Object.entries((v.metadata ?? {}) as Record<string, unknown>))
      n += k.length + (m instanceof Uint8Array ? m.length : 0);
    return n;
  }
  let total = 0;
  for (const child of Object.values(v)) total += payloadBytes(child, seen);
  return total;
}

/** The actions of one run's events (table above), added into `byKind`. */
export function historyActions(events: readonly HistoryEvent[], byKind: Record<string, number>): number {
  const add = (kind: string, n = 1) => void (byKind[kind] = (byKind[kind] ?? 0) + n);
  const attempts = new Map<string, number>();
  const scheduled: string[] = [];
  let localActivityInTask = false;
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) add('workflow_started');
    else if (e.activityTaskScheduledEventAttributes) scheduled.push(String(e.eventId));
    else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      attempts.set(String(a.scheduledEventId), Math.max(1, a.attempt ?? 1));
    } else if (e.timerStartedEventAttributes) add('timer_started');
    else if (e.workflowExecutionSignaledEventAttributes) add('signal');
    else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) add('signal');
    else if (e.workflowExecutionUpdateAcceptedEventAttributes) add('update');
    else if (e.upsertWorkflowSearchAttributesEventAttributes) add('search_attribute_upsert');
    else if (e.startChildWorkflowExecutionInitiatedEventAttributes) add('child_workflow_started');
    else if (e.markerRecordedEventAttributes) {
      if (/local_activity/i.test(e.markerRecordedEventAttributes.markerName ?? ''))
        localActivityInTask = true;
    } else if (e.workflowTaskCompletedEventAttributes) {
      if (localActivityInTask) add('local_activities');
      localActivityInTask = false;
    }
  }
  for (const id of scheduled) add('activity_attempts', attempts.get(id) ?? 1);
  return Object.values(byKind).reduce((a, b) => a + b, 0);
}

/** Every run of `workflowId` (following continue-as-new back from the latest run). */
export async function temporalCosts(client: Client, workflowId: string): Promise<TemporalCosts> {
  const costs: TemporalCosts = {
    runs: 0,
    events: 0,
    historyActions: 0,
    actionsByKind: {},
    payloadBytes: 0,
    heartbeats: 0,
  };
  let runId: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const thisRun = started?.originalExecutionRunId ?? runId ?? 'latest';
    if (seen.has(thisRun)) break;
    seen.add(thisRun);
    costs.runs += 1;
    costs.events += events.length;
    historyActions(events, costs.actionsByKind);
    costs.heartbeats += claimHeartbeats(events);
    for (const e of events) costs.payloadBytes += payloadBytes(e);
    const previous: string | null | undefined = started?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  costs.historyActions = Object.values(costs.actionsByKind).reduce((a, b) => a + b, 0);
  return costs;
}

const r = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The per-row keys every bench prints from one phase's costs. */
export function costKeys(
  costs: TemporalCosts,
  rows: number,
  extra: { queries: number },
): Record<string, number> {
  const per = Math.max(1, rows);
  const actions = costs.historyActions + extra.queries + costs.heartbeats;
  return {
    history_events_per_1k_rows: r((costs.events / per) * 1000),
    history_bytes_per_1k_rows: r((costs.payloadBytes / per) * 1000),
    temporal_actions_per_1m_rows: r((actions / per) * 1_000_000, 0),
  };
}
