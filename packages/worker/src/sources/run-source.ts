// The loop that drives a PipelineSource (docs/adr/0121-pipeline-sources.md): at-least-once from
// the source, exactly-once into the store. The order is the whole contract:
//
//   receive a bounded batch → submit its items to the Pipeline's workflow (the update returns
//   once the items are in workflow history: durable, idempotent by key@version) → acknowledge.
//
// A worker killed after receive and before accept never acknowledged, so the source redelivers;
// killed after accept and before acknowledge, the source redelivers items the workflow already
// holds or wrote — the workflow counts them duplicates, or the write skips them by version. While
// the Pipeline is paused or degraded, or its queue is full, the loop stops receiving: the batch in
// hand (at most one) waits, kept invisible by `extend`, and the rest stays in the source.
import { defineQuery } from '@temporalio/workflow';
import type { Client } from '@temporalio/client';
import { pipelineItemSchema, type PipelineItem, type SubmitItemsResult } from '../contracts/pipeline.js';
import { pipelineWorkflowId } from '../contracts/names.js';
import { isQueueFull, submitPipelineItems, type PipelineRef } from '../pipeline-submit.js';
import type { PipelineSource, SourceHooks, SourceMessage } from './source.js';

/** The part of the Pipeline's `pipelineStatus` answer a source loop reads. */
export interface PipelineHoldStatus {
  phase: string;
  degraded?: unknown;
}
/** The orchestrator's `pipelineStatus` query, read narrowly (src/contracts/pipeline.ts has the full shape). */
const pipelineHoldStatusQuery = defineQuery<PipelineHoldStatus>('pipelineStatus');

/**
 * Why a source must not receive now, or undefined. Paused: the operator or a person asked; degraded:
 * the workflow is shedding load (store backpressure, failing claims) and more items only queue up.
 */
export function holdReason(status: PipelineHoldStatus | undefined): string | undefined {
  if (!status) return undefined;
  if (status.phase === 'paused') return 'paused';
  if (status.phase === 'degraded' || status.degraded !== undefined) return 'degraded';
  return undefined;
}

export interface RunSourceOptions {
  /** Resolves once the Pipeline durably holds the items; throws the typed QueueFull when full. */
  submit(items: PipelineItem[]): Promise<unknown>;
  /** The Pipeline's status, for holdReason (undefined: do not hold). */
  status?(): Promise<PipelineHoldStatus | undefined>;
  /** Items per receive (the Pipeline's batch size). */
  batchSize: number;
  signal: AbortSignal;
  /** How often a holding loop looks again, and how long a status answer is reused (default 1 s). */
  holdPollMs?: number;
  hooks?: SourceHooks;
  log?: (line: string) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Submits until accepted: a full queue is waited out (receiving stays stopped), an abort gives up. */
async function submitUntilAccepted(
  items: PipelineItem[],
  opts: RunSourceOptions,
): Promise<'accepted' | 'aborted'> {
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    if (opts.signal.aborted) return 'aborted';
    try {
      await opts.submit(items);
      return 'accepted';
    } catch (err) {
      if (!isQueueFull(err)) throw err;
      opts.hooks?.holding?.('queue full');
      await sleep(delay, opts.signal);
    }
  }
}

/** While `messages` are in flight, calls source.extend every extendEveryMs. */
function keepInvisible(source: PipelineSource, messages: SourceMessage[], log?: (l: string) => void) {
  if (!source.extend || !source.extendEveryMs) return () => undefined;
  const timer = setInterval(() => {
    source.extend!(messages).catch((err: unknown) =>
      log?.(`extending ${source.kind} messages: ${String(err)}`),
    );
  }, source.extendEveryMs);
  return () => clearInterval(timer);
}

/**
 * Runs `source` until `signal` aborts: receive → submit → acknowledge, one bounded batch at a time.
 * Throws when the source or a submission fails for a reason other than a full queue; the caller
 * stops the worker (un-acknowledged messages come back to the next one).
 */
export async function runSource(source: PipelineSource, opts: RunSourceOptions): Promise<void> {
  const pollMs = opts.holdPollMs ?? 1_000;
  let cached: { at: number; status: PipelineHoldStatus | undefined } | undefined;
  const currentHold = async () => {
    if (!opts.status) return undefined;
    if (!cached || Date.now() - cached.at >= pollMs) cached = { at: Date.now(), status: await opts.status() };
    return holdReason(cached.status);
  };
  while (!opts.signal.aborted) {
    const hold = await currentHold();
    if (hold) {
      opts.hooks?.holding?.(hold);
      await sleep(pollMs, opts.signal);
      continue;
    }
    const messages = await source.receive(opts.batchSize, opts.signal);
    if (messages.length === 0) continue;
    await opts.hooks?.received?.(messages);
    const valid: SourceMessage[] = [];
    const invalid: SourceMessage[] = [];
    for (const m of messages) {
      const parsed = m.item && !m.invalid ? pipelineItemSchema.safeParse(m.item) : undefined;
      if (parsed?.success) valid.push({ ...m, item: parsed.data });
      else invalid.push({ ...m, invalid: m.invalid ?? parsed?.error.issues[0]?.message ?? 'no item' });
    }
    if (invalid.length) {
      opts.log?.(`${source.kind}: ${invalid.length} message(s) are not items: ${invalid[0]!.invalid}`);
      await source.reject?.(invalid);
    }
    if (valid.length === 0) continue;
    const stop = keepInvisible(source, valid, opts.log);
    let outcome: 'accepted' | 'aborted';
    try {
      outcome = await submitUntilAccepted(
        valid.map((m) => m.item!),
        opts,
      );
    } finally {
      stop();
    }
    if (outcome === 'aborted') {
      // Never acknowledged: hand them back so the next worker need not wait out a timeout.
      await source.release?.(valid).catch(() => undefined);
      break;
    }
    await opts.hooks?.accepted?.(valid);
    await source.ack(valid);
    await opts.hooks?.acknowledged?.(valid);
  }
}

/** The Pipeline's workflow as a submit/status pair for runSource. */
export function pipelineSink(
  client: Client,
  ref: PipelineRef,
): { submit(items: PipelineItem[]): Promise<SubmitItemsResult>; status(): Promise<PipelineHoldStatus> } {
  return {
    // No retry here: runSource waits out a full queue itself, with receiving stopped.
    submit: (items) => submitPipelineItems(client, ref, items, { deadlineMs: 0 }),
    status: () =>
      client.workflow
        .getHandle(pipelineWorkflowId(ref.k8sNamespace, ref.name))
        .query(pipelineHoldStatusQuery),
  };
}
