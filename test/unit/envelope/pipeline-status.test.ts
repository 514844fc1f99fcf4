// The Pipeline's status, phase and Temporal UI text as pure functions (src/envelope/pipeline-status.ts).
import { describe, expect, it } from 'vitest';
import {
  pipelineCarriedStateSchema,
  type ParsedPipelineSpec,
  type PipelineBatchPayload,
  type PipelineDeadLetter,
  type PipelineStatus,
} from '../../../src/contracts/pipeline.js';
import {
  pipelineDetails,
  pipelinePhase,
  pipelineStatus,
  STATUS_DEAD_LETTERS,
} from '../../../src/envelope/pipeline-status.js';
import type { EnvelopeView } from '../../../src/envelope/workload-status.js';

const spec = {
  k8sNamespace: 'shop',
  name: 'docs',
  generation: 2,
  targetNamespace: 'chunks',
  worker: { batchSize: 4 },
  paused: false,
} as unknown as ParsedPipelineSpec;

const envelope: EnvelopeView<PipelineBatchPayload> = {
  state: { waiting: [], claims: [], claimSeq: 0 },
  degraded: undefined,
  claimsInFlight: 1,
  batchesInFlight: 2,
  rowsInFlight: 8,
  waitingRows: 5,
};

function deadLetter(n: number): PipelineDeadLetter {
  return {
    key: `k${n}`,
    version: 'v1',
    type: 'HandlerFailed',
    message: 'no',
    attempts: 3,
    at: '2026-12-01T10:00:00.000Z',
  };
}

describe('pipelinePhase', () => {
  const base = { paused: false, draining: false, degraded: false, busy: false };
  it.each<[string, Partial<Parameters<typeof pipelinePhase>[0]>, string]>([
    ['a pause outranks a hand-over', { paused: true, draining: true }, 'paused'],
    ['a hand-over outranks a degraded store', { draining: true, degraded: true }, 'draining'],
    ['degraded outranks running', { degraded: true, busy: true }, 'degraded'],
    // Items queued but not yet cut, or a listing under way, are work too.
    ['busy is running', { busy: true }, 'running'],
    ['nothing to do is idle', {}, 'idle'],
  ])('%s', (_why, over, phase) => {
    expect(pipelinePhase({ ...base, ...over })).toBe(phase);
  });
});

describe('pipelineStatus', () => {
  const state = pipelineCarriedStateSchema.parse({
    counters: { done: 30, failed: 2 },
    deadLetters: Array.from({ length: 25 }, (_, i) => deadLetter(i)),
  });
  const s = pipelineStatus({ spec, phase: 'running', state, queued: 7, envelope });

  it('counts queued items and items cut but waiting as pending (a batch’s rows are its items)', () => {
    expect(s.queue).toEqual({ pending: 12, inFlight: 8, done: 30, failed: 2 });
  });

  it(`shows the newest ${STATUS_DEAD_LETTERS} dead letters (the query has them all)`, () => {
    expect(s.deadLetters).toHaveLength(STATUS_DEAD_LETTERS);
    expect(s.deadLetters!.at(-1)!.key).toBe('k24');
  });

  it('copies the counters (a later count does not change an answer already given)', () => {
    state.counters.done += 1;
    expect(s.counters.done).toBe(30);
  });
});

describe('pipelineDetails', () => {
  const status = (over: Partial<PipelineStatus> = {}): PipelineStatus => ({
    ...pipelineStatus({
      spec,
      phase: 'idle',
      state: pipelineCarriedStateSchema.parse({}),
      queued: 0,
      envelope,
    }),
    ...over,
  });

  it('leads with the phase and the queue', () => {
    expect(pipelineDetails(status()).split('\n')[0]).toBe(
      '**idle** — 5 pending, 8 in flight (1 claims, 2 batches), 0 done, 0 failed',
    );
  });

  it.each<[string, Partial<PipelineStatus>, string | RegExp, boolean]>([
    [
      'names the newest three dead letters',
      { deadLetters: [1, 2, 3, 4].map(deadLetter) },
      '- dead letters: k2@v1 (HandlerFailed), k3@v1 (HandlerFailed), k4@v1 (HandlerFailed)',
      true,
    ],
    ['no dead letters, no line', { deadLetters: [] }, /dead letters/, false],
    ['the last error is shown', { lastError: 'c1: worker gone' }, '- last error: c1: worker gone', true],
    // Retries and failed batches are counted for Pipelines too since the shared shell.
    ['retries and failed batches are shown', {}, 'failed batches 0, retries 0', true],
  ])('%s', (_why, over, text, present) => {
    if (present) expect(pipelineDetails(status(over))).toContain(text);
    else expect(pipelineDetails(status(over))).not.toMatch(text);
  });
});
