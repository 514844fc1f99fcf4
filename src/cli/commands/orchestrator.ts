// `layer orchestrator`: the orchestrator's Temporal Worker (every Layer workflow plus the
// Function activities, and the operator's Kubernetes activities when a kubeconfig is available)
// against the configured Temporal and store, until SIGINT/SIGTERM.
import type { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import { loadCliConfig } from '../config.js';
import { connectTemporalClient, type TemporalClient } from '../temporal-connect.js';
import { startRoleTracing } from '../../observe/tracing.js';

export function registerOrchestratorCommand(program: Command): void {
  program
    .command('orchestrator')
    .description(
      'run the orchestrator Temporal Worker (workflows, Function activities, operator activities with a kubeconfig)',
    )
    .action(async () => {
      const roles = await import('../roles.js');
      roles.quietTemporalRuntime();
      const log = roles.roleLogger('orchestrator');
      const config = loadCliConfig();
      const kube = roles.loadKubeConfig(config);
      if (kube)
        log('kubernetes configured; operator activities enabled', { source: kube.source, from: kube.detail });
      const stopTracing = await startRoleTracing('orchestrator', log);
      let temporal: TemporalClient | undefined;
      let connection: NativeConnection | undefined;
      try {
        temporal = await connectTemporalClient(config);
        connection = await roles.connectTemporalWorker(config);
        const running = await roles.startOrchestratorWorker({
          config,
          connection,
          client: temporal.client,
          ...(kube ? { kubeConfig: kube.kubeConfig } : {}),
          log,
        });
        // The worker may also stop on its own (a fatal poll error): end either way.
        await Promise.race([roles.shutdownSignal(log), running.run]);
        await running.stop();
        log('stopped');
      } finally {
        await connection?.close();
        await temporal?.close();
        await stopTracing();
      }
    });
}
