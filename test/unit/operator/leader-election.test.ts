// Who acts on a Lease (pure): create it, renew it, take it when free or expired, or wait.
import { describe, expect, it } from 'vitest';
import { leaseDecision } from '../../../src/operator/leader-election.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const lease = (
  holderIdentity: string | undefined,
  renewedSecondsAgo?: number,
  leaseDurationSeconds = 15,
) => ({
  spec: {
    ...(holderIdentity !== undefined ? { holderIdentity } : {}),
    leaseDurationSeconds,
    ...(renewedSecondsAgo !== undefined ? { renewTime: new Date(NOW - renewedSecondsAgo * 1000) } : {}),
  },
});

describe('leaseDecision', () => {
  it.each([
    { row: 'no Lease yet', lease: undefined, want: 'create' },
    { row: 'we hold it', lease: lease('me', 3), want: 'renew' },
    { row: 'we hold it, even past its duration', lease: lease('me', 60), want: 'renew' },
    { row: 'another holds a fresh one', lease: lease('other', 3), want: 'wait' },
    { row: 'another holds it at the edge', lease: lease('other', 14.9), want: 'wait' },
    { row: 'another stopped renewing', lease: lease('other', 15), want: 'acquire' },
    { row: 'released (empty holder)', lease: lease('', 1, 1), want: 'acquire' },
    { row: 'never renewed', lease: lease('other'), want: 'acquire' },
    { row: 'a longer duration is honoured', lease: lease('other', 20, 30), want: 'wait' },
  ] as const)('$row → $want', ({ lease: l, want }) => {
    expect(leaseDecision(l, 'me', NOW, 15_000)).toBe(want);
  });
});
