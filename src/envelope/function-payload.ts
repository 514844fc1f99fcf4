// A Function batch's payload — an id range of one store namespace, or an explicit list of its ids
// (docs/adr/0100) — and everything that knows its shape: how ids are cut into batches, how a
// batch splits in halves and is pinned to the rows a failed attempt resolved, what a claim
// activity receives, which rows a dead letter marks, and how held work is recognised so discovery
// does not find it twice. The workflow and its claim adapter go through these and nothing else.
// Pure, sandbox-safe.
import { type FunctionClaimInput, type RowId } from '../../packages/worker/src/contracts/function.js';
import { claimParts, isRangePayload, type FunctionBatchPayload } from '../contracts/function.js';
import type { BatchIn, EnvelopeBatch, PayloadOps } from './batch-envelope.js';

/** A row's identity among held work: namespace and id, typed (1 and "1" are different rows). */
export function idKey(namespace: string, id: RowId): string {
  return `${namespace}\u0000${typeof id}:${id}`;
}

/**
 * How the envelope splits a Function batch (isolating failing rows) and pins a failed range to
 * the rows it resolved, so retries and splits run on exactly those (docs/adr/0100).
 */
export const functionPayloadOps: PayloadOps<FunctionBatchPayload> = {
  split(payload) {
    if (isRangePayload(payload)) {
      // Its rows are unknown (its read kept failing): the range stays whole, the other half is empty.
      return [payload, { namespace: payload.namespace, ids: [], fromRange: true }];
    }
    const mid = Math.ceil(payload.ids.length / 2);
    const from = payload.fromRange ? { fromRange: true as const } : {};
    return [
      { namespace: payload.namespace, ids: payload.ids.slice(0, mid), ...from },
      { namespace: payload.namespace, ids: payload.ids.slice(mid), ...from },
    ];
  },
  resolve(payload, rowIds) {
    if (!isRangePayload(payload)) return payload;
    return { namespace: payload.namespace, ids: [...rowIds], fromRange: true };
  },
  listedRows: (payload) => (isRangePayload(payload) ? 0 : payload.ids.length),
};

/**
 * The same, with each batch scoped to its store namespace: a 429 from one namespace's write limits
 * holds back that namespace's batches alone (docs/adr/0111; runs of the unindexed-writes patch).
 */
export const functionPayloadOpsByNamespace: PayloadOps<FunctionBatchPayload> = {
  ...functionPayloadOps,
  scopeOf: (payload) => payload.namespace,
};

/** True for work a new range pass could overlap: a range, or an id list cut from one. */
export function rangeBorn(payload: FunctionBatchPayload): boolean {
  return isRangePayload(payload) || payload.fromRange === true;
}

/**
 * A range batch as discovery cut it — never failed, split or delayed: the hand-over leaves it
 * behind, since its rows still match and the next run's pass finds them again.
 */
export function freshRange(b: EnvelopeBatch<FunctionBatchPayload>): boolean {
  return isRangePayload(b.payload) && b.attempts === 0 && b.splitDepth === 0 && b.notBeforeMs === undefined;
}

/** Ids of one namespace cut into batches of `batchSize`, each named by `nextBatchId()`. */
export function batchesOfIds(
  namespace: string,
  ids: readonly RowId[],
  batchSize: number,
  nextBatchId: () => string,
): BatchIn<FunctionBatchPayload>[] {
  const batches: BatchIn<FunctionBatchPayload>[] = [];
  for (let i = 0; i < ids.length; i += batchSize) {
    const chunk = ids.slice(i, i + batchSize);
    batches.push({ batchId: nextBatchId(), rows: chunk.length, payload: { namespace, ids: chunk } });
  }
  return batches;
}

/** The batches as a claim activity of an older run receives them: id lists (older runs have no ranges). */
export function claimBatches(
  batches: readonly Pick<EnvelopeBatch<FunctionBatchPayload>, 'batchId' | 'payload'>[],
): NonNullable<FunctionClaimInput['batches']> {
  return batches.map((b) => ({
    batchId: b.batchId,
    namespace: b.payload.namespace,
    ids: isRangePayload(b.payload) ? [] : b.payload.ids,
  }));
}

/** The batches as a current claim activity receives them: ranges chained, ids once (docs/adr/0100). */
export function claimInputParts(
  batches: readonly Pick<EnvelopeBatch<FunctionBatchPayload>, 'batchId' | 'rows' | 'payload'>[],
): NonNullable<FunctionClaimInput['parts']> {
  return claimParts(batches);
}

/** The namespaces a claim's batches read, in first-seen order. */
export function namespacesOf(batches: readonly { payload: FunctionBatchPayload }[]): string[] {
  return [...new Set(batches.map((b) => b.payload.namespace))];
}

/**
 * The rows a dead letter marks: a row-scoped failure's ids, else the whole (one-row) batch. A
 * range is pinned to its ids once it fails; one that never resolved names no row, and the next
 * pass tries it again (docs/adr/0100).
 */
export function deadLetterIds(payload: FunctionBatchPayload, rowIds: readonly RowId[] | undefined): RowId[] {
  return [...(rowIds ?? (isRangePayload(payload) ? [] : payload.ids))];
}

/** Every held row of an id list (waiting or out), to drop from a discovery page of ids. */
export function heldRowKeys(payloads: readonly FunctionBatchPayload[]): Set<string> {
  return new Set(
    payloads.flatMap((p) => (isRangePayload(p) ? [] : p.ids.map((id) => idKey(p.namespace, id)))),
  );
}
