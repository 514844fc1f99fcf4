// Passes counted from recorded reconcile histories: a local activity's marker since ADR 0129, a
// scheduled activity before it; nothing else (patch markers, the workflow's own events) counts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isReconcilePass } from '../../../src/client/reconcile-history.js';
import { historyFromJSON } from '../../helpers/history-json.js';

const events = (file: string) =>
  historyFromJSON(
    JSON.parse(readFileSync(new URL(`../../replay/histories/${file}`, import.meta.url), 'utf8')),
  ).events ?? [];

describe('isReconcilePass', () => {
  it.each([
    ['reconcile-function-local-pass-1.json', 'a local activity (ADR 0129)'],
    ['reconcile-function-pass-1.json', 'an activity (before it)'],
  ])('counts the one pass of %s, %s', (file) => {
    expect(events(file).filter(isReconcilePass)).toHaveLength(1);
  });

  it('does not count a local activity of another type or a patch marker', () => {
    const local = events('reconcile-function-local-pass-1.json');
    const marker = local.find(isReconcilePass)!;
    const other = structuredClone(marker);
    const data = other.markerRecordedEventAttributes!.details!.data!.payloads![0]!;
    const parsed = JSON.parse(Buffer.from(data.data!).toString('utf8')) as Record<string, unknown>;
    data.data = Buffer.from(JSON.stringify({ ...parsed, activity_type: 'somethingElse' }));
    expect(isReconcilePass(other)).toBe(false);
    const patchMarkers = local.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patchMarkers.length).toBeGreaterThan(0);
    expect(patchMarkers.some(isReconcilePass)).toBe(false);
  });
});
