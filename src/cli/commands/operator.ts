// `layer operator`: by default one process runs everything the operator needs — the watcher
// (informers → reconcile workflows), the orchestrator Worker with the operator's activities, and
// the HTTP API. `--no-watcher`, `--no-worker` and `--no-api` split the roles across Deployments
// in production; every role reads the same configuration (loadConfig).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import { apiAuthMode } from '../../config.js';
import { loadCliConfig } from '../config.js';
import type { IndexDiscovery } from '../../operator/index-discovery.js';
import type { LeaderElector } from '../../operator/leader-election.js';
import type { OperatorWatcher } from '../../operator/watcher.js';
import type { HttpApi } from '../../server/http-api.js';
import type { KedaScaler } from '../../server/keda-scaler.js';
import { InvalidInputError, LayerError } from '../../../packages/worker/src/util/errors.js';
import type { RunningWorker } from '../roles.js';
import { connectTemporalClient, type TemporalClient } from '../temporal-connect.js';
import { ensureSearchAttributes } from '../search-attributes.js';
import { startRoleTracing } from '../../observe/tracing.js';

interface OperatorFlags {
  watcher: boolean;
  worker: boolean;
  api: boolean;
  port?: string;
  scaledObjects: boolean;
  /** --leader-elect / --no-leader-elect; undefined: LAYER_LEADER_ELECT (default true in a pod). */
  leaderElect?: boolean;
}

/** The roles this process runs, from the flags (at least one). */
export function operatorRoles(
  flags: Pick<OperatorFlags, 'watcher' | 'worker' | 'api'>,
): ('watcher' | 'worker' | 'api')[] {
  const roles = (['watcher', 'worker', 'api'] as const).filter((r) => flags[r]);
  if (roles.length === 0) {
    throw new InvalidInputError(
      '--no-watcher --no-worker --no-api',
      'every role is disabled',
      'drop one of the --no-* flags',
    );
  }
  return roles;
}

/** LAYER_WATCH_NAMESPACES: namespaced resources in these namespaces; cluster-scoped ones are not ours. */
export function inNamespaces(namespaces: readonly string[]): (ref: { namespace?: string }) => boolean {
  const set = new Set(namespaces);
  return (ref) => ref.namespace !== undefined && set.has(ref.namespace);
}

