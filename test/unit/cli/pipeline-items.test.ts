// Pure parts of `layer pipeline`: the JSON Lines item parser (every bad line names its line
// number and the fix), the -f reader, the status text and the watch's progress arithmetic.
import { describe, expect, it } from 'vitest';
import {
  formatPipelineStatus,
  parsePipelineItems,
  pipelineWatchProgress,
  readPipelineItemsFile,
  startPipelineWatch,
} from '../../../src/cli/commands/pipeline.js';
import type { PipelineStatus } from '../../../src/contracts/pipeline.js';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';

/** The error fn throws; the assertion is outside the catch, so a call that does not throw fails. */
function failure(fn: () => unknown): InvalidInputError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('parsePipelineItems', () => {
  it('one item per line; blank lines, CRLF and a BOM are fine', () => {
    const text =
      '\uFEFF{"key":"a","payload":{"text":"hi"}}\r\n\r\n  \n{"key":"b","version":"v2","deleted":true}\n{"key":"c"}';
    expect(parsePipelineItems(text)).toEqual([
      { key: 'a', payload: { text: 'hi' } },
      { key: 'b', version: 'v2', deleted: true },
      { key: 'c' },
    ]);
  });

  it('an empty input is no items', () => {
    expect(parsePipelineItems('')).toEqual([]);
    expect(parsePipelineItems('\n\n')).toEqual([]);
  });

  it.each([
    ['invalid JSON', '{"key":"a"}\n{"key": "b",}\n', 2, /not valid JSON/, /one JSON object per line/],
    [
      'a JSON array',
      '{"key":"a"}\n\n[1,2]\n',
      3,
      /expected a JSON object, got an array/,
      /one item object per line/,
    ],
    ['a bare string', '"doc-1"', 1, /expected a JSON object, got string/, /one item object per line/],
    ['null', 'null', 1, /got null/, /one item object per line/],
    ['a missing key', '{"payload":{}}', 1, /not a pipeline item: key: /, /non-empty string "key"/],
    ['an empty key', '{"key":""}', 1, /key: /, /non-empty string "key"/],
    ['a non-boolean deleted', '{"key":"a","deleted":"yes"}', 1, /deleted: /, /"deleted" \(boolean\)/],
    ['a misspelt field', '{"key":"a","paylod":{}}', 1, /paylod/, /"payload" \(any JSON\)/],
  ])('%s fails naming the line and the fix', (_what, text, line, message, fix) => {
    const err = failure(() => parsePipelineItems(text, 'items.jsonl'));
    expect(err.path).toBe(`items.jsonl line ${line}`);
    expect(err.message).toMatch(new RegExp(`^items\\.jsonl line ${line}: `));
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(fix);
    expect(err.hint).toContain('{"key": "doc-1"');
  });
});

describe('readPipelineItemsFile', () => {
  it('reads the file (- is stdin) and names it in line errors', () => {
    const files: Record<string, string> = {
      'in.jsonl': '{"key":"a"}\n',
      '/dev/stdin': '{"key":"b"}\n',
      'bad.jsonl': 'x',
    };
    const read = (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return files[p]!;
    };
    expect(readPipelineItemsFile('in.jsonl', read)).toEqual([{ key: 'a' }]);
    expect(readPipelineItemsFile('-', read)).toEqual([{ key: 'b' }]);
    expect(failure(() => readPipelineItemsFile('bad.jsonl', read)).path).toBe('bad.jsonl line 1');
    const missing = failure(() => readPipelineItemsFile('nope.jsonl', read));
    expect(missing.message).toContain('cannot read nope.jsonl: ENOENT');
    expect(missing.hint).toContain('JSON Lines');
  });

  it('a file without items is an error', () => {
    const err = failure(() => readPipelineItemsFile('empty.jsonl', () => '\n'));
    expect(err.message).toContain('empty.jsonl has no items');
  });
});

function status(done: number, pending: number, over: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    name: 'docs',
    k8sNamespace: 'local',
    generation: 2,
    targetNamespace: 'docs',
    phase: 'running',
    batchSize: 4,
    queue: { pending, inFlight: 4, done, failed: 1 },
    inFlightBatches: 1,
    counters: {
      submitted: 20,
      duplicates: 2,
      done,
      alreadyWritten: 0,
      failed: 1,
      documents: done,
      chunksWritten: 30,
      chunksKept: 0,
      chunksDeleted: 0,
      batches: 3,
      listings: 0,
      failedBatches: 0,
      retries: 0,
    },
    runsSoFar: 0,
    ...over,
  };
}

describe('pipeline status', () => {
  it('formats the queue, the depth KEDA sees and the counters', () => {
    const text = formatPipelineStatus(status(10, 5, { lastError: 'boom' }));
    expect(text).toContain('Pipeline local/docs (generation 2) → docs');
    // ceil(5 / 4) waiting + 1 in flight
    expect(text).toContain('queue depth:     3 batches of 4');
    expect(text).toContain('submitted:       20 items (2 duplicates)');
    expect(text).toContain('last error:      boom');
    expect(text).not.toContain('last listing');
  });

  it('watch progress: finished items over finished plus queued, rate over the window', () => {
    const w = startPipelineWatch(status(10, 5), 0);
    const p = pipelineWatchProgress(w, status(14, 1), 2000);
    expect(p).toEqual({ done: 15, total: 20, rowsPerSecond: 2, elapsedMs: 2000, unit: 'items' });
  });
});
