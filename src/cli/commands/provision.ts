import type { Command } from 'commander';
import { resolveKubeBinaries, resolveTemporalCli } from '../../dev/binaries.js';
import { resolveControllerBinaries } from '../../dev/controller-binaries.js';
import { resolveHelm } from '../../dev/helm.js';
import { resolveMinio } from '../../dev/s3-server.js';
import { resolveGoaws, resolveKfake } from '../../dev/source-servers.js';
import { resolveTemporalServer, resolveTemporalUiServer } from '../../dev/temporal-cluster-binaries.js';

/** `layer dev provision`: find or build the server binaries into the cache, start nothing. */
export function registerProvisionCommand(dev: Command): void {
  dev
    .command('provision')
    .description(
      'find or build the Temporal CLI (with --kube kube-apiserver + etcd, with --s3 MinIO, with --helm helm, with --temporal-cluster the Temporal server, SQL tool and UI server, with --controllers the controllers, kwok and KEDA, with --sources goaws and kfake) into the cache, all at once',
    )
    .option('--kube', 'also kube-apiserver and etcd')
    .option('--s3', 'also MinIO (the S3-compatible server the tests use)')
    .option('--helm', 'also the helm CLI (the Helm chart tests use it)')
    .option('--sources', 'also goaws (SQS) and kfake (Kafka), the Pipeline source tests’ servers')
    .option(
      '--temporal-cluster',
      'also temporal-server, temporal-sql-tool and the Temporal UI server (`layer dev up --temporal cluster`)',
    )
    .option(
      '--controllers',
      'also kube-controller-manager, kube-scheduler, kwok and KEDA (`dev up --kube --controllers`, the cluster tests)',
    )
    .action(
      async (opts: {
        kube?: boolean;
        s3?: boolean;
        helm?: boolean;
        temporalCluster?: boolean;
        controllers?: boolean;
        sources?: boolean;
      }) => {
        const log = (line: string) => process.stderr.write(`${line}\n`);
        // Every requested binary at once: on a cold cache each is a Go build of many minutes, and
        // Go shares its module and build caches between them (ADR 0001). allSettled so one failure
        // does not leave the other builds orphaned mid-way; the first failure is then thrown
        // (a ProvisionError naming why neither the download nor the Go build worked).
        const results = await Promise.allSettled([
          resolveTemporalCli(log),
          ...(opts.kube ? [resolveKubeBinaries(log)] : []),
          ...(opts.s3 ? [resolveMinio(log)] : []),
          ...(opts.helm ? [resolveHelm(log)] : []),
          ...(opts.temporalCluster ? [resolveTemporalServer(log), resolveTemporalUiServer(log)] : []),
          ...(opts.controllers ? [resolveControllerBinaries(log)] : []),
          ...(opts.sources ? [resolveGoaws(log), resolveKfake(log)] : []),
        ]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    );
}
