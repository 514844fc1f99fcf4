// What a Function with nothing to do costs Temporal per discovery pass (issue 22, docs/scale.md):
// 10,000 installed Functions pay it every interval, so an idle pass must leave only its scan, one
// count and its timer in history — no phase flip to running and back, no second count.
import { describe, expect, it } from 'vitest';
import { temporalCosts } from '../../../bench/temporal-costs.js';
import {
  engineHarnessPerFile,
  recordHistories,
  seededFunction,
  startFunction,
  startPullWorker,
  statusWhen,
  taggingHandler,
} from './harness.js';

const h = engineHarnessPerFile();

describe('an idle Function', () => {
  it('leaves one scan, one count and one timer per discovery pass once its rows are done', async () => {
    const fn = await seededFunction(h, 'idle', 40); // discovery every second
    const worker = startPullWorker(h, fn.spec, taggingHandler(new Map()));
    let passesAtDone = 0;
    let passes = 0;
    try {
      await startFunction(h, fn.spec);
      const done = await statusWhen(
        h,
        fn,
        (s) => s.counters.processed === 40 && s.phase === 'idle',
        60_000,
        'the 40 rows written',
      );
      passesAtDone = done.counters.discoveries;
      const idle = await statusWhen(
        h,
        fn,
        (s) => s.counters.discoveries >= passesAtDone + 4,
        60_000,
        'four idle passes',
      );
      passes = idle.counters.discoveries;
    } finally {
      await worker.stop();
    }
    const { workflowId } = fn;
    await h.client.workflow.getHandle(workflowId).terminate('test over');
    await recordHistories(h, workflowId, 'function-v2-idle');
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    // Phase upserts only: each patch marker also upserts TemporalChangeVersion, once per run.
    const upserts = events.filter(
      (e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.LayerPhase,
    ).length;
    const counts = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'countPendingRows',
    ).length;
    const idlePasses = passes - passesAtDone;
    // The passes that did the work flip the phase to running and back and count at both ends;
    // every idle pass after them adds no upsert and one count.
    expect(upserts).toBeLessThanOrEqual(2 * passesAtDone);
    expect(counts).toBeLessThanOrEqual(2 * passesAtDone + idlePasses + 1);
    const costs = await temporalCosts(h.client, workflowId);
    // Timers: one per pass's wait, and a few around the work.
    expect(costs.actionsByKind.timer_started ?? 0).toBeLessThanOrEqual(2 * passesAtDone + idlePasses + 2);
  }, 120_000);
});
