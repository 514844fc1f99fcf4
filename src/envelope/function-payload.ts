// A Function batch's payload — the ids of one store namespace — and everything that knows its
// shape: how ids are cut into batches, how a batch splits in halves, what a claim activity
// receives, which rows a dead letter marks, and how held work is recognised so discovery does
// not find it twice. The workflow and its claim adapter go through these and nothing else, so a
// different payload (id ranges) changes this module and the adapter only. Pure, sandbox-safe.
import type { FunctionBatchPayload, FunctionClaimInput, RowId } from '../contracts/function.js';
import type { BatchIn, EnvelopeBatch, PayloadOps } from './batch-envelope.js';

/** A row's identity among held work: namespace and id, typed (1 and "1" are different rows). */
export function idKey(namespace: string, id: RowId): string {
  return `${namespace}\u0000${typeof id}:${id}`;
}

/** Splits a Function batch payload in halves (the envelope isolates failing rows this way). */
export const functionPayloadOps: PayloadOps<FunctionBatchPayload> = {
  split(payload) {
    const mid = Math.ceil(payload.ids.length / 2);
    return [
      { namespace: payload.namespace, ids: payload.ids.slice(0, mid) },
      { namespace: payload.namespace, ids: payload.ids.slice(mid) },
    ];
  },
};

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

/** The batches as the claim activity receives them. */
export function claimBatches(
  batches: readonly Pick<EnvelopeBatch<FunctionBatchPayload>, 'batchId' | 'payload'>[],
): FunctionClaimInput['batches'] {
  return batches.map((b) => ({ batchId: b.batchId, namespace: b.payload.namespace, ids: b.payload.ids }));
}

/** The namespaces a claim's batches read, in first-seen order. */
export function namespacesOf(batches: readonly { payload: FunctionBatchPayload }[]): string[] {
  return [...new Set(batches.map((b) => b.payload.namespace))];
}

/** The rows a dead letter marks: a row-scoped failure's ids, else the whole (one-row) batch. */
export function deadLetterIds(payload: FunctionBatchPayload, rowIds: readonly RowId[] | undefined): RowId[] {
  return [...(rowIds ?? payload.ids)];
}

/** Every held row (waiting or out), to drop from a discovery page. */
export function heldRowKeys(payloads: readonly FunctionBatchPayload[]): Set<string> {
  return new Set(payloads.flatMap((p) => p.ids.map((id) => idKey(p.namespace, id))));
}
