// Recorded histories of real runs (test/replay/histories, refreshed with LAYER_RECORD_HISTORIES=1
// on the function engine, pipeline envelope and operator reconcile tests)
// replayed against the current workflow code: a change that would break running workflows
// fails here first.
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleOrchestratorWorkflows } from '../../src/workers/orchestrator-worker.js';
import { historyFromJSON } from '../helpers/history-json.js';

const dir = new URL('./histories/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

function load(file: string): unknown {
  return JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
}

let workflowBundle: { code: string };
beforeAll(async () => {
  workflowBundle = await bundleOrchestratorWorkflows();
});

describe('workflow replay (function, pipeline, reconcile)', () => {
  it('has recorded histories to replay', () => {
    // Every workflow in the bundle has recorded runs of the live code (ADR 0067: no frozen
    // copies; a history is re-recorded when the code it was recorded from is replaced).
    // Function: claims, pause, push dispatch, a poison split inside a multi-batch claim, a degraded
    // (systemic) stretch, replayed dead letters, canary, and a chain of continue-as-new runs.
    // Range claims with the spec by fingerprint (docs/adr/0100): the `range-claims` patch's new path.
    // Idle passes after the work, on the `quiet-idle-pass` patch's path.
    // A run under the store's lag model on the `unindexed-writes` patch's path (docs/adr/0110,
    // 0111): written spans skipped and dropped once indexed, a 429 degrading one namespace.
    for (const label of [
      'claims',
      'pause',
      'push',
      'poison-split',
      'degraded',
      'poison-replay',
      'canary',
      'ranges',
      'idle',
      'lag',
    ])
      expect(files.some((f) => f.startsWith(`function-v2-${label}-`))).toBe(true);
    expect(files.filter((f) => f.startsWith('function-v2-continue-as-new-')).length).toBeGreaterThanOrEqual(
      2,
    );
    for (const label of ['push', 'poison-split', 'continue-as-new'])
      expect(files.some((f) => f.startsWith(`pipeline-v2-${label}-`))).toBe(true);
    expect(files.some((f) => f.startsWith('reconcile-'))).toBe(true);
    // Shared rate limits (docs/adr/0051): a limiter serving three workloads, one slowed by a 429,
    // one carried across continue-as-new, and a Function run under a limit.
    for (const label of ['shared', '429', 'continue-as-new'])
      expect(files.some((f) => f.startsWith(`rate-limit-${label}-`))).toBe(true);
    expect(files.some((f) => f.startsWith('function-v2-rate-limit-'))).toBe(true);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    await Worker.runReplayHistory({ workflowBundle }, historyFromJSON(load(file)));
  });

  it('detects an engine-v2 history whose claim is not the one the code schedules', async () => {
    const history = load('function-v2-claims-1.json') as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name: string } } }[];
    };
    const claim = history.events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runFunctionClaim',
    );
    claim!.activityTaskScheduledEventAttributes!.activityType!.name = 'runFunctionBatch';
    await expect(
      Worker.runReplayHistory({ workflowBundle }, historyFromJSON(history)),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('detects a history the current code would not produce', async () => {
    const history = load('function-v2-continue-as-new-1.json') as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name: string } } }[];
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    // The code schedules a different activity at this point than the history says.
    scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await expect(
      Worker.runReplayHistory({ workflowBundle }, historyFromJSON(history)),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

// Every bundle carries the tracing interceptors (src/workflows/tracing-interceptors.ts); they
// must leave untraced recorded runs exactly as they were: the plain OpenTelemetry interceptors
// do not (pipeline-continue-as-new-4 fails to replay with them).
describe('workflow replay and the tracing interceptors', () => {
  it('has traced runs recorded (started with a trace context, so the interceptors ran)', () => {
    for (const label of ['function-v2-traced', 'reconcile-traced']) {
      const file = files.find((f) => f.startsWith(`${label}-`));
      expect(file).toBeDefined();
      expect(JSON.stringify(load(file!))).toContain('_tracer-data');
    }
  });

  it('the bundle carries the OpenTelemetry workflow interceptors', () => {
    expect(workflowBundle.code).toContain('OpenTelemetryInboundInterceptor');
    expect(workflowBundle.code).toContain('_tracer-data');
  });
});
