// What a Pipeline worker sends its workflow: submitted items and the query of their states. The
// orchestrator's pipeline client re-exports these, so the CLI, the API and workers submit alike.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pipelineWorkflowId } from './contracts/names.js';
import { FailureType } from './contracts/failures.js';
import {
  itemStatesQuery,
  submitItemsUpdate,
  type ItemState,
  type PipelineItem,
  type SubmitItemsResult,
} from './contracts/pipeline.js';

/** A Pipeline by its Kubernetes namespace and name. */
export interface PipelineRef {
  k8sNamespace: string;
  name: string;
}

function handleOf(client: Client, ref: PipelineRef): WorkflowHandle {
  return client.workflow.getHandle(pipelineWorkflowId(ref.k8sNamespace, ref.name));
}

/**
 * Submits items (idempotent by key and version: a repeated item is counted as a duplicate).
 * Large lists go in several updates, up to `concurrency` at once when no key repeats across the
 * list (a key's versions must arrive in order); a full queue is retried with backoff until
 * `deadlineMs`.
 */
export async function submitPipelineItems(
  client: Client,
  ref: PipelineRef,
  items: PipelineItem[],
  options: { chunkSize?: number; deadlineMs?: number; concurrency?: number } = {},
): Promise<SubmitItemsResult> {
  const handle = handleOf(client, ref);
  const size = options.chunkSize ?? 500;
  const deadline = Date.now() + (options.deadlineMs ?? 10 * 60_000);
  const total: SubmitItemsResult = { accepted: 0, duplicates: 0 };
  const parts: PipelineItem[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  const keysUnique = new Set(items.map((i) => i.key)).size === items.length;
  const lanes = keysUnique ? Math.max(1, options.concurrency ?? 4) : 1;
  const submitPart = async (part: PipelineItem[]) => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        const res = await handle.executeUpdate(submitItemsUpdate, { args: [part] });
        total.accepted += res.accepted;
        total.duplicates += res.duplicates;
        return;
      } catch (err) {
        if (!isQueueFull(err) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, parts.length) }, async () => {
      while (next < parts.length) await submitPart(parts[next++]!);
    }),
  );
  return total;
}

/** The workflow refused a submission because its queue is full (typed, not a message match). */
export function isQueueFull(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type === FailureType.QueueFull) return true;
  }
  return false;
}

export async function getPipelineItemStates(
  client: Client,
  ref: PipelineRef,
  identities: string[],
): Promise<Record<string, ItemState>> {
  return handleOf(client, ref).query(itemStatesQuery, identities);
}
