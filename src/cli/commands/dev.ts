import type { Command } from 'commander';
import { devDown, devUp, endpointsOf } from '../../dev/environment.js';
import { devStateDir } from '../../dev/paths.js';
import { startStoreProcess } from '../../dev/store-process.js';
import { registerProvisionCommand } from './provision.js';

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
    .option('--json', 'print one JSON object with the endpoints')
    .option('--state-dir <dir>', 'where state, data and logs live', devStateDir())
    .action(async (opts: { kube?: boolean; controllers?: boolean; json?: boolean; stateDir: string }) => {
      if (opts.controllers && !opts.kube) throw new Error('--controllers needs --kube');
      const state = await devUp({
        stateDir: opts.stateDir,
        kube: Boolean(opts.kube),
        controllers: Boolean(opts.controllers),
        log,
        startStore: startStoreProcess,
      });
      const endpoints = endpointsOf(state, opts.stateDir);
      if (opts.json) {
        process.stdout.write(JSON.stringify(endpoints) + '\n');
        return;
      }
      const lines = [
        `Temporal:      ${endpoints.temporalAddress} (namespace ${endpoints.temporalNamespace})`,
        `Temporal UI:   ${endpoints.temporalUiUrl}`,
        ...(endpoints.kubeconfig
          ? [`Kubernetes:    ${endpoints.kubeServerUrl}`, `KUBECONFIG:    ${endpoints.kubeconfig}`]
          : []),
        ...(endpoints.storeUrl ? [`Store:         ${endpoints.storeUrl}`] : []),
        `State & logs:  ${endpoints.stateDir}`,
        'Stop with:     layer dev down',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
  registerProvisionCommand(dev);
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
