import type { Command } from 'commander';
import { resolveKubeBinaries, resolveTemporalCli, ProvisionError } from '../../dev/binaries.js';

/** `layer dev provision`: find or build the server binaries into the cache, start nothing. */
export function registerProvisionCommand(dev: Command): void {
  dev
    .command('provision')
    .description('find or build the Temporal CLI (and with --kube, kube-apiserver + etcd) into the cache')
    .option('--kube', 'also kube-apiserver and etcd')
    .action(async (opts: { kube?: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const temporal = await resolveTemporalCli(log);
      if (!temporal) {
        throw new ProvisionError(
          'temporal',
          'no Temporal CLI found and no Go toolchain to build it: install Go >= 1.25 or put `temporal` on PATH',
        );
      }
      if (opts.kube) await resolveKubeBinaries(log);
    });
}
