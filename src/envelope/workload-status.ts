// What the Function and Pipeline statuses share: the degraded block and its line in the Temporal
// UI, read from the envelope. Pure and sandbox-safe: the workflows call it, unit tables test it.
import type { DegradedStatus } from '../contracts/envelope-state.js';
import { failureKind } from '../../packages/worker/src/contracts/failures.js';
import type { BatchEnvelope } from './batch-envelope.js';

/** What a status reads from the envelope (a BatchEnvelope, or a plain object in a test). */
export type EnvelopeView<P> = Pick<
  BatchEnvelope<P>,
  'state' | 'degraded' | 'claimsInFlight' | 'batchesInFlight' | 'rowsInFlight' | 'waitingRows'
>;

/** The status field of a degraded workload (absent when dispatch is not held back). */
export function degradedStatus(envelope: Pick<EnvelopeView<unknown>, 'degraded'>): {
  degraded?: DegradedStatus;
} {
  const d = envelope.degraded;
  if (!d) return {};
  return {
    degraded: {
      reason: d.reason,
      ...(d.scope !== undefined ? { namespace: d.scope } : {}),
      message: d.message,
      hint: failureKind(d.reason).hint,
      since: new Date(d.sinceMs).toISOString(),
      retryAt: new Date(d.retryAtMs).toISOString(),
    },
  };
}

/** The Temporal UI line of a degraded workload. */
export function degradedLines(d: DegradedStatus | undefined): string[] {
  return d
    ? [
        `- **degraded: ${d.reason}**${d.namespace !== undefined ? ` (ns ${d.namespace} only)` : ''} since ${d.since}, next try ${d.retryAt}: ${d.message} — ${d.hint}`,
      ]
    : [];
}
