// The claim specs a Function workflow answers for (docs/adr/0100): a claim carries its spec's
// fingerprint, its worker asks the workflow once per fingerprint (the claimSpec query), and the
// workflow knows every spec an in-flight claim uses — the canary's side spec too — forgetting one
// when its last claim ends. Pure, sandbox-safe.
import {
  claimSpecFingerprint,
  type FunctionClaimSpec,
} from '../../packages/worker/src/contracts/function.js';

export class ClaimSpecs {
  private readonly specs = new Map<string, { spec: FunctionClaimSpec; claims: Set<string> }>();
  private readonly byClaim = new Map<string, string>();

  /** Holds `spec` for the claim `claimId` and returns its fingerprint. */
  hold(claimId: string, spec: FunctionClaimSpec): string {
    const fingerprint = claimSpecFingerprint(spec);
    const known = this.specs.get(fingerprint);
    if (known) known.claims.add(claimId);
    else this.specs.set(fingerprint, { spec, claims: new Set([claimId]) });
    this.byClaim.set(claimId, fingerprint);
    return fingerprint;
  }

  /** The claim ended: its spec is forgotten with the last claim that uses it. */
  release(claimId: string): void {
    const fingerprint = this.byClaim.get(claimId);
    if (fingerprint === undefined) return;
    this.byClaim.delete(claimId);
    const known = this.specs.get(fingerprint);
    known?.claims.delete(claimId);
    if (known && known.claims.size === 0) this.specs.delete(fingerprint);
  }

  /** The answer to a worker: the spec, or null when no claim in flight uses that fingerprint. */
  get(fingerprint: string): FunctionClaimSpec | null {
    return this.specs.get(fingerprint)?.spec ?? null;
  }

  get size(): number {
    return this.specs.size;
  }
}
