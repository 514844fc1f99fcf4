// The Pipeline's queue rules (src/envelope/pipeline-queue.ts): idempotent by key@version, a newer
// version replaces a queued older one, two versions of one key never held at once (ADR 0030).
import { describe, expect, it } from 'vitest';
import { type QueuedItem } from '../../../packages/worker/src/contracts/pipeline.js';
import { DEAD_LETTER_LIMIT } from '../../../src/contracts/pipeline.js';
import {
  PipelineQueue,
  RECENT_LIMIT,
  pipelinePayloadOps,
  withDeadLetters,
} from '../../../src/envelope/pipeline-queue.js';

const item = (key: string, version = 'v1'): QueuedItem => ({ key, version });
const keys = (items: readonly QueuedItem[]) => items.map((i) => `${i.key}@${i.version}`);

function queue(pending: QueuedItem[] = [], recent: [string, 'done' | 'failed'][] = []) {
  return new PipelineQueue({ pending: [...pending], recent }, 'run1');
}

describe('PipelineQueue.enqueue', () => {
  it.each<[string, QueuedItem[], [string, 'done' | 'failed'][], string[], QueuedItem, boolean, string[]]>([
    ['a new item is queued', [], [], [], item('a'), true, ['a@v1']],
    ['the same identity queued is a duplicate', [item('a')], [], [], item('a'), false, ['a@v1']],
    ['the same identity cut or out is a duplicate', [], [], ['a@v1'], item('a'), false, []],
    ['the same identity just done is a duplicate', [], [['a@v1', 'done']], [], item('a'), false, []],
    // A failed item submitted again is a person asking for another try.
    ['the same identity failed is queued again', [], [['a@v1', 'failed']], [], item('a'), true, ['a@v1']],
    [
      'a newer version replaces the queued older one',
      [item('a'), item('b')],
      [],
      [],
      item('a', 'v2'),
      true,
      ['b@v1', 'a@v2'],
    ],
    // Held is not replaced: the cut rule keeps the two versions apart instead.
    ['a newer version of a held key is queued beside it', [], [], ['a@v1'], item('a', 'v2'), true, ['a@v2']],
  ])('%s', (_why, pending, recent, held, next, accepted, after) => {
    const q = queue(pending, recent);
    expect(q.enqueue(next, new Set(held))).toBe(accepted);
    expect(keys(q.pending)).toEqual(after);
  });
});

describe('PipelineQueue.cut', () => {
  const cut = (q: PipelineQueue, over: Partial<Parameters<PipelineQueue['cut']>[0]> = {}) =>
    q.cut({ waiting: 0, room: 10, batchSize: 2, held: () => [], ...over });

  it('cuts FIFO batches of batchSize named after the run', () => {
    const batches = cut(queue(['a', 'b', 'c'].map((k) => item(k))));
    expect(batches.map((b) => [b.batchId, b.rows, keys(b.payload.items)])).toEqual([
      ['run1-1', 2, ['a@v1', 'b@v1']],
      ['run1-2', 1, ['c@v1']],
    ]);
  });

  it('never puts two versions of a key in flight: the second waits for a later cut', () => {
    const q = queue([item('a'), item('b'), item('a', 'v2')]);
    expect(cut(q, { batchSize: 5 }).map((b) => keys(b.payload.items))).toEqual([['a@v1', 'b@v1']]);
    expect(keys(q.pending)).toEqual(['a@v2']);
    // Once a@v1 is done (held no more), a@v2 is cut.
    expect(cut(q).map((b) => keys(b.payload.items))).toEqual([['a@v2']]);
  });

  it('skips keys already held by the envelope', () => {
    const q = queue([item('a', 'v2'), item('b')]);
    expect(cut(q, { held: () => [item('a')] }).map((b) => keys(b.payload.items))).toEqual([['b@v1']]);
  });

  it.each<[string, number, number, number]>([
    ['stops at the room left', 1, 2, 1],
    ['cuts nothing when the envelope is full', 2, 2, 0],
  ])('%s', (_why, waiting, room, cutCount) => {
    expect(
      cut(queue(['a', 'b', 'c', 'd'].map((k) => item(k))), { waiting, room, batchSize: 1 }),
    ).toHaveLength(cutCount);
  });

  it('does not read the held items when there is nothing to cut (it runs every loop)', () => {
    let reads = 0;
    cut(queue(), { held: () => ((reads += 1), []) });
    expect(reads).toBe(0);
  });
});

describe('PipelineQueue.states and remember', () => {
  it('tells where each identity is', () => {
    const q = queue(
      [item('queued')],
      [
        ['done@v1', 'done'],
        ['failed@v1', 'failed'],
      ],
    );
    expect(
      q.states(
        ['queued@v1', 'cut@v1', 'out@v1', 'done@v1', 'failed@v1', 'never@v1'],
        new Set(['out@v1']),
        new Set(['cut@v1']),
      ),
    ).toEqual({
      'queued@v1': 'pending',
      'cut@v1': 'pending',
      'out@v1': 'inFlight',
      'done@v1': 'done',
      'failed@v1': 'failed',
      'never@v1': 'unknown',
    });
  });

  it(`forgets the oldest finished identities beyond ${RECENT_LIMIT}`, () => {
    const q = queue();
    for (let i = 0; i <= RECENT_LIMIT; i += 1) q.remember(`k${i}@v1`, 'done');
    q.remember('k1@v1', 'failed'); // remembered again: now the newest
    q.remember('next@v1', 'done'); // so this one evicts k2, not k1
    const recent = new Map(q.carried().recent);
    expect(recent.size).toBe(RECENT_LIMIT);
    expect(recent.has('k0@v1')).toBe(false);
    expect(recent.has('k2@v1')).toBe(false);
    expect(recent.get('k1@v1')).toBe('failed');
  });
});

describe('pipeline payloads and dead letters', () => {
  it('splits a batch’s items in halves, the first half the larger', () => {
    const [a, b] = pipelinePayloadOps.split({ items: ['a', 'b', 'c'].map((k) => item(k)) });
    expect([keys(a.items), keys(b.items)]).toEqual([['a@v1', 'b@v1'], ['c@v1']]);
  });

  it(`keeps the newest ${DEAD_LETTER_LIMIT} dead letters, each message bounded`, () => {
    const kept = Array.from({ length: DEAD_LETTER_LIMIT }, (_, i) => ({
      key: `old${i}`,
      version: 'v1',
      type: 'HandlerFailed',
      message: '',
      attempts: 1,
      at: 'then',
    }));
    const out = withDeadLetters(
      kept,
      [item('a')],
      { type: 'InvalidPipelineOutput', message: 'x'.repeat(5000) },
      3,
      'now',
    );
    expect(out).toHaveLength(DEAD_LETTER_LIMIT);
    expect(out[0]!.key).toBe('old1');
    expect(out.at(-1)).toEqual({
      key: 'a',
      version: 'v1',
      type: 'InvalidPipelineOutput',
      message: 'x'.repeat(2000),
      attempts: 3,
      at: 'now',
    });
  });
});
