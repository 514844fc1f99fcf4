// Workers that misbehave, one test each, on the real Temporal dev server and the embedded store:
// missing ids, extra ids, duplicate ids, wrong types, a 50 MB output, a handler that never
// returns, and one that returns after its batch timed out. Each gets its failure classification
// on the dead-lettered row (or none, when the late answer is simply ignored), every other row
// carries exactly the value the handler computes, and a write log of every patch the worker sent
// proves nothing partial or wrong ever reached the store.
import { describe, expect, it } from 'vitest';
import type { BatchRow } from '../../../packages/worker/src/contracts/function.js';
import { FailureType } from '../../../packages/worker/src/contracts/failures.js';
import type { FunctionHandler } from '../../../packages/worker/src/function-worker.js';
import type { StoreClient } from '../../../packages/worker/src/store/client.js';
import {
  engineHarnessPerFile,
  range,
  readAll,
  seededFunction,
  startFunction,
  startPullWorker,
  statusWhen,
} from './harness.js';

const ROWS = 24;
/** The row whose presence in a batch makes the worker misbehave. */
const TRIGGER = 13;
const EXTRA_ID = 9_999;

const h = engineHarnessPerFile();

/** What the handler computes for a row: the words of its title (see seedRows). */
function expectedTags(id: number): string[] {
  return `product number ${id} deluxe`.split(' ');
}

function correct(rows: BatchRow[]) {
  return rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toLowerCase().split(/\s+/) }));
}

const hasTrigger = (rows: BatchRow[]) => rows.some((r) => Number(r.id) === TRIGGER);

/** Every row the worker patched into the store, as sent (ids and values). */
function loggingStore(store: StoreClient, log: Record<string, unknown>[]): StoreClient {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'patchRows' || prop === 'upsertRows') {
        return (ns: string, rows: Record<string, unknown>[], ...rest: unknown[]) => {
          log.push(...rows);
          return (value as (...a: unknown[]) => unknown).call(target, ns, rows, ...rest);
        };
      }
      if (prop === 'write') throw new Error('the worker is expected to write through patchRows only');
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface HostileCase {
  title: string;
  handler: FunctionHandler;
  timeoutSeconds?: number;
  /** The classification and message on the trigger row; undefined: no row is dead-lettered. */
  deadLetter?: { type: string; message: RegExp };
  /** Resolves once the misbehaviour has played out (e.g. the late answer was returned). */
  settled?: Promise<void>;
}

const ONE_MB = 'x'.repeat(1024 * 1024);
let lateCalls = 0;
let lateReturned!: () => void;
const lateAnswer = new Promise<void>((resolve) => (lateReturned = resolve));

const CASES: HostileCase[] = [
  {
    title: 'missing ids',
    handler: async (rows) => correct(rows).filter((o) => Number(o.id) !== TRIGGER),
    deadLetter: { type: FailureType.InvalidWorkerAnswer, message: /row 13: missing from the worker output/ },
  },
  {
    title: 'extra ids',
    handler: async (rows) =>
      hasTrigger(rows) ? [...correct(rows), { id: EXTRA_ID, value: ['intruder'] }] : correct(rows),
    deadLetter: { type: FailureType.InvalidWorkerAnswer, message: /row 9999: not in the batch \(extra id\)/ },
  },
  {
    title: 'duplicate ids',
    handler: async (rows) => {
      const out = correct(rows);
      const t = out.find((o) => Number(o.id) === TRIGGER);
      return t ? [...out, { id: t.id, value: ['again'] }] : out;
    },
    deadLetter: { type: FailureType.InvalidWorkerAnswer, message: /row 13: returned more than once/ },
  },
  {
    title: 'wrong types',
    handler: async (rows) =>
      correct(rows).map((o) => (Number(o.id) === TRIGGER ? { id: o.id, value: 42 as never } : o)),
    deadLetter: {
      type: FailureType.InvalidWorkerOutput,
      message: /row 13: tags must be an array of strings for kind tags, got number/,
    },
  },
  {
    title: 'a 50 MB output',
    handler: async (rows) =>
      correct(rows).map((o) => (Number(o.id) === TRIGGER ? { id: o.id, value: Array(50).fill(ONE_MB) } : o)),
    deadLetter: {
      type: FailureType.InvalidWorkerOutput,
      message:
        /row 13: tags is more than 8\.0 MiB encoded, over the store's 8\.0 MiB limit for one attribute value/,
    },
  },
  {
    title: 'a handler that never returns',
    timeoutSeconds: 1,
    handler: async (rows) => (hasTrigger(rows) ? new Promise<never>(() => undefined) : correct(rows)),
    deadLetter: { type: FailureType.HandlerFailed, message: /handler did not finish within 1s/ },
  },
  {
    title: 'a handler that returns after its batch timed out',
    timeoutSeconds: 1,
    handler: async (rows) => {
      if (hasTrigger(rows) && lateCalls++ === 0) {
        // Answers 2.5 s later than allowed, with values that must never be written.
        await new Promise((r) => setTimeout(r, 2_500));
        setTimeout(lateReturned, 500); // after the SDK has seen the answer
        return rows.map((r) => ({ id: r.id, value: ['late'] }));
      }
      return correct(rows);
    },
    settled: lateAnswer,
  },
];

describe('hostile pull workers', () => {
  it.concurrent.each(CASES)('$title', async (c) => {
    const fn = await seededFunction(h, 'hostile-fn', ROWS, {
      worker: { dispatch: 'pull', batchSize: 8, timeoutSeconds: c.timeoutSeconds ?? 10 },
      retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
    });
    const writes: Record<string, unknown>[] = [];
    const worker = startPullWorker(h, fn.spec, c.handler, 4, undefined, loggingStore(h.store, writes));
    const deadLetters = c.deadLetter ? 1 : 0;
    try {
      await startFunction(h, fn.spec);
      await statusWhen(
        h,
        fn,
        (s) => s.counters.processed === ROWS - deadLetters && s.counters.deadLettered === deadLetters,
        90_000,
        `${ROWS - deadLetters} written, ${deadLetters} dead-lettered`,
      );
      await c.settled;
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_v', 'tags_error']);
      // The extra id never became a row; every row is there once.
      expect(rows.map((r) => Number(r.id))).toEqual(range(1, ROWS + 1));
      for (const row of rows) {
        const id = Number(row.id);
        if (c.deadLetter && id === TRIGGER) {
          expect(row.tags).toBeUndefined();
          expect(row.tags_v).toBeUndefined();
          const error = JSON.parse(String(row.tags_error)) as {
            type: string;
            message: string;
            version: string;
          };
          expect(error.type).toBe(c.deadLetter.type);
          expect(error.message).toMatch(c.deadLetter.message);
          expect(error.version).toBe('v1');
        } else {
          expect({ id, tags: row.tags, tags_v: row.tags_v, tags_error: row.tags_error ?? null }).toEqual({
            id,
            tags: expectedTags(id),
            tags_v: 'v1',
            tags_error: null,
          });
        }
      }
      // Nothing partial or wrong was ever sent: each patch row is a complete, correct output.
      const outputs = writes.filter((w) => 'tags' in w);
      expect(outputs.length).toBeGreaterThanOrEqual(ROWS - deadLetters);
      for (const w of outputs)
        expect(w).toEqual({ id: w.id, tags: expectedTags(Number(w.id)), tags_v: 'v1' });
      expect(outputs.some((w) => Number(w.id) === EXTRA_ID)).toBe(false);
    } finally {
      await worker.stop();
    }
  });
});
