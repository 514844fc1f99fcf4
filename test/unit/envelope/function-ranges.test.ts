// Range claims (docs/adr/0100): discovery cuts, the claim input's chains, packed claim results,
// the envelope pinning a failed range to its rows, and what a claim puts in history per row.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  packClaimReport,
  unpackClaimReport,
  type ClaimReport,
} from '../../../packages/worker/src/contracts/claims.js';
import {
  claimBatches,
  claimSpecFingerprint,
  packRowIds,
  unpackRowIds,
  type FunctionClaimInput,
  type FunctionClaimSpec,
  type RowId,
} from '../../../packages/worker/src/contracts/function.js';
import { claimParts, type FunctionBatchPayload } from '../../../src/contracts/function.js';
import { BatchEnvelope, DEFAULT_CLAIM_SIZING } from '../../../src/envelope/batch-envelope.js';
import { FunctionDiscovery, cutRanges, rowsOfCut } from '../../../src/envelope/function-discovery.js';
import { freshRange, functionPayloadOps, rangeBorn } from '../../../src/envelope/function-payload.js';
import { ClaimSpecs } from '../../../src/envelope/claim-specs.js';

const ints = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('packRowIds', () => {
  it('packs canonical UUIDs into 22 characters each and back, exactly; other ids stay as they are', () => {
    const uuids = [
      ...Array.from({ length: 50 }, () => randomUUID()),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ];
    const packed = packRowIds(uuids);
    expect(packed).toEqual({ uuids: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
    expect((packed as { uuids: string }).uuids).toHaveLength(22 * uuids.length);
    expect(unpackRowIds(packed)).toEqual(uuids);
    // Anything that would not come back byte for byte is left as it is.
    for (const ids of [[1, 2], ['A1B2C3D4-0000-0000-0000-000000000000'], [uuids[0]!, 'x'], []])
      expect(packRowIds(ids)).toEqual(ids);
  });
});

describe('cutRanges', () => {
  it.each([
    { n: 0, cuts: [] as number[], last: 0 },
    { n: 1, cuts: [1], last: 1 },
    { n: 64, cuts: [64], last: 64 },
    { n: 65, cuts: [64, 65], last: 1 },
    { n: 130, cuts: [64, 128, 130], last: 2 },
  ])('$n rows cut at 64: last ids $cuts', ({ n, cuts, last }) => {
    const c = cutRanges(null, ints(1, n), 64);
    expect(unpackRowIds(c.lastIds)).toEqual(cuts);
    expect(c.rows).toBe(n);
    if (cuts.length > 0) expect(rowsOfCut(c, cuts.length - 1)).toBe(last);
    expect(cuts.reduce((sum, _, i) => sum + rowsOfCut(c, i), 0)).toBe(n);
  });
});

describe('FunctionDiscovery with range cuts', () => {
  it('turns a page of cuts into consecutive range batches and advances the cursor', () => {
    const d = new FunctionDiscovery('run');
    d.startPass(['ns']);
    const [scan] = d.scansToStart({
      heldRows: 0,
      readAheadRows: 200_000,
      maxConcurrentScans: 1,
      maxPage: 65_536,
    });
    expect(scan!.limit).toBe(65_536);
    const cursors = d.cursors;
    const batches = d.onPage(
      'ns',
      cursors,
      { cuts: cutRanges(10, ints(11, 100), 40), nextAfterId: 110 },
      new Set(),
      40,
    );
    expect(batches.map((b) => [b.payload, b.rows])).toEqual([
      [{ namespace: 'ns', afterId: 10, lastId: 50 }, 40],
      [{ namespace: 'ns', afterId: 50, lastId: 90 }, 40],
      [{ namespace: 'ns', afterId: 90, lastId: 110 }, 20],
    ]);
    expect(d.cursors.ns).toMatchObject({ afterId: 110, exhausted: false });
  });
});

describe('functionPayloadOps', () => {
  it('pins a failed range to the ids it resolved, and splits those', () => {
    const range: FunctionBatchPayload = { namespace: 'ns', afterId: 0, lastId: 9 };
    const pinned = functionPayloadOps.resolve!(range, [2, 3, 5]);
    expect(pinned).toEqual({ namespace: 'ns', ids: [2, 3, 5], fromRange: true });
    expect(functionPayloadOps.split(pinned)).toEqual([
      { namespace: 'ns', ids: [2, 3], fromRange: true },
      { namespace: 'ns', ids: [5], fromRange: true },
    ]);
    // Explicit lists stay as they are (canary, older runs).
    const list: FunctionBatchPayload = { namespace: 'ns', ids: [1, 2] };
    expect(functionPayloadOps.resolve!(list, [1])).toBe(list);
    expect(functionPayloadOps.split(list)).toEqual([
      { namespace: 'ns', ids: [1] },
      { namespace: 'ns', ids: [2] },
    ]);
    expect([range, pinned, list].map(rangeBorn)).toEqual([true, true, false]);
  });

  it('the envelope retries a failed range on exactly its resolved rows, then isolates the poison row', () => {
    const env = new BatchEnvelope<FunctionBatchPayload>(
      functionPayloadOps,
      {
        maxInFlightClaims: 1,
        retry: { maxAttempts: 1, initialBackoffSeconds: 0, maxBackoffSeconds: 0 },
        ...DEFAULT_CLAIM_SIZING,
      },
      'run',
    );
    env.add([{ batchId: 'b1', rows: 4, payload: { namespace: 'ns', afterId: 0, lastId: 10 } }]);
    const [dispatch] = env.plan(0, { paused: false, draining: false });
    if (dispatch?.kind !== 'dispatch') throw new Error('expected a dispatch');
    const commands = env.onClaimReport(
      {
        claimId: dispatch.claim.claimId,
        outcomes: [
          {
            batchId: 'b1',
            status: 'failed',
            ms: 5,
            failure: { type: 'HandlerFailed', message: 'boom', batchRowIds: [2, 4, 6, 8] },
          },
        ],
      },
      1,
    );
    expect(commands.map((c) => c.kind)).toEqual(['split']);
    expect(env.state.waiting.map((b) => [b.payload, b.rows])).toEqual([
      [{ namespace: 'ns', ids: [2, 4], fromRange: true }, 2],
      [{ namespace: 'ns', ids: [6, 8], fromRange: true }, 2],
    ]);
  });
});

describe('a claim that dies on a range batch', () => {
  it('pins the suspect range to the rows its retried attempt said it computes, so a crashing row is isolated', () => {
    const env = new BatchEnvelope<FunctionBatchPayload>(
      functionPayloadOps,
      {
        maxInFlightClaims: 1,
        retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 0 },
        ...DEFAULT_CLAIM_SIZING,
      },
      'run',
    );
    env.add([
      { batchId: 'b1', rows: 2, payload: { namespace: 'ns', afterId: null, lastId: 2 } },
      { batchId: 'b2', rows: 3, payload: { namespace: 'ns', afterId: 2, lastId: 9 } },
    ]);
    const [dispatch] = env.plan(0, { paused: false, draining: false });
    if (dispatch?.kind !== 'dispatch') throw new Error('expected a dispatch');
    expect(dispatch.claim.batches).toHaveLength(1);
    const commands = env.onClaimFailed(
      dispatch.claim.claimId,
      { type: 'ClaimLost', message: 'heartbeat timeout' },
      { claimId: dispatch.claim.claimId, outcomes: [], running: { batchId: 'b1', batchRowIds: [1, 2] } },
      1,
    );
    expect(commands.map((c) => c.kind)).toEqual(['split']);
    expect(env.state.waiting.slice(0, 2).map((b) => b.payload)).toEqual([
      { namespace: 'ns', ids: [1], fromRange: true },
      { namespace: 'ns', ids: [2], fromRange: true },
    ]);
  });
});

describe('claim inputs and results', () => {
  const spec: FunctionClaimSpec = {
    k8sNamespace: 'default',
    name: 'tagger',
    inputs: ['id', 'title'],
    output: { attribute: 'tags', kind: 'tags', version: 'v1' },
    filter: [
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ],
    worker: { dispatch: 'pull', batchSize: 64, timeoutSeconds: 30 },
  };

  /** A claim of `n` consecutive range batches of 64 rows over `ids`, as the workflow sends it. */
  function rangeClaim(ids: RowId[], n: number): FunctionClaimInput {
    const cuts = cutRanges(null, ids.slice(0, n * 64), 64);
    let afterId: RowId | null = null;
    const batches = unpackRowIds(cuts.lastIds).map((lastId, i) => {
      const payload: FunctionBatchPayload = { namespace: 'products-uuid', afterId, lastId };
      afterId = lastId;
      return { batchId: `a1b2c3d4-${1000 + i}`, rows: rowsOfCut(cuts, i), payload };
    });
    return {
      claimId: 'a1b2c3d4-c77',
      specFingerprint: claimSpecFingerprint(spec),
      parts: claimParts(batches),
      packedReport: true,
    };
  }

  it('chains consecutive ranges (each id once) and reads them back batch by batch', () => {
    const input = rangeClaim(ints(1, 200), 4);
    expect(input.parts).toHaveLength(1);
    // Discovery's numbered batch ids travel as a prefix and the first number.
    expect(input.parts![0]).toMatchObject({
      batchIds: { prefix: 'a1b2c3d4-', from: 1000 },
      lastIds: [64, 128, 192, 200],
      rows: [64, 64, 64, 8],
    });
    expect(rangeClaim(ints(1, 200), 3).parts![0]).toMatchObject({ rows: 64 });
    expect(claimBatches(input).map((b) => [b.batchId, b.range, b.rows])).toEqual([
      ['a1b2c3d4-1000', { afterId: null, lastId: 64 }, 64],
      ['a1b2c3d4-1001', { afterId: 64, lastId: 128 }, 64],
      ['a1b2c3d4-1002', { afterId: 128, lastId: 192 }, 64],
      ['a1b2c3d4-1003', { afterId: 192, lastId: 200 }, 8],
    ]);
    // An id list in between breaks the chain; old inputs (batches) still read.
    const mixed = claimParts([
      { batchId: 'x1', rows: 2, payload: { namespace: 'ns', afterId: 0, lastId: 5 } },
      { batchId: 'x2', rows: 2, payload: { namespace: 'ns', ids: [7, 9] } },
      { batchId: 'x3', rows: 2, payload: { namespace: 'ns', afterId: 5, lastId: 9 } },
    ]);
    expect(mixed).toHaveLength(3);
    expect(claimBatches({ claimId: 'c', batches: [{ batchId: 'b', namespace: 'ns', ids: [1] }] })).toEqual([
      { batchId: 'b', namespace: 'ns', ids: [1] },
    ]);
  });

  it("keeps a 1,024-row claim's input under 600 bytes and its result under 200 with UUID ids, whatever the claim's row ids", () => {
    const uuids = Array.from({ length: 1024 }, () => randomUUID()).sort();
    const input = rangeClaim(uuids, 16);
    const inputBytes = JSON.stringify(input).length;
    const report: ClaimReport = {
      claimId: input.claimId,
      outcomes: claimBatches(input).map((b) => ({
        batchId: b.batchId,
        status: 'done' as const,
        ms: 31,
        counts: { written: 64, skipped: 0, superseded: 0 },
      })),
    };
    const resultBytes = JSON.stringify(
      packClaimReport(
        report,
        claimBatches(input).map((b) => b.batchId),
      ),
    ).length;
    // 16 batches of 64 rows: one UUID per batch in, one column entry per batch out.
    expect(inputBytes).toBeLessThan(600);
    expect(resultBytes).toBeLessThan(200);
    // The same claim as id lists with the spec inline, as before: about 40 bytes per UUID row.
    const asLists = JSON.stringify({
      claimId: input.claimId,
      spec,
      batches: claimBatches(input).map((b, i) => ({
        batchId: b.batchId,
        namespace: b.namespace,
        ids: uuids.slice(i * 64, (i + 1) * 64),
      })),
    }).length;
    expect(asLists).toBeGreaterThan(40 * 1024);
  });

  it('packs a report by position and unpacks it exactly, failures and row failures included', () => {
    const report: ClaimReport = {
      claimId: 'c1',
      outcomes: [
        { batchId: 'b1', status: 'done', ms: 10, counts: { written: 3, skipped: 1, superseded: 0 } },
        {
          batchId: 'b2',
          status: 'done',
          ms: 12,
          counts: { written: 2, skipped: 0, superseded: 0 },
          rowFailures: [{ type: 'RowRejected', message: 'no', rowIds: [7] }],
        },
        {
          batchId: 'b3',
          status: 'failed',
          ms: 4,
          failure: { type: 'HandlerFailed', message: 'x', batchRowIds: [9] },
        },
      ],
      attempt: 2,
    };
    const packed = packClaimReport(report, ['b1', 'b2', 'b3', 'b4']);
    expect(packed).not.toHaveProperty('outcomes');
    const back = unpackClaimReport(packed, ['b1', 'b2', 'b3', 'b4']);
    expect(back).toEqual({
      ...report,
      outcomes: [
        { batchId: 'b1', status: 'done', ms: 10, counts: { written: 3, skipped: 1 } },
        {
          batchId: 'b2',
          status: 'done',
          ms: 12,
          counts: { written: 2, skipped: 0 },
          rowFailures: [{ type: 'RowRejected', message: 'no', rowIds: [7] }],
        },
        report.outcomes[2],
      ],
    });
    // Outcomes that are not a prefix of the claim in order stay unpacked.
    expect(packClaimReport(report, ['b2', 'b1', 'b3'])).toBe(report);
    expect(unpackClaimReport(report, [])).toBe(report);
  });
});

describe('the hand-over and the claim specs', () => {
  it('leaves untouched ranges behind and carries retried, split or pinned batches', () => {
    const range = { namespace: 'ns', afterId: 1, lastId: 9 };
    const base = { batchId: 'b', rows: 4, attempts: 0, maxAttempts: 3, splitDepth: 0 };
    expect(
      [
        { ...base, payload: range },
        { ...base, payload: range, attempts: 1 },
        { ...base, payload: range, splitDepth: 1 },
        { ...base, payload: range, notBeforeMs: 5 },
        { ...base, payload: { namespace: 'ns', ids: [2], fromRange: true as const } },
      ].map(freshRange),
    ).toEqual([true, false, false, false, false]);
  });

  it('answers for every spec a claim in flight uses and forgets one with its last claim', () => {
    const specs = new ClaimSpecs();
    const spec = {
      k8sNamespace: 'd',
      name: 'f',
      inputs: ['id'],
      output: { attribute: 'tags', kind: 'tags', version: 'v1' },
      worker: { dispatch: 'pull' as const, batchSize: 8, timeoutSeconds: 10 },
    };
    const side = { ...spec, output: { ...spec.output, attribute: 'tags__canary', version: 'v2' } };
    const fp = specs.hold('c1', spec);
    expect(specs.hold('c2', { ...spec })).toBe(fp);
    const sideFp = specs.hold('canary', side);
    expect(sideFp).not.toBe(fp);
    expect([specs.get(fp), specs.get(sideFp)]).toEqual([spec, side]);
    specs.release('c1');
    expect(specs.get(fp)).toEqual(spec);
    specs.release('c2');
    specs.release('canary');
    specs.release('never-held');
    expect([specs.get(fp), specs.get(sideFp), specs.size]).toEqual([null, null, 0]);
  });
});
