// The fingerprint of a runtime spec: a stable hash of its canonical JSON (object keys sorted).
// The workflows report the fingerprint of the spec they run in their status, and the operator's
// engine compares it with the spec it wants before sending anything: an equal spec is not sent
// again (docs/adr/0020). Sandbox-safe.
import { canonicalJson, stableHash } from '../../packages/worker/src/contracts/pipeline.js';

/** Equal for specs equal as JSON values, whatever their key order. */
export function specFingerprint(spec: unknown): string {
  return stableHash(canonicalJson(spec));
}
