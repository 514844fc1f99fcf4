// A Pipeline claim's permits under a shared rate limit (docs/adr/0074), as pure logic: each
// process call asks under a booking named by claim and batch (a retried claim gets its permit
// back), with what is left of the claim's wait allowance, and a permit due beyond it stops the
// claim as RateLimitWait with the batches after it unrun. The store and the gate are recording
// fakes here; test/integration/pipeline/strict-rate-limit.test.ts runs the real limiter.
import { describe, expect, it } from 'vitest';
import type { PipelineClaimInput, QueuedItem } from '../../../packages/worker/src/contracts/pipeline.js';
import type { StoreClient } from '../../../packages/worker/src/store/client.js';
import { runPipelineClaimWith } from '../../../packages/worker/src/claim-execution/pipeline-write.js';
import {
  PermitDeferredError,
  type AcquireOptions,
  type RateLimitGate,
} from '../../../packages/worker/src/claim-execution/rate-limit-gate.js';

/** A store with nothing written yet that accepts every write. */
function emptyStore(): StoreClient {
  return {
    query: async () => ({ rows: [], aggregation_groups: [] }),
    write: async () => ({ rows_affected: 0 }),
    schema: async () => null,
  } as unknown as StoreClient;
}

const item = (key: string): QueuedItem => ({ key, version: 'v1', payload: { text: key } });

function claim(maxPermitWaitMs: number | undefined): PipelineClaimInput {
  return {
    claimId: 'c7',
    pipeline: { k8sNamespace: 'layer', name: 'docs' },
    targetNamespace: 'chunks',
    timeoutSeconds: 30,
    source: 'api',
    rateLimit: {
      key: 'openai',
      requestsPerSecond: 0.1,
      ...(maxPermitWaitMs !== undefined ? { maxPermitWaitMs } : {}),
    },
    batches: [
      { batchId: 'b1', items: [item('a'), item('b')] },
      { batchId: 'b2', items: [item('c')] },
      { batchId: 'b3', items: [item('d')] },
    ],
  };
}

/** A gate answering each ask with the next wait (ms) or error, recording what it was asked. */
function recordingGate(answers: (number | Error)[]) {
  const asked: { rows: number; options: AcquireOptions | undefined }[] = [];
  const gate: RateLimitGate = {
    acquire: async (rows, _signal, options) => {
      asked.push({ rows, options });
      const answer = answers[asked.length - 1] ?? 0;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    observe: () => undefined,
  };
  return { gate, asked };
}

describe('runPipelineClaimWith under a shared rate limit', () => {
  it('books each process call under its claim and batch, with what is left of the wait allowance', async () => {
    const { gate, asked } = recordingGate([300, 0, 500]);
    const report = await runPipelineClaimWith(emptyStore(), claim(1_000), async () => [], {
      rateLimit: gate,
    });
    expect(asked).toEqual([
      { rows: 2, options: { booking: 'c7/b1', maxWaitMs: 1_000 } },
      { rows: 1, options: { booking: 'c7/b2', maxWaitMs: 700 } },
      { rows: 1, options: { booking: 'c7/b3', maxWaitMs: 700 } },
    ]);
    expect(report.systemic).toBeUndefined();
    expect(report.outcomes.map((o) => [o.batchId, o.status])).toEqual([
      ['b1', 'done'],
      ['b2', 'done'],
      ['b3', 'done'],
    ]);
  });

  it('stops the claim as RateLimitWait, with the permit due time, when no permit is due within the allowance', async () => {
    const deferred = new PermitDeferredError(
      'shared rate limit "openai": the next permit is due in 9.0 s',
      9_000,
    );
    const { gate, asked } = recordingGate([0, deferred]);
    const processed: string[] = [];
    const report = await runPipelineClaimWith(
      emptyStore(),
      claim(1_000),
      async (_items, batchId) => {
        processed.push(batchId);
        return [];
      },
      { rateLimit: gate },
    );
    expect(processed).toEqual(['b1']);
    expect(asked).toHaveLength(2);
    expect(report.outcomes.map((o) => o.batchId)).toEqual(['b1']);
    expect(report.systemic).toMatchObject({ type: 'RateLimitWait', retryAfterMs: 9_000 });
  });

  it('asks without an allowance when the workflow sets none (a claim from before ADR 0074)', async () => {
    const { gate, asked } = recordingGate([0, 0, 0]);
    await runPipelineClaimWith(emptyStore(), claim(undefined), async () => [], { rateLimit: gate });
    expect(asked.map((a) => a.options)).toEqual([
      { booking: 'c7/b1' },
      { booking: 'c7/b2' },
      { booking: 'c7/b3' },
    ]);
  });
});
