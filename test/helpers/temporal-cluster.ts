// For an integration test file that runs on the production-shaped Temporal cluster instead of the
// run's dev server: call startClusterForFile() in beforeAll and its stop() in afterAll. Only the
// files that ask pay for it (about a minute to start on 2 cores; the binaries are built once into
// the cache like the dev server's). Each call gets its own PostgreSQL databases (dropped at stop),
// ports and state folder, so worktrees and files can run clusters side by side. The server
// processes belong to the test file's process: if it dies, the exit hook of src/dev/process.ts
// kills them. Under CI=true a cluster that cannot be provisioned fails the file, never skips it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropClusterDatabases,
  startTemporalCluster,
  type TemporalCluster,
} from '../../src/dev/temporal-cluster.js';
import { resolveTemporalServer } from '../../src/dev/temporal-cluster-binaries.js';
import { useTemporal } from './servers.js';

const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

export interface ClusterForFile extends TemporalCluster {
  stateDir: string;
}

export async function startClusterForFile(
  opts: { hosts?: number; numHistoryShards?: number; ui?: boolean } = {},
): Promise<ClusterForFile> {
  const stateDir = mkdtempSync(join(tmpdir(), 'layer-cluster-'));
  const database = `layer_t_${randomUUID().slice(0, 8)}`;
  let cluster: TemporalCluster;
  try {
    cluster = await startTemporalCluster({
      log,
      stateDir,
      database,
      hosts: opts.hosts ?? 2,
      numHistoryShards: opts.numHistoryShards ?? 16,
      ui: opts.ui ?? false,
    });
  } catch (err) {
    const ci = process.env.CI === 'true' ? ' (CI=true: a missing real server fails the run)' : '';
    throw new Error(`could not provision the Temporal cluster${ci}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  useTemporal({ address: cluster.address, namespace: cluster.namespace });
  return {
    ...cluster,
    stateDir,
    stop: async () => {
      useTemporal(undefined);
      await cluster.stop();
      const { sqlTool } = await resolveTemporalServer(() => undefined);
      await dropClusterDatabases(
        sqlTool.path,
        cluster.postgres,
        cluster.database,
        cluster.visibilityDatabase,
      );
      if (process.env.LAYER_KEEP_CLUSTER_LOGS !== '1') rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
