// `layer orchestrator`: the orchestrator's Temporal Worker (every Layer workflow plus the
// Function activities, and the operator's Kubernetes activities when a kubeconfig is available)
// against the configured Temporal and store, until SIGINT/SIGTERM.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import { createOperatorWorkerParts } from '../../activities/operator-worker.js';
import { loadConfig, type Config } from '../../config.js';
import { createStoreClient } from '../../store/client.js';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker.js';
import {
  connectTemporalClient,
  connectTemporalWorker,
  loadKubeConfig,
  type TemporalClient,
} from '../temporal-connect.js';

export type Log = (line: string, fields?: Record<string, unknown>) => void;

/** One line per event on stderr: `<role>: message {fields}`. */
export function roleLogger(role: string): Log {
  return (line, fields) =>
    process.stderr.write(
      `${role}: ${line}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}\n`,
    );
}

export interface RunningWorker {
  worker: Worker;
  run: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the orchestrator Worker on config.temporal; operator activities when kubeConfig is given. */
export async function startOrchestratorWorker(opts: {
  config: Config;
  connection: NativeConnection;
  client: Client;
  kubeConfig?: KubeConfig;
  log: Log;
}): Promise<RunningWorker> {
  const { config } = opts;
  const store = createStoreClient({
    baseUrl: config.store.url,
    ...(config.store.apiKey ? { apiKey: config.store.apiKey } : {}),
  });
  const worker = await createOrchestratorWorker({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    storeFor: () => store,
    ...(opts.kubeConfig
      ? {
          extraActivities: createOperatorWorkerParts({ kubeConfig: opts.kubeConfig, client: opts.client })
            .activities,
        }
      : {}),
  });
  const run = worker.run();
  opts.log('orchestrator worker polling', {
    temporal: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    store: config.store.url,
    activities: opts.kubeConfig ? 'function + operator' : 'function only (no kubeconfig)',
  });
  return {
    worker,
    run,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM (a second one exits at once). */
export function shutdownSignal(log: Log): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (sig: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      log(`${sig}: shutting down (in-flight activities finish; send it again to exit now)`);
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function registerOrchestratorCommand(program: Command): void {
  program
    .command('orchestrator')
    .description(
      'run the orchestrator Temporal Worker (workflows, Function activities, operator activities with a kubeconfig)',
    )
    .action(async () => {
      const log = roleLogger('orchestrator');
      const config = loadConfig();
      const kube = loadKubeConfig(config);
      if (kube)
        log('kubernetes configured; operator activities enabled', { source: kube.source, from: kube.detail });
      let temporal: TemporalClient | undefined;
      let connection: NativeConnection | undefined;
      try {
        temporal = await connectTemporalClient(config);
        connection = await connectTemporalWorker(config);
        const running = await startOrchestratorWorker({
          config,
          connection,
          client: temporal.client,
          ...(kube ? { kubeConfig: kube.kubeConfig } : {}),
          log,
        });
        // The worker may also stop on its own (a fatal poll error): end either way.
        await Promise.race([shutdownSignal(log), running.run]);
        await running.stop();
        log('stopped');
      } finally {
        await connection?.close();
        await temporal?.close();
      }
    });
}
