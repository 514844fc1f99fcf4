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
          exclude: ['test/integration/cluster/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/setup-integration.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          // A cold cache builds the servers from Go modules inside the global setup (.ci/run
          // provisions first, so there this is only the start-up).
          hookTimeout: 45 * 60_000,
        },
      },
      {
        test: {
          // The files that bring their own cluster (controllers + KEDA + kwok, or a multi-host
          // Temporal on PostgreSQL). Vitest gives each pool kind one queue of (CPUs − 1) workers,
          // which is one on these 2-core machines, so every forks file ran after the other; in
          // the vmForks pool these run beside the rest (a child process each, as with forks: the
          // native Temporal Workers stay out of worker threads). They mostly wait on controllers,
          // KEDA and kills, so overlapping them saves minutes of the run.
          name: 'cluster',
          include: ['test/integration/cluster/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/setup-integration.ts'],
          pool: 'vmForks',
          testTimeout: 120_000,
          hookTimeout: 45 * 60_000,
        },
      },
    ],
  },
});
