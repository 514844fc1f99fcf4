// What the long-running roles (`layer orchestrator`, `layer operator`) share: the Worker's
// native connection, the KubeConfig, the orchestrator Worker itself, logging and shutdown.
// Loaded lazily by those commands so the short ones never pay for @temporalio/worker and
// @kubernetes/client-node at start-up.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createOperatorWorkerParts, type OperatorWorkerDeps } from '../activities/operator-worker.js';
import { operatorSettingsInput, payloadDataConverter, type Config } from '../config.js';
import { operatorSettings } from '../operator/settings.js';
import { withKeepAlive } from '../operator/kube-keep-alive.js';
import { createStoreRouter } from '../operator/store-router.js';
import { createStoreClient } from '../../packages/worker/src/store/client.js';
import { LayerError } from '../../packages/worker/src/util/errors.js';
import {
  logFn,
  observeProcess,
  observeTemporalRuntime,
  processLogger,
  registerSecret,
} from '../observe/index.js';
import {
  bundleOrchestratorWorkflows,
  createOrchestratorWorker,
  createReconcileWorker,
  reconcileTaskQueue,
} from '../workers/orchestrator-worker.js';
import { TemporalUnreachableError, temporalConnectionOptions } from './temporal-connect.js';

/**
 * Structured logs and metrics (src/observe); the Temporal Runtime is wired into both when the
 * Worker connects. The SDK's lifecycle chatter (worker state changes, the webpack report) is
 * demoted to debug there: a role's own log lines say what runs where. Call first.
 */
export function quietTemporalRuntime(): void {
  observeProcess();
}

/** The connection a Temporal Worker polls with, or TemporalUnreachableError. */
export async function connectTemporalWorker(config: Config): Promise<NativeConnection> {
  await observeTemporalRuntime();
  try {
    return await NativeConnection.connect(temporalConnectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachableError(config.temporal.address, err);
  }
}

/** Where a KubeConfig came from, for the start-up log. */
export type KubeSource = 'kubeconfig' | 'in-cluster' | 'home';

/**
 * A KubeConfig from config.kube: the explicit file (first entry of a KUBECONFIG list), else the
 * pod's service account, else ~/.kube/config; undefined when none exists (local mode).
 */
export function loadKubeConfig(
  config: Config,
  home: string = homedir(),
): { kubeConfig: KubeConfig; source: KubeSource; detail: string } | undefined {
  // Every client made from it shares keep-alive connections (src/operator/kube-keep-alive.ts).
  const kc = withKeepAlive(new KubeConfig());
  const explicit = config.kube.kubeconfig?.split(':').find((p) => p.length > 0);
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new LayerError(
        `KUBECONFIG names ${explicit}, which does not exist`,
        'point KUBECONFIG at an existing kubeconfig file, or unset it for local mode',
      );
    }
    kc.loadFromFile(explicit);
    return { kubeConfig: kc, source: 'kubeconfig', detail: explicit };
  }
  if (config.kube.inCluster) {
    kc.loadFromCluster();
    return { kubeConfig: kc, source: 'in-cluster', detail: 'service account' };
  }
  const homeFile = join(home, '.kube', 'config');
  if (existsSync(homeFile)) {
    kc.loadFromFile(homeFile);
    return { kubeConfig: kc, source: 'home', detail: homeFile };
  }
  return undefined;
}

export type Log = (line: string, fields?: Record<string, unknown>) => void;

/** One structured line per event on stderr (JSON, or `<role>: message key=value` on a terminal). */
export function roleLogger(role: string): Log {
  return logFn(processLogger().child({ role }));
}

export interface RunningWorker {
  worker: Worker;
  run: Promise<void>;
  stop(): Promise<void>;
}

/**
 * What the operator's activities get from this process's configuration: its settings (what it
 * renders into worker pods), the task queue its engines start workload workflows on (the one
 * this Worker polls) and the default VectorStore.
 */
export function operatorWorkerDeps(
  config: Config,
  kubeConfig: KubeConfig,
  client: Client,
): OperatorWorkerDeps {
  return {
    kubeConfig,
    client,
    settings: operatorSettings(operatorSettingsInput(config)),
    taskQueue: config.temporal.taskQueue,
    ...(config.api.vectorStore ? { defaultVectorStore: config.api.vectorStore } : {}),
    ...(config.operator.watchNamespaces ? { watchNamespaces: config.operator.watchNamespaces } : {}),
  };
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
  // Values no log line may carry, whatever prints them (src/observe/logger.ts scrubs them).
  registerSecret(config.store.apiKey);
  registerSecret(config.temporal.apiKey);
  const dataConverter = payloadDataConverter(config);
  if (dataConverter)
    opts.log(
      `payloads over ${config.payloads.thresholdBytes} bytes go to s3://${config.payloads.bucket}/${config.payloads.prefix}`,
    );
  const store = createStoreClient({
    baseUrl: config.store.url,
    ...(config.store.apiKey ? { apiKey: config.store.apiKey } : {}),
  });
  // In a cluster, Index backend.storeRef routes a namespace to its VectorStore.
  const router = opts.kubeConfig
    ? await createStoreRouter({
        kubeConfig: opts.kubeConfig,
        fallback: store,
        onError: (err) =>
          opts.log(`store routes not refreshed: ${err instanceof Error ? err.message : String(err)}`),
      })
    : undefined;
  const operatorActivities = opts.kubeConfig
    ? createOperatorWorkerParts({
        ...operatorWorkerDeps(config, opts.kubeConfig, opts.client),
        storeFor: router ? router.storeFor : () => store,
      }).activities
    : undefined;
  const worker = await createOrchestratorWorker({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    storeFor: router ? router.storeFor : () => store,
    workflowBundle: await bundleOrchestratorWorkflows(),
    pushMaxAnswerBytes: config.push.maxAnswerBytes,
    workflowWatchdog: config.temporal.workflowWatchdog,
    ...(dataConverter ? { dataConverter } : {}),
    ...(config.temporal.maxCachedWorkflows !== undefined
      ? { tuning: { maxCachedWorkflows: config.temporal.maxCachedWorkflows } }
      : {}),
    // Also here: reconcile runs started on this queue before it had its own (ADR 0115).
    ...(operatorActivities ? { extraActivities: operatorActivities } : {}),
  });
  // With Kubernetes, reconcile workflows run on their own queue, from a bundle of their own.
  const reconcile = operatorActivities
    ? await createReconcileWorker({
        connection: opts.connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        activities: operatorActivities,
        concurrency: config.operator.reconcileConcurrency,
        workflowWatchdog: config.temporal.workflowWatchdog,
        ...(dataConverter ? { dataConverter } : {}),
      })
    : undefined;
  const workers = [worker, ...(reconcile ? [reconcile] : [])];
  const runs = workers.map((w) => w.run());
  // Either Worker failing fails the role (the process exits and is restarted); stop waits for both.
  const run = Promise.all(runs).then(() => undefined);
  run.catch(() => undefined);
  opts.log('orchestrator worker polling', {
    temporal: config.temporal.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(reconcile ? { reconcileTaskQueue: reconcileTaskQueue(config.temporal.taskQueue) } : {}),
    store: config.store.url,
    activities: opts.kubeConfig ? 'function + operator' : 'function only (no kubeconfig)',
  });
  return {
    worker,
    run,
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      const failed = (await Promise.allSettled(runs)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
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
