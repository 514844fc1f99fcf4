// The chaos run's handler call log: rows computed again at the same version are what it counts.
import { describe, expect, it } from 'vitest';
import { countHandlerCalls } from '../../../chaos/call-log.js';

describe('countHandlerCalls', () => {
  it.each([
    { row: 'each row once', lines: ['ns v1 1,2,3', 'ns v1 4'], want: { calls: 4, duplicates: 0 } },
    // A row computed at v1 and again at v2 is the spec change, not a duplicate.
    {
      row: 'a new version is new work',
      lines: ['ns v1 1,2', 'ns v2 1,2'],
      want: { calls: 4, duplicates: 0 },
    },
    {
      row: 'a row computed twice at one version',
      lines: ['ns v1 1,2', 'ns v1 2,3'],
      want: { calls: 4, duplicates: 1 },
    },
    // Another phase's namespace and blank or torn lines are not counted.
    {
      row: 'other namespaces and blank lines',
      lines: ['other v1 1,2', '', 'ns v1'],
      want: { calls: 0, duplicates: 0 },
    },
  ])('$row', ({ lines, want }) => {
    expect(countHandlerCalls(lines, 'ns')).toEqual(want);
  });
});