export function parsePortFlag(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidInputError(
      '--port',
      `expected a port number 0-65535, got '${value}'`,
      'e.g. --port 8080 (0 picks a free port)',
    );
  }
  return n;
}

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description(
      'run the operator: watcher, orchestrator worker (with operator activities) and HTTP API in one process',
    )
    .option('--no-watcher', 'do not run the watcher (informers that start reconcile workflows)')
    .option('--no-worker', 'do not run the orchestrator Temporal Worker')
    .option('--no-api', 'do not serve the orchestrator HTTP API')
    .option('--port <port>', 'HTTP API port (default $LAYER_API_PORT or 8080)')
    .option('--no-scaled-objects', 'do not watch KEDA ScaledObjects (KEDA not installed)')
    .option(
      '--leader-elect',
      'run the watcher only while this replica holds the Lease (default $LAYER_LEADER_ELECT, true in a pod)',
    )
    .option('--no-leader-elect', 'every replica runs its watcher (one replica, or local development)')
    .action(async (flags: OperatorFlags) => {
      const {
        connectTemporalWorker,
        loadKubeConfig,
        quietTemporalRuntime,
        roleLogger,
        shutdownSignal,
        startOrchestratorWorker,
      } = await import('../roles.js');
      quietTemporalRuntime();
      const { createOperatorWatcher } = await import('../../operator/watcher.js');
      const { reconcileTaskQueue } = await import('../../workers/orchestrator-worker.js');
      const { createHttpApi } = await import('../../server/http-api.js');
      const { createOperatorApiDeps } = await import('../../server/operator-api.js');
      const log = roleLogger('operator');
      const roles = operatorRoles(flags);
      const config = loadCliConfig();
      const port = parsePortFlag(flags.port, config.api.port);
      const kube = loadKubeConfig(config);
      if (!kube) {
        throw new LayerError(
          'layer operator needs Kubernetes, and no kubeconfig was found',
          'set KUBECONFIG (or run `layer dev up --kube`, or run in a pod); without Kubernetes use `layer orchestrator` and `layer apply`',
        );
      }
      log(`running ${roles.join(' + ')}`, {
        kubernetes: `${kube.source} (${kube.detail})`,
        cluster: kube.kubeConfig.getCurrentCluster()?.server,
        temporal: `${config.temporal.address}/${config.temporal.namespace}`,
        taskQueue: config.temporal.taskQueue,
      });

      const stopTracing = await startRoleTracing('operator', log);
      let temporal: TemporalClient | undefined;
      let connection: NativeConnection | undefined;
      let worker: RunningWorker | undefined;
      let watcher: OperatorWatcher | undefined;
      let elector: LeaderElector | undefined;
      let discovery: IndexDiscovery | undefined;
      let api: HttpApi | undefined;
      let kedaScaler: KedaScaler | undefined;
      try {
        temporal = await connectTemporalClient(config);
        await ensureSearchAttributes(temporal.connection, config.temporal.namespace, roleLogger('operator'));
        if (flags.worker) {
          connection = await connectTemporalWorker(config);
          worker = await startOrchestratorWorker({
            config,
            connection,
            client: temporal.client,
            kubeConfig: kube.kubeConfig,
            log: roleLogger('operator/worker'),
          });
        }
        if (flags.watcher) {
          const watcherLog = roleLogger('operator/watcher');
          const identity = `${hostname()}-${randomUUID().slice(0, 8)}`;
          const w = createOperatorWatcher({
            kubeConfig: kube.kubeConfig,
            client: temporal.client,
            // Its own queue, polled by every replica's reconcile Worker (ADR 0115).
            taskQueue: reconcileTaskQueue(config.temporal.taskQueue),
            // A resync wave is as many passes as a replica runs at once (ADR 0135).
            resyncWave: config.operator.reconcileConcurrency,
            watchScaledObjects: flags.scaledObjects,
            ...(config.operator.watchNamespaces
              ? { filter: inNamespaces(config.operator.watchNamespaces) }
              : {}),
            identity,
            log: watcherLog,
          });
          watcher = w;
          const discoveryConfig = config.operator.indexDiscovery;
          if (discoveryConfig.enabled) {
            const { createIndexDiscovery } = await import('../../operator/index-discovery.js');
            const { createStoreClient } = await import('../../../packages/worker/src/store/client.js');
            discovery = createIndexDiscovery({
              kubeConfig: kube.kubeConfig,
              store: createStoreClient({
                baseUrl: config.store.url,
                ...(config.store.apiKey ? { apiKey: config.store.apiKey } : {}),
              }),
              indexNamespace: discoveryConfig.namespace,
              intervalMs: discoveryConfig.intervalSeconds * 1000,
              gc: discoveryConfig.gc,
              log: roleLogger('operator/discovery'),
            });
          }
          const d = discovery;
          // Index discovery runs where the watcher runs: on the leader only, so replicas never
          // race to create the same Index.
          const startWatcher = async () => {
            await w.start();
            watcherLog('informers started; reconcile workflows go to the task queue', {
              taskQueue: reconcileTaskQueue(config.temporal.taskQueue),
            });
            d?.start();
          };
          const stopWatcher = async () => {
            await d?.stop();
            await w.stop();
          };
          const election = config.operator.leaderElection;
          if (flags.leaderElect ?? election.enabled) {
            const { createLeaderElector } = await import('../../operator/leader-election.js');
            elector = createLeaderElector({
              kubeConfig: kube.kubeConfig,
              namespace: election.namespace,
              name: election.name,
              identity,
              onStartedLeading: startWatcher,
              onStoppedLeading: stopWatcher,
              log: watcherLog,
            });
            elector.start();
          } else {
            await startWatcher();
          }
        }
        if (flags.api) {
          const w = watcher;
          const authMode = apiAuthMode(config);
          if (config.kube.serviceHostWithoutToken)
            roleLogger('operator/api')(
              `WARNING: KUBERNETES_SERVICE_HOST is set but no service-account token is mounted; the API is not in-cluster, so it is open (no auth) and listens on ${config.api.host}` +
                (config.api.host === '127.0.0.1'
                  ? ' only. Mount the token (automountServiceAccountToken) or configure a VectorStore before exposing it'
                  : ' as LAYER_API_HOST asks: anyone who can reach it may force discovery and replay dead letters'),
            );
          if (authMode === 'open' && config.kube.inCluster)
            roleLogger('operator/api')(
              'WARNING: LAYER_API_OPEN=true — anyone who can reach this API may force discovery and replay dead letters',
            );
          const apiDeps = createOperatorApiDeps({
            kubeConfig: kube.kubeConfig,
            client: temporal.client,
            ...(config.api.vectorStore ? { vectorStore: config.api.vectorStore } : {}),
            ...(authMode === 'readOnly' ? { auth: async () => ({ mode: 'readOnly' as const }) } : {}),
            // Ready when the informers listed (if this process watches); a standby replica and
            // API-only replicas are ready at once.
            ready: () => (w && (!elector || elector.isLeader()) ? w.synced() : true),
            log: roleLogger('operator/api'),
          });
          api = createHttpApi(apiDeps);
          const url = await api.listen(port, config.api.host);
          roleLogger('operator/api')(`listening on ${url}`, {
            auth: config.api.vectorStore
              ? `VectorStore ${config.api.vectorStore.namespace}/${config.api.vectorStore.name}`
              : authMode === 'readOnly'
                ? 'read-only: control calls refused (set LAYER_VECTOR_STORE, or LAYER_API_OPEN=true for development)'
                : 'open (LAYER_VECTOR_STORE unset)',
          });
          if (config.operator.kedaScalerPort !== undefined) {
            const { startKedaScaler } = await import('../../server/keda-scaler.js');
            const { queuedWorkloadKeys } = await import('../../client/queued-workloads.js');
            const client = temporal.client;
            kedaScaler = await startKedaScaler(
              {
                queueDepth: (wl) =>
                  wl.kind === 'Function'
                    ? apiDeps.functions.queueDepth(wl.namespace, wl.name, wl.batchSize)
                    : apiDeps.pipelines.queueDepth(wl.namespace, wl.name),
                queuedWorkloads: () => queuedWorkloadKeys(client),
                log: roleLogger('operator/keda-scaler'),
              },
              { port: config.operator.kedaScalerPort, host: config.api.host },
            );
            roleLogger('operator/keda-scaler')(
              `KEDA external-push scaler listening on ${config.api.host}:${kedaScaler.port}`,
              {
                scaledObjectsPointAt:
                  config.operator.keda.scalerAddress ??
                  'nothing: LAYER_KEDA_SCALER_ADDRESS is unset, so ScaledObjects use metrics-api',
              },
            );
          }
        }
        await Promise.race([shutdownSignal(log), ...(worker ? [worker.run] : [])]);
      } finally {
        await kedaScaler?.close();
        await api?.close();
        // The elector stops the watcher it started, then releases the Lease for a standby.
        if (elector) await elector.stop();
        else {
          await discovery?.stop();
          await watcher?.stop();
        }
        await worker?.stop();
        await connection?.close();
        ignoreClosedChannelOnExit();
        await temporal?.close();
        await stopTracing();
        log('stopped');
      }
    });
}

let closing = false;
/**
 * Past this point every part of the operator has stopped and the process is exiting. A Temporal
 * client call still in its retry backoff (the SDK's gRPC retry interceptor runs on a timer) starts
 * on the closed channel and throws `Channel has been shut down` from that timer: an uncaught
 * exception that printed a stack on a clean stop (seen in the observe test's child process). That
 * one error is the shutdown itself; any other is reported as Node would (stack, exit code 1).
 */
function ignoreClosedChannelOnExit(): void {
  if (closing) return;
  closing = true;
  process.on('uncaughtException', (err: unknown) => {
    if (err instanceof Error && err.message === 'Channel has been shut down') return;
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
