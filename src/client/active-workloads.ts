// Functions and Pipelines whose workflow says it is working (phase `running`: claims out or a
// discovery pass under way), from one visibility query. The KEDA push scaler reads it every
// second as a hint of which scaled-to-zero workloads may have work; it checks the queue depth
// before it tells KEDA anything, because a discovery pass that finds nothing is `running` too.
import type { Client } from '@temporalio/client';
import { LayerK8sNamespaceKey, LayerKindKey, LayerNameKey } from '../contracts/search-attributes.js';

const ACTIVE_QUERY =
  "LayerKind IN ('Function', 'Pipeline') AND LayerPhase = 'running' AND ExecutionStatus = 'Running'";

/** `kind/namespace/name` of every running Function and Pipeline workflow in phase `running`. */
export async function activeWorkloadKeys(client: Client): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const wf of client.workflow.list({ query: ACTIVE_QUERY, pageSize: 1000 })) {
    const kind = wf.typedSearchAttributes.get(LayerKindKey);
    const namespace = wf.typedSearchAttributes.get(LayerK8sNamespaceKey);
    const name = wf.typedSearchAttributes.get(LayerNameKey);
    if (kind && namespace !== undefined && name !== undefined) keys.add(`${kind}/${namespace}/${name}`);
  }
  return keys;
}
