// Two projects: `unit` is pure logic (no servers, runs in threads); `integration` talks to
// real engines — a Temporal dev server and a kube-apiserver started once per run by the global
// setup, and the embedded store — and uses the `forks` pool because Temporal Workers hold
// native resources that do not belong in worker threads.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.layer/test-results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
        },
      },
      {
        test: {
          // Recorded histories replayed against the workflow bundle: no server needed.
          name: 'replay',
          include: ['test/replay/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          // beforeAll bundles the workflows with webpack: seconds when idle, more on a busy machine.
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/setup-integration.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          // A cold cache builds the servers from Go modules inside the global setup (.ci/run
          // provisions first, so there this is only the start-up).
          hookTimeout: 45 * 60_000,
        },
      },
    ],
  },
});
