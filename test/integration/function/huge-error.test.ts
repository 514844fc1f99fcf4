// A handler that throws a message of tens of MiB (issue 28 item 6, docs/adr/0075). Temporal
// refuses gRPC messages over 4 MiB, so an untruncated message in the claim's heartbeat or its
// completion made the claim retry forever with WORKER_SHUTDOWN as the only error shown. With a
// real pull worker on the real Temporal dev server: the row is dead-lettered as the catalogue
// says (HandlerFailed: retried, bisected, then dead-lettered) with the text cut and its length
// noted, the other rows are written, and status stays small.
import { describe, expect, it } from 'vitest';
import { FailureType } from '../../../packages/worker/src/contracts/failures.js';
import { MAX_ERROR_TEXT_CHARS } from '../../../packages/worker/src/contracts/error-text.js';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import {
  engineHarnessPerFile,
  readAll,
  seededFunction,
  startFunction,
  startPullWorker,
  statusWhen,
} from './harness.js';

const TRIGGER = 5;
const HUGE = 20 * 1024 * 1024;

const h = engineHarnessPerFile();

describe('a handler error of tens of MiB', () => {
  it('dead-letters its row with the text truncated and its length noted; no claim loops', async () => {
    const huge = `boom ${'e'.repeat(HUGE)}`;
    let calls = 0;
    const handler: FunctionHandler = async (rows) => {
      calls += 1;
      if (rows.some((r) => Number(r.id) === TRIGGER)) throw new Error(huge);
      return rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toLowerCase().split(/\s+/) }));
    };
    const fn = await seededFunction(h, 'huge-error', 8, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 10 },
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const worker = startPullWorker(h, fn.spec, handler);
    try {
      await startFunction(h, fn.spec);
      const s = await statusWhen(
        h,
        fn,
        (x) => x.counters.processed === 7 && x.counters.deadLettered === 1,
        60_000,
        '7 written, 1 dead-lettered',
      );
      expect(JSON.stringify(s).length).toBeLessThan(64 * 1024);
      expect(s.lastError).toMatch(/truncated: \d+ characters in all/);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_error']);
      const dead = rows.find((r) => r.id === TRIGGER)!;
      const error = JSON.parse(String(dead.tags_error)) as { type: string; message: string };
      expect(error.type).toBe(FailureType.HandlerFailed);
      expect(error.message).toMatch(/^handler failed: boom e+/);
      expect(error.message).toMatch(/\[truncated: 2097\d{4} characters in all\]/);
      expect(error.message.length).toBeLessThanOrEqual(2_100);
      expect(rows.filter((r) => r.id !== TRIGGER).every((r) => Array.isArray(r.tags))).toBe(true);
      // Retries and bisection only: a claim that could not report would be run again and again.
      expect(calls).toBeLessThan(20);
      expect(MAX_ERROR_TEXT_CHARS).toBeLessThan(HUGE);
    } finally {
      await worker.stop();
    }
  });
});
