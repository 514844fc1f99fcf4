// How the benches count billable Temporal Cloud actions and payload bytes from a history
// (bench/temporal-costs.ts), PostgreSQL's psql output and the UUID ids of the seed.
import { describe, expect, it } from 'vitest';
import { claimHeartbeats, historyActions, payloadBytes } from '../../../bench/temporal-costs.js';
import { parsePsqlRows } from '../../../src/dev/temporal-cluster-pg.js';
import { uuidForId } from '../../../src/store/seed.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('historyActions', () => {
  it.each([
    // why: a start (or a continue-as-new run's start) is one action
    [
      'workflow start',
      [{ eventId: 1, workflowExecutionStartedEventAttributes: {} }],
      { workflow_started: 1 },
    ],
    // why: each attempt of an activity is billed, retries included (the started event's attempt)
    [
      'activity retried twice',
      [
        { eventId: 5, activityTaskScheduledEventAttributes: {} },
        { eventId: 6, activityTaskStartedEventAttributes: { scheduledEventId: 5, attempt: 3 } },
      ],
      { activity_attempts: 3 },
    ],
    // why: an activity scheduled but never started still counts once
    [
      'activity never started',
      [{ eventId: 5, activityTaskScheduledEventAttributes: {} }],
      { activity_attempts: 1 },
    ],
    // why: timers, signals, updates and search-attribute upserts are one action each
    [
      'timer, signal, update, upsert',
      [
        { eventId: 2, timerStartedEventAttributes: {} },
        { eventId: 3, workflowExecutionSignaledEventAttributes: {} },
        { eventId: 4, workflowExecutionUpdateAcceptedEventAttributes: {} },
        { eventId: 5, upsertWorkflowSearchAttributesEventAttributes: {} },
      ],
      { timer_started: 1, signal: 1, update: 1, search_attribute_upsert: 1 },
    ],
    // why: local activities of one workflow task count once, not per marker
    [
      'two local activities in one workflow task',
      [
        { eventId: 7, markerRecordedEventAttributes: { markerName: 'core_local_activity' } },
        { eventId: 8, markerRecordedEventAttributes: { markerName: 'core_local_activity' } },
        { eventId: 9, workflowTaskCompletedEventAttributes: {} },
      ],
      { local_activities: 1 },
    ],
    // why: workflow task events are not billed
    ['workflow task only', [{ eventId: 9, workflowTaskCompletedEventAttributes: {} }], {}],
  ])('%s', (_name, events, expected) => {
    const byKind: Record<string, number> = {};
    const total = historyActions(events as never, byKind);
    expect(byKind).toEqual(expected);
    expect(total).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
  });
});

describe('payloadBytes', () => {
  it('sums data and metadata of every payload nested in an event', () => {
    const payload = (s: string) => ({ metadata: { encoding: bytes('json/plain') }, data: bytes(s) });
    const event = {
      eventId: 3,
      activityTaskScheduledEventAttributes: { input: { payloads: [payload('[1,2,3]'), payload('"x"')] } },
      header: { fields: { trace: payload('{}') } },
    };
    const meta = 'encoding'.length + 'json/plain'.length;
    expect(payloadBytes(event)).toBe(7 + 3 + 2 + 3 * meta);
  });
  it('is 0 for an event without payloads', () => {
    expect(payloadBytes({ eventId: 1, timerStartedEventAttributes: { timerId: '1' } })).toBe(0);
  });
});

describe('parsePsqlRows', () => {
  it('splits psql -A -t -F tab output into rows of fields, skipping the blank tail', () => {
    expect(parsePsqlRows('12\t34\nt\n\n')).toEqual([['12', '34'], ['t']]);
  });
});

describe('uuidForId', () => {
  it('is a deterministic, distinct, UUID-shaped string per id', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidForId(i + 1));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1000);
    expect(uuidForId(7)).toBe(uuidForId(7));
  });
});

describe('claimHeartbeats', () => {
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  it.each([
    // why: a claim heartbeats first after its 2 s quiet time: a 1.5 s claim sends none
    ['a claim within its quiet time', 1_500, 1, 0],
    // why: the first heartbeat goes out at once; a 3 s claim under an 8 s throttle sends one
    ['a 3 s claim', 3_000, 1, 1],
    // why: after the first, at most one per 0.8 × heartbeatTimeout (8 s for 10 s)
    ['a 20 s claim', 20_000, 1, 3],
    // why: earlier attempts (not in history) count one each, and a retried attempt announces its
    // first batch once
    ['a claim on its third attempt', 1_000, 3, 3],
  ])('%s', (_name, durationMs, attempt, expected) => {
    const events = [
      { eventId: 5, activityTaskScheduledEventAttributes: { heartbeatTimeout: { seconds: 10 } } },
      {
        eventId: 6,
        eventTime: at(1_000),
        activityTaskStartedEventAttributes: { scheduledEventId: 5, attempt },
      },
      {
        eventId: 7,
        eventTime: at(1_000 + durationMs),
        activityTaskCompletedEventAttributes: { scheduledEventId: 5 },
      },
    ];
    expect(claimHeartbeats(events as never)).toBe(expected);
  });

  it('counts nothing for activities without a heartbeat timeout', () => {
    const events = [
      { eventId: 5, activityTaskScheduledEventAttributes: {} },
      { eventId: 6, eventTime: at(0), activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 7, eventTime: at(30_000), activityTaskCompletedEventAttributes: { scheduledEventId: 5 } },
    ];
    expect(claimHeartbeats(events as never)).toBe(0);
  });
});
