// One owner per output attribute in local mode (docs/adr/0070-output-ownership.md, ADR 0087).
// Without Kubernetes the applied Functions are the running Function workflows: this module reads
// them from Temporal (visibility by LayerKind='Function' on the orchestrator's task queue, then
// each one's output attribute from its status query) and applies the operator's own rule,
// `outputConflict`, so `layer apply` refuses what the operator would.
import type { Client, Connection } from '@temporalio/client';
import { statusQuery, type FunctionRuntimeSpec } from '../contracts/function.js';
import { functionWorkflowId } from '../../packages/worker/src/contracts/names.js';
import {
  LayerK8sNamespaceKey,
  LayerNameKey,
  LayerTargetNamespaceKey,
} from '../contracts/search-attributes.js';
import { conflictMessage, outputConflict, type OutputClaim } from '../operator/output-ownership.js';
import { LayerError } from '../../packages/worker/src/util/errors.js';

/** How long reading one running Function's output attribute may take. */
const READ_CLAIM_TIMEOUT_MS = 5_000;

/** `Function ns/name → attribute@version`: the static summary every Function workflow starts with. */
const SUMMARY_RE = /→ (.+)@[^@]*$/;

/**
 * Output claims of the Function workflows running on `taskQueue` (the orchestrator that holds
 * this store's configuration; Functions on another queue are another deployment's). Workflows
 * whose attribute cannot be read (no answer within 5 s and no summary) are skipped.
 */
export async function runningOutputClaims(
  client: Client,
  connection: Connection,
  taskQueue: string,
): Promise<OutputClaim[]> {
  const claims: OutputClaim[] = [];
  const query = `LayerKind = 'Function' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  for await (const wf of client.workflow.list({ query })) {
    const namespace = wf.typedSearchAttributes.get(LayerK8sNamespaceKey);
    const name = wf.typedSearchAttributes.get(LayerNameKey);
    if (namespace === undefined || name === undefined) continue;
    const handle = client.workflow.getHandle(wf.workflowId);
    const attribute = await connection
      .withDeadline(Date.now() + READ_CLAIM_TIMEOUT_MS, () => handle.query(statusQuery))
      .then((s) => s.outputAttribute)
      .catch(() => undefined)
      .then(
        async (a) =>
          a ??
          // A workflow started before the status carried its attribute: its start summary has it.
          (await handle
            .describe()
            .then(async (d) => SUMMARY_RE.exec((await d.staticSummary()) ?? '')?.[1])
            .catch(() => undefined)),
      );
    if (attribute === undefined) continue;
    claims.push({
      namespace,
      name,
      creationTimestamp: wf.startTime.toISOString(),
      storeNamespaces: wf.typedSearchAttributes.get(LayerTargetNamespaceKey) ?? [],
      attribute,
    });
  }
  return claims;
}

/**
 * Refuses `spec` when an older running Function (or one applied earlier in this run) already
 * writes one of its attributes in one of its store namespaces; the message names the owner and
 * the fix. `claims` are the running Functions (this Function's own workflow included: its start
 * time is its age, so re-applying the owner is never refused).
 */
export function assertOwnsOutput(
  spec: FunctionRuntimeSpec,
  claims: readonly OutputClaim[],
  source: string,
): void {
  const self = claims.find((c) => c.namespace === spec.k8sNamespace && c.name === spec.name);
  const me: OutputClaim = {
    namespace: spec.k8sNamespace,
    name: spec.name,
    // Not running yet: it is the youngest (no timestamp sorts after every one).
    creationTimestamp: self?.creationTimestamp,
    storeNamespaces: spec.targetNamespaces,
    attribute: spec.output.attribute,
  };
  const conflict = outputConflict(me, claims);
  if (conflict === undefined) return;
  throw new LayerError(
    `${source}: Function ${spec.k8sNamespace}/${spec.name}: ${conflictMessage(me, conflict)}`,
    `change spec.output.attribute or spec.targetNamespaces, or stop the owner's workflow first ` +
      `(temporal workflow cancel --workflow-id ${functionWorkflowId(conflict.owner.namespace, conflict.owner.name)})`,
  );
}
