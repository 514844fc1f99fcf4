// Functions and Pipelines with queued work, from one visibility list: the workflows in phase
// `running` (claims out or a discovery pass under way) whose memo summary (docs/adr/0127) shows a
// queue depth above 0 — a discovery pass that finds nothing is `running` too. The KEDA push
// scaler reads it every second; one list answers for the whole fleet, with no call per workload.
import type { Client } from '@temporalio/client';
import { engineSummaryFromMemo } from '../contracts/engine-summary.js';
import { LayerK8sNamespaceKey, LayerKindKey, LayerNameKey } from '../contracts/search-attributes.js';

const RUNNING_QUERY =
  "LayerKind IN ('Function', 'Pipeline') AND LayerPhase = 'running' AND ExecutionStatus = 'Running'";

/** `kind/namespace/name` of every Function and Pipeline whose summary shows queued work. */
export async function queuedWorkloadKeys(client: Client): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const wf of client.workflow.list({ query: RUNNING_QUERY, pageSize: 1000 })) {
    if ((engineSummaryFromMemo(wf.memo)?.queueDepth ?? 0) === 0) continue;
    const kind = wf.typedSearchAttributes.get(LayerKindKey);
    const namespace = wf.typedSearchAttributes.get(LayerK8sNamespaceKey);
    const name = wf.typedSearchAttributes.get(LayerNameKey);
    if (kind && namespace !== undefined && name !== undefined) keys.add(`${kind}/${namespace}/${name}`);
  }
  return keys;
}
