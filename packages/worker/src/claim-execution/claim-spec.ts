// A claim carries its Function's spec by fingerprint (docs/adr/0100): the worker asks the workflow
// that scheduled it once per fingerprint (the claimSpec query) and keeps the answer, so a spec
// reaches history once per change instead of once per claim.
import type { Client } from '@temporalio/client';
import {
  claimSpecFingerprint,
  claimSpecQuery,
  type FunctionClaimInput,
  type FunctionClaimSpec,
} from '../contracts/function.js';

/** Asks a workflow for the spec of one of its claims (null: not the spec of any claim it runs). */
export type ClaimSpecLookup = (workflowId: string, fingerprint: string) => Promise<FunctionClaimSpec | null>;

/** Specs kept per process: a few per Function the worker serves. */
const MAX_CACHED_SPECS = 256;

/** The lookup over a Temporal client (the activity Context's, pull or push). */
export function claimSpecLookupVia(client: Client): ClaimSpecLookup {
  return (workflowId, fingerprint) =>
    client.workflow.getHandle(workflowId).query(claimSpecQuery, fingerprint);
}

export class ClaimSpecCache {
  private readonly specs = new Map<string, Promise<FunctionClaimSpec>>();

  constructor(private readonly max = MAX_CACHED_SPECS) {}

  /** The claim with its spec: inline (older orchestrators) or fetched once per fingerprint. */
  async resolve(
    input: FunctionClaimInput,
    workflowId: string | undefined,
    lookup: ClaimSpecLookup | undefined,
  ): Promise<FunctionClaimInput & { spec: FunctionClaimSpec }> {
    if (input.spec) return { ...input, spec: input.spec };
    const fingerprint = input.specFingerprint;
    if (!fingerprint) throw new Error(`claim ${input.claimId} carries neither spec nor specFingerprint`);
    if (!workflowId || !lookup)
      throw new Error(
        `claim ${input.claimId} carries its spec by fingerprint; run it as an activity (its workflow answers the claimSpec query)`,
      );
    const key = `${workflowId}\u0000${fingerprint}`;
    let spec = this.specs.get(key);
    if (spec) {
      // Most recently used last: the oldest entry goes first when the cache is full.
      this.specs.delete(key);
      this.specs.set(key, spec);
    } else {
      spec = lookup(workflowId, fingerprint).then((answer) => {
        if (!answer)
          throw new Error(
            `workflow ${workflowId} knows no claim spec ${fingerprint}: the claim ${input.claimId} is no longer one it runs`,
          );
        // The spec is the one the claim was cut for, or it is not run at all.
        if (claimSpecFingerprint(answer) !== fingerprint)
          throw new Error(`workflow ${workflowId} answered a spec whose fingerprint is not ${fingerprint}`);
        return answer;
      });
      this.specs.set(key, spec);
      // A failed lookup is asked again by the next claim (the workflow may have been busy).
      spec.catch(() => {
        if (this.specs.get(key) === spec) this.specs.delete(key);
      });
      while (this.specs.size > this.max) this.specs.delete(this.specs.keys().next().value!);
    }
    return { ...input, spec: await spec };
  }
}
