import type { Command } from 'commander';
import { devDown, devUp, endpointsOf } from '../../dev/environment.js';
import { devStateDir } from '../../dev/paths.js';
import { startStoreProcess } from '../../dev/store-process.js';
import { registerProvisionCommand } from './provision.js';
import { parseBackend, startTcpForwarder } from '../../dev/tcp-forwarder.js';

/** --temporal: which Temporal `dev up` runs. */
export function parseTemporalKind(value: string): 'dev' | 'cluster' {
  if (value === 'dev' || value === 'cluster') return value;
  throw new Error(
    `--temporal: "${value}" is not dev or cluster (dev: the Temporal CLI dev server; cluster: temporal-server processes on PostgreSQL)`,
  );
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** `layer dev up|down`: the local environment, left running in the background. */
export function registerDevCommands(program: Command): void {
  const dev = program
    .command('dev')
    .description('run the local environment (Temporal dev server, embedded store, optional kube-apiserver)');
  dev
    .command('up')
    .description('start the local servers in the background and print where they are')
    .option('--kube', 'also start a local kube-apiserver + etcd')
    .option(
      '--controllers',
      'with --kube: also kube-controller-manager, kube-scheduler, kwok nodes shaped like the stock pools, and KEDA',
    )
    .option(
      '--temporal <kind>',
      'dev: the Temporal CLI dev server; cluster: temporal-server processes on PostgreSQL (LAYER_TEMPORAL_POSTGRES_URL)',
      'dev',
    )
    .option('--temporal-hosts <n>', 'cluster: server processes, each on its own 127.0.0.x', '2')
    .option(
      '--history-shards <n>',
      'cluster: numHistoryShards (fixed when the database is first set up)',
      '16',
    )
    .option(
      '--temporal-db <name>',
      'cluster: PostgreSQL database (visibility: <name>_visibility)',
      'layer_temporal',
    )
    .option('--json', 'print one JSON object with the endpoints')
    .option('--state-dir <dir>', 'where state, data and logs live', devStateDir())
    .action(
      async (opts: {
        kube?: boolean;
        controllers?: boolean;
        json?: boolean;
        stateDir: string;
        temporal: string;
        temporalHosts: string;
        historyShards: string;
        temporalDb: string;
      }) => {
        if (opts.controllers && !opts.kube) throw new Error('--controllers needs --kube');
        const temporal = parseTemporalKind(opts.temporal);
        const state = await devUp({
          stateDir: opts.stateDir,
          kube: Boolean(opts.kube),
          controllers: Boolean(opts.controllers),
          log,
          startStore: startStoreProcess,
          temporal,
          cluster: {
            hosts: Number(opts.temporalHosts),
            numHistoryShards: Number(opts.historyShards),
            database: opts.temporalDb,
          },
        });
        const endpoints = endpointsOf(state, opts.stateDir);
        if (opts.json) {
          process.stdout.write(JSON.stringify(endpoints) + '\n');
          return;
        }
        const cluster = state.temporal.cluster;
        const lines = [
          `Temporal:      ${endpoints.temporalAddress} (namespace ${endpoints.temporalNamespace})`,
          ...(cluster
            ? [
                `  cluster:     ${cluster.hosts.map((h) => `${h.name} ${h.address} (pid ${h.pid})`).join(', ')}; ${cluster.numHistoryShards} history shards; database ${cluster.database}`,
              ]
            : []),
          `Temporal UI:   ${endpoints.temporalUiUrl}`,
          ...(endpoints.kubeconfig
            ? [`Kubernetes:    ${endpoints.kubeServerUrl}`, `KUBECONFIG:    ${endpoints.kubeconfig}`]
            : []),
          ...(endpoints.storeUrl ? [`Store:         ${endpoints.storeUrl}`] : []),
          `State & logs:  ${endpoints.stateDir}`,
          'Stop with:     layer dev down',
        ];
        process.stdout.write(lines.join('\n') + '\n');
      },
    );
  registerProvisionCommand(dev);
  // The local cluster's load balancer as its own process, so it outlives `dev up`.
  dev
    .command('forward', { hidden: true })
    .description('forward TCP connections on --listen to the first live backend of --to (round robin)')
    .requiredOption('--listen <host:port>', 'address to listen on')
    .requiredOption('--to <host:port,...>', 'backends, comma-separated')
    .action(async (opts: { listen: string; to: string }) => {
      const listen = parseBackend(opts.listen);
      const fwd = await startTcpForwarder({
        listenHost: listen.host,
        listenPort: listen.port,
        backends: opts.to.split(',').map(parseBackend),
      });
      log(`forwarding ${fwd.address} → ${opts.to}`);
    });
  dev
    .command('down')
    .description('stop the servers `layer dev up` started (data is kept unless --purge)')
    .option('--purge', 'also delete their data')
    .option('--state-dir <dir>', 'where state, data and logs live', devStateDir())
    .action(async (opts: { purge?: boolean; stateDir: string }) => {
      const stopped = await devDown(opts.stateDir, { purge: Boolean(opts.purge), log });
      process.stdout.write(stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing was running\n');
    });
}
