// Which reconcile passes run first: a resync re-signals every resource at once, and a change made
// meanwhile must not queue behind those passes (ADR 0135).
import { describe, expect, it } from 'vitest';
import { RESYNC_REASON } from '../../../src/contracts/reconcile.js';
import {
  CHANGE_PRIORITY_KEY,
  moreUrgentReason,
  passPriorityKey,
  RESYNC_PRIORITY_KEY,
} from '../../../src/operator/watch-rules.js';

describe('passPriorityKey', () => {
  it.each([
    [RESYNC_REASON, RESYNC_PRIORITY_KEY],
    ['Function add', CHANGE_PRIORITY_KEY],
    ['owned object delete', CHANGE_PRIORITY_KEY],
    ['InfraRules/default changed', CHANGE_PRIORITY_KEY],
  ])('%s → %i', (reason, key) => expect(passPriorityKey(reason)).toBe(key));

  it('runs a change before a resync (Temporal: a lower key is served first), both within 1..5', () => {
    expect(CHANGE_PRIORITY_KEY).toBeLessThan(RESYNC_PRIORITY_KEY);
    for (const key of [CHANGE_PRIORITY_KEY, RESYNC_PRIORITY_KEY]) {
      expect(key).toBeGreaterThanOrEqual(1);
      expect(key).toBeLessThanOrEqual(5);
    }
  });
});

describe('moreUrgentReason: the signal still to send for a resource keeps its most urgent reason', () => {
  it.each([
    [undefined, RESYNC_REASON, RESYNC_REASON],
    [undefined, 'Function update', 'Function update'],
    [RESYNC_REASON, 'Function update', 'Function update'],
    ['Function update', RESYNC_REASON, 'Function update'],
    ['Function update', 'owned object delete', 'Function update'],
    [RESYNC_REASON, RESYNC_REASON, RESYNC_REASON],
  ])('queued %s, then %s → %s', (queued, reason, kept) =>
    expect(moreUrgentReason(queued, reason)).toBe(kept),
  );
});
