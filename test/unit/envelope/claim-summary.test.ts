// The lines a person reads in the Temporal UI for a claim activity and a reconcile workflow: the
// work first, then how it is cut (docs/adr/0065).
import { describe, expect, it } from 'vitest';
import { claimSummary } from '../../../src/envelope/claim-shell.js';
import type { Claim } from '../../../src/envelope/batch-envelope.js';
import { reconcileSummary } from '../../../src/operator/reconcile-start.js';

const claim = (batches: number, probe?: boolean): Claim<unknown> => ({
  claimId: '01a22e60-c7',
  batches: Array.from({ length: batches }, (_, i) => ({ batchId: `b${i}`, rows: 8, payload: {} })) as never,
  sinceMs: 0,
  ...(probe ? { probe } : {}),
});

describe('claimSummary', () => {
  it.each([
    [claim(1), '8 rows from ns products', '8 rows from ns products in 1 batch · claim 01a22e60-c7'],
    [claim(3), '24 rows from ns products', '24 rows from ns products in 3 batches · claim 01a22e60-c7'],
    [
      claim(1, true),
      '8 rows from ns products',
      '8 rows from ns products in 1 batch · claim 01a22e60-c7 (probe after failures)',
    ],
  ])('%# → %s', (c, what, line) => {
    expect(claimSummary(c, what)).toBe(line);
  });
});

describe('reconcileSummary', () => {
  it.each([
    [{ kind: 'Function', namespace: 'shop', name: 'tag' }, 'Reconcile Function shop/tag'],
    [{ kind: 'InfraRules', name: 'default' }, 'Reconcile InfraRules default'],
  ] as const)('%j → %s', (ref, line) => {
    expect(reconcileSummary(ref)).toBe(line);
  });
});
