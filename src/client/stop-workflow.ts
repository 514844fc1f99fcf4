// Stopping a workload's workflow, the same for every kind: cancellation lets in-flight batches
// finish their writeback or be abandoned cleanly.
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';

/** Cancel the workflow if it is running. False when none was (never started, or already closed). */
export async function cancelIfRunning(handle: () => WorkflowHandle): Promise<boolean> {
  try {
    const h = handle();
    const desc = await h.describe();
    if (desc.status.name !== 'RUNNING') return false;
    await h.cancel();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
