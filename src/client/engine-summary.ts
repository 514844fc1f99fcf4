// Reading a workload workflow's summary from its memo (docs/adr/0127): one describe, answered by
// the server from its own record — no workflow task, so no replay of an evicted workflow and no
// wait behind a busy orchestrator worker. The same for every kind.
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { engineSummaryFromMemo, type EngineSummary } from '../contracts/engine-summary.js';

/** No workflow runs; or it runs, with its summary (absent for a run started before the summary). */
export type EngineSummaryRead = { running: false } | { running: true; summary: EngineSummary | undefined };

export async function readEngineSummary(handle: WorkflowHandle): Promise<EngineSummaryRead> {
  try {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return { running: false };
    return { running: true, summary: engineSummaryFromMemo(described.memo) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { running: false };
    throw err;
  }
}

/**
 * `pick` of the workflow's summary; for a run started before the summary existed, what `status`
 * (a status query) answers. Undefined when no workflow runs.
 */
export async function fromEngineSummary<T>(
  handle: WorkflowHandle,
  pick: (summary: EngineSummary) => T,
  status: () => Promise<T>,
): Promise<T | undefined> {
  const read = await readEngineSummary(handle);
  if (!read.running) return undefined;
  if (read.summary) return pick(read.summary);
  try {
    return await status();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
