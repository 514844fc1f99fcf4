// Which reconcile passes run first: an edit of the resource itself, then what follows from others
// (controllers' status, fan-out), then the periodic resync, which re-signals every resource at
// once (ADR 0135).
import { describe, expect, it } from 'vitest';
import { RESYNC_REASON } from '../../../src/contracts/reconcile.js';
import {
  CHANGE_PRIORITY_KEY,
  EDIT_PRIORITY_KEY,
  editReason,
  moreUrgentReason,
  passPriorityKey,
  RESYNC_PRIORITY_KEY,
} from '../../../src/operator/watch-rules.js';

describe('passPriorityKey', () => {
  it.each([
    [RESYNC_REASON, RESYNC_PRIORITY_KEY],
    [editReason('Function', 'add'), EDIT_PRIORITY_KEY],
    [editReason('Function', 'update'), EDIT_PRIORITY_KEY],
    [editReason('Pipeline', 'delete'), EDIT_PRIORITY_KEY],
    [editReason('InfraRules', 'update'), EDIT_PRIORITY_KEY],
    ['owned object update', CHANGE_PRIORITY_KEY],
    ['worker pod delete', CHANGE_PRIORITY_KEY],
    ['InfraRules/default changed', CHANGE_PRIORITY_KEY],
    ['a Function writing its output changed', CHANGE_PRIORITY_KEY],
    ['Index changed', CHANGE_PRIORITY_KEY],
    ['Function updated by hand', CHANGE_PRIORITY_KEY],
  ])('%s → %i', (reason, key) => expect(passPriorityKey(reason)).toBe(key));

  it('orders edit < change < resync (Temporal serves a lower key first), all within 1..5', () => {
    expect(EDIT_PRIORITY_KEY).toBeLessThan(CHANGE_PRIORITY_KEY);
    expect(CHANGE_PRIORITY_KEY).toBeLessThan(RESYNC_PRIORITY_KEY);
    for (const key of [EDIT_PRIORITY_KEY, CHANGE_PRIORITY_KEY, RESYNC_PRIORITY_KEY]) {
      expect(key).toBeGreaterThanOrEqual(1);
      expect(key).toBeLessThanOrEqual(5);
    }
  });
});

describe('moreUrgentReason: the signal still to send for a resource keeps its most urgent reason', () => {
  const edit = editReason('Function', 'update');
  it.each([
    [undefined, RESYNC_REASON, RESYNC_REASON],
    [undefined, edit, edit],
    [RESYNC_REASON, edit, edit],
    [edit, RESYNC_REASON, edit],
    ['owned object delete', edit, edit],
    [edit, 'owned object delete', edit],
    [RESYNC_REASON, 'owned object delete', 'owned object delete'],
    [RESYNC_REASON, RESYNC_REASON, RESYNC_REASON],
  ])('queued %s, then %s → %s', (queued, reason, kept) =>
    expect(moreUrgentReason(queued, reason)).toBe(kept),
  );
});
