// Per-file setup for integration tests: Temporal Workers log at WARN so test output shows
// failures, not every worker state change.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process (a previous file in the same fork)
}
