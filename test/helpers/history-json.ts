// History <-> JSON through the SDK's own proto utilities. Required, not imported: an ESM import
// through vite loads a second protobuf instance whose message types the SDK does not accept.
import { createRequire } from 'node:module';
import type * as ProtoUtils from '@temporalio/common/lib/proto-utils.js';
import type { Client } from '@temporalio/client';

const require = createRequire(import.meta.url);
const protoUtils = require('@temporalio/common/lib/proto-utils') as typeof ProtoUtils;

export const historyToJSON = protoUtils.historyToJSON;
export const historyFromJSON = protoUtils.historyFromJSON;

/**
 * With LAYER_RECORD_HISTORIES=1, saves every run of a workflow as test/replay/histories/<label>-<n>.json,
 * the fixtures the replay tests run against the current workflow code. A no-op otherwise.
 */
export async function recordHistories(client: Client, workflowId: string, label: string): Promise<void> {
  if (process.env.LAYER_RECORD_HISTORIES !== '1') return;
  const { writeFileSync } = await import('node:fs');
  let n = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
    n += 1;
    writeFileSync(new URL(`../replay/histories/${label}-${n}.json`, import.meta.url), historyToJSON(history));
  }
}
