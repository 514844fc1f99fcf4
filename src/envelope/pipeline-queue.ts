// A Pipeline's durable queue as a pure state machine: items not yet cut into a batch (FIFO), the
// identities recently finished, and the rules that keep them straight — an item is idempotent
// by `key@version`, a newer version of a queued key replaces the older one, and two versions of
// one key are never held at once (docs/adr/0030). Plain JSON across continue-as-new. Sandbox-safe.
import {
  itemIdentity,
  type ItemState,
  type QueuedItem,
} from '../../packages/worker/src/contracts/pipeline.js';
import {
  DEAD_LETTER_LIMIT,
  type PipelineBatchPayload,
  type PipelineCarriedState,
  type PipelineDeadLetter,
} from '../contracts/pipeline.js';
import type { BatchIn, EnvelopeState, PayloadOps } from './batch-envelope.js';

/** Finished identities remembered (status of recent items, cheap duplicate detection). */
export const RECENT_LIMIT = 2_000;

/** Splits a Pipeline batch's items in halves (the envelope isolates a failing item this way). */
export const pipelinePayloadOps: PayloadOps<PipelineBatchPayload> = {
  split(p) {
    const mid = Math.ceil(p.items.length / 2);
    return [{ items: p.items.slice(0, mid) }, { items: p.items.slice(mid) }];
  },
};

/** Items cut into batches: waiting in the envelope, or out in a claim. */
export function heldItems(
  envelope: Pick<EnvelopeState<PipelineBatchPayload>, 'waiting' | 'claims'>,
  where: 'waiting' | 'out',
): QueuedItem[] {
  const batches = where === 'waiting' ? envelope.waiting : envelope.claims.flatMap((c) => c.batches);
  return batches.flatMap((b) => b.payload.items);
}

/** Identities cut into batches (waiting or out): built once per message, not per item. */
export function heldIdentities(
  envelope: Pick<EnvelopeState<PipelineBatchPayload>, 'waiting' | 'claims'>,
): Set<string> {
  return new Set([...heldItems(envelope, 'waiting'), ...heldItems(envelope, 'out')].map(itemIdentity));
}

/** The dead letters of a batch given up on, appended to `kept` and bounded to DEAD_LETTER_LIMIT. */
export function withDeadLetters(
  kept: readonly PipelineDeadLetter[],
  items: readonly QueuedItem[],
  failure: { type: string; message: string },
  attempts: number,
  nowIso: string,
): PipelineDeadLetter[] {
  const added = items.map((item) => ({
    key: item.key,
    version: item.version,
    type: failure.type,
    message: failure.message.slice(0, 2000),
    attempts,
    at: nowIso,
  }));
  return [...kept, ...added].slice(-DEAD_LETTER_LIMIT);
}

export class PipelineQueue {
  /** FIFO of items not yet cut into a batch. */
  pending: QueuedItem[];
  private readonly pendingIds: Set<string>;
  private readonly recent: Map<string, 'done' | 'failed'>;
  private batchSeq = 0;

  constructor(
    carried: Pick<PipelineCarriedState, 'pending' | 'recent'>,
    /** Names batches `${batchPrefix}-${n}` (the workflow passes its run id prefix). */
    private readonly batchPrefix: string,
  ) {
    this.pending = carried.pending;
    this.pendingIds = new Set(this.pending.map(itemIdentity));
    this.recent = new Map(carried.recent);
  }

  /** A finished identity, newest last; the oldest are forgotten beyond RECENT_LIMIT. */
  remember(id: string, how: 'done' | 'failed'): void {
    this.recent.delete(id);
    this.recent.set(id, how);
    while (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Queues an item unless the same identity is queued, cut, out (`held`) or just done. */
  enqueue(item: QueuedItem, held: ReadonlySet<string>): boolean {
    const id = itemIdentity(item);
    if (this.pendingIds.has(id) || held.has(id) || this.recent.get(id) === 'done') return false;
    // A newer version of a queued key replaces the queued one (never both in the queue).
    const older = this.pending.findIndex((p) => p.key === item.key);
    if (older >= 0) {
      this.pendingIds.delete(itemIdentity(this.pending[older]!));
      this.pending.splice(older, 1);
    }
    this.recent.delete(id);
    this.pending.push(item);
    this.pendingIds.add(id);
    return true;
  }

  /** Where each identity is: out in a claim, pending (queued or cut), or recently finished. */
  states(
    ids: readonly string[],
    out: ReadonlySet<string>,
    waiting: ReadonlySet<string>,
  ): Record<string, ItemState> {
    const result: Record<string, ItemState> = {};
    for (const id of ids)
      result[id] = out.has(id)
        ? 'inFlight'
        : this.pendingIds.has(id) || waiting.has(id)
          ? 'pending'
          : (this.recent.get(id) ?? 'unknown');
    return result;
  }

  /**
   * Cuts pending items into batches of up to `batchSize` until `room` batches wait (counting the
   * `waiting` ones): no key twice among what is held (`held()` is read only when there is work).
   */
  cut(opts: {
    waiting: number;
    room: number;
    batchSize: number;
    held: () => readonly QueuedItem[];
  }): BatchIn<PipelineBatchPayload>[] {
    const out: BatchIn<PipelineBatchPayload>[] = [];
    // Nothing to cut: skip building the held keys (this runs on every loop iteration).
    if (this.pending.length === 0 || opts.waiting >= opts.room) return out;
    const heldKeys = new Set(opts.held().map((i) => i.key));
    while (opts.waiting + out.length < opts.room && this.pending.length > 0) {
      const items: QueuedItem[] = [];
      const rest: QueuedItem[] = [];
      for (const item of this.pending) {
        if (items.length < opts.batchSize && !heldKeys.has(item.key)) {
          items.push(item);
          heldKeys.add(item.key);
        } else rest.push(item);
      }
      if (items.length === 0) break;
      this.pending = rest;
      for (const i of items) this.pendingIds.delete(itemIdentity(i));
      this.batchSeq += 1;
      out.push({ batchId: `${this.batchPrefix}-${this.batchSeq}`, rows: items.length, payload: { items } });
    }
    return out;
  }

  /** What crosses continue-as-new. */
  carried(): Pick<PipelineCarriedState, 'pending' | 'recent'> {
    return { pending: this.pending, recent: [...this.recent.entries()] };
  }
}
