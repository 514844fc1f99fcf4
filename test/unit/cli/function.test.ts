// Pure parts of `layer function` and `layer operator`: flag parsing, the status text, and the
// watch's progress arithmetic.
import { describe, expect, it } from 'vitest';
import { parseFilterFlag } from '../../../src/cli/commands/function.js';
import { formatStatus, startWatch, watchProgress } from '../../../src/cli/function-status.js';
import { operatorRoles, parsePortFlag } from '../../../src/cli/commands/operator.js';
import type { FunctionStatus } from '../../../src/contracts/function.js';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';

function status(processed: number, pendingRows: number, over: Partial<FunctionStatus> = {}): FunctionStatus {
  return {
    name: 'tagger',
    k8sNamespace: 'local',
    generation: 0,
    phase: 'running',
    outputVersion: 'v1',
    targetNamespaces: ['products'],
    pendingRows,
    pendingRowsByNamespace: { products: pendingRows },
    inFlightBatches: 1,
    inFlightRows: 32,
    claimsInFlight: 1,
    inFlight: [],
    counters: {
      processed,
      superseded: 0,
      failedBatches: 0,
      retries: 0,
      deadLettered: 2,
      batches: 3,
      discoveries: 1,
    },
    rowsPerSecond: 40,
    runsSoFar: 0,
    ...over,
  };
}

describe('parseFilterFlag', () => {
  it.each([
    // Absent: replay every dead-lettered row.
    [undefined, undefined],
    // Array-form Turbopuffer filter, passed through untouched.
    ['["category","Eq","books"]', ['category', 'Eq', 'books']],
  ])('%s', (text, expected) => {
    expect(parseFilterFlag(text)).toEqual(expected);
  });

  it('names the flag and shows an example on invalid JSON', () => {
    expect(() => parseFilterFlag("['category']")).toThrow(InvalidInputError);
    // Asserted outside any catch: if parseFilterFlag stopped throwing, this would fail.
    expect(() => parseFilterFlag('{oops')).toThrow(
      expect.objectContaining({
        path: '--filter',
        hint: expect.stringContaining('["category", "Eq", "books"]'),
      }),
    );
  });
});

describe('formatStatus', () => {
  it('shows phase, pending, in flight, counters and the last error', () => {
    const text = formatStatus(
      status(6400, 3600, { lastDiscoveryAt: '2025-01-01T00:00:00.000Z', lastError: 'store down' }),
      new Date('2025-01-01T00:00:05.000Z'),
    );
    expect(text).toContain('Function local/tagger');
    expect(text).toMatch(/pending rows:\s+3,600 \(products 3,600\)/);
    expect(text).toMatch(/processed:\s+6,400 rows/);
    expect(text).toMatch(/2 rows dead-lettered/);
    expect(text).toContain('(5s ago)');
    expect(text).toMatch(/last error:\s+store down/);
  });

  it('says when a shared rate limit sets the pace', () => {
    const text = formatStatus({
      ...status(100, 50),
      rateLimit: { key: 'openai', waiting: true, lastClaimWaitShare: 0.62, waitedSeconds: 12.3 },
    });
    expect(text).toContain(
      "shared limit:    openai — waiting on the shared budget (62% of the last claim's time; 12.3 s waited in all)",
    );
    expect(formatStatus(status(100, 50))).not.toContain('shared limit');
  });

  it('says never before the first discovery', () => {
    expect(formatStatus(status(0, 0))).toMatch(/last discovery:\s+never/);
  });
});

describe('watchProgress', () => {
  it('takes total = processed at start + pending at start and a rate over the window', () => {
    const w = startWatch(status(100, 900), 0);
    expect(w.total).toBe(1000);
    const p = watchProgress(w, status(300, 900), 2000);
    expect(p).toEqual({ done: 300, total: 1000, rowsPerSecond: 100, elapsedMs: 2000 });
  });

  it('keeps the total while pending is the same snapshot (it is recounted once per discovery pass)', () => {
    const w = startWatch(status(0, 100), 0);
    expect(watchProgress(w, status(60, 100), 1000).total).toBe(100);
  });

  it('re-bases the total when a new count arrives (rows added meanwhile)', () => {
    const w = startWatch(status(0, 100), 0);
    expect(watchProgress(w, status(100, 50), 1000).total).toBe(150);
  });

  it('snaps the total to done when the workflow goes idle, even if the start snapshot was stale', () => {
    // Watch started mid-run: 1,152 written, but pending still says the 3,000 of the pass start.
    const w = startWatch(status(1152, 3000), 0);
    expect(w.total).toBe(4152);
    const idle = status(3000, 3000, { phase: 'idle', inFlightBatches: 0 });
    expect(watchProgress(w, idle, 5000)).toMatchObject({ done: 3000, total: 3000 });
  });

  it('starts complete when the workflow is already idle', () => {
    expect(startWatch(status(40, 40, { phase: 'idle', inFlightBatches: 0 }), 0).total).toBe(40);
  });

  it('drops samples older than the window from the rate', () => {
    const w = startWatch(status(0, 10000), 0);
    watchProgress(w, status(5000, 10000), 1000); // a burst long ago
    watchProgress(w, status(5000, 10000), 20_000);
    expect(watchProgress(w, status(5100, 10000), 21_000).rowsPerSecond).toBe(100);
  });
});

describe('operator flags', () => {
  it.each([
    // Default: everything in one process.
    [{ watcher: true, worker: true, api: true }, ['watcher', 'worker', 'api']],
    // Production split: an API-only Deployment.
    [{ watcher: false, worker: false, api: true }, ['api']],
  ])('%j runs %j', (flags, roles) => {
    expect(operatorRoles(flags)).toEqual(roles);
  });

  it('refuses to run nothing', () => {
    expect(() => operatorRoles({ watcher: false, worker: false, api: false })).toThrow(
      /every role is disabled/,
    );
  });

  it.each([
    // Absent: the configured port.
    [undefined, 8080],
    ['0', 0],
    ['9000', 9000],
  ])('--port %s → %s', (flag, port) => {
    expect(parsePortFlag(flag, 8080)).toBe(port);
  });

  it.each(['x', '70000', '1.5'])('--port %s is refused', (flag) => {
    expect(() => parsePortFlag(flag, 8080)).toThrow(/--port/);
  });
});
