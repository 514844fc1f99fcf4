import type { Command } from 'commander';
import { resolveKubeBinaries, resolveTemporalCli } from '../../dev/binaries.js';
import { resolveControllerBinaries } from '../../dev/controller-binaries.js';
import { resolveHelm } from '../../dev/helm.js';
import { resolveMinio } from '../../dev/s3-server.js';

/** `layer dev provision`: find or build the server binaries into the cache, start nothing. */
export function registerProvisionCommand(dev: Command): void {
  dev
    .command('provision')
    .description(
      'find or build the Temporal CLI (with --kube kube-apiserver + etcd, with --s3 MinIO, with --helm helm, with --controllers the controllers, kwok and KEDA) into the cache',
    )
    .option('--kube', 'also kube-apiserver and etcd')
    .option('--s3', 'also MinIO (the S3-compatible server the tests use)')
    .option('--helm', 'also the helm CLI (the Helm chart tests use it)')
    .option(
      '--controllers',
      'also kube-controller-manager, kube-scheduler, kwok and KEDA (`dev up --kube --controllers`, the cluster tests)',
    )
    .action(async (opts: { kube?: boolean; s3?: boolean; helm?: boolean; controllers?: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // Throws ProvisionError naming why neither the download nor the Go build worked.
      await resolveTemporalCli(log);
      if (opts.kube) await resolveKubeBinaries(log);
      if (opts.s3) await resolveMinio(log);
      if (opts.helm) await resolveHelm(log);
      if (opts.controllers) await resolveControllerBinaries(log);
    });
}
