// Connection options from a worker's Temporal settings: API key and TLS (mTLS files) as the
// Temporal SDKs' environment configuration defines them.
import { readFileSync } from 'node:fs';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { WorkerSettings } from './env.js';
import { s3DataConverter } from './codec/s3-payload-codec.js';

/** The environment's Temporal settings with an explicit address or namespace from options. */
export function withTemporalOverrides(
  temporal: WorkerSettings['temporal'],
  options: { address?: string; namespace?: string } | undefined,
): WorkerSettings['temporal'] {
  return {
    ...temporal,
    ...(options?.address ? { address: options.address } : {}),
    ...(options?.namespace ? { namespace: options.namespace } : {}),
  };
}

/** NativeConnection options for the settings' address, API key and TLS (files are read now). */
export function nativeConnectionOptions(temporal: WorkerSettings['temporal']): NativeConnectionOptions {
  const tls = temporal.tls;
  return {
    address: temporal.address,
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
    ...(tls
      ? {
          tls: {
            ...(tls.clientCertPath && tls.clientKeyPath
              ? {
                  clientCertPair: {
                    crt: readFileSync(tls.clientCertPath),
                    key: readFileSync(tls.clientKeyPath),
                  },
                }
              : {}),
            ...(tls.serverCaCertPath ? { serverRootCACertificate: readFileSync(tls.serverCaCertPath) } : {}),
            ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
          },
        }
      : // The SDK turns TLS on whenever an API key is set; TEMPORAL_TLS=false means a plain
        // connection with the key (a local server, a TLS-terminating sidecar).
        temporal.apiKey
        ? { tls: false }
        : {}),
  };
}

/** The payload codec the settings name (the orchestrator's S3 codec, same variables), if any. */
export function workerDataConverter(settings: WorkerSettings): DataConverter | undefined {
  const p = settings.payloads;
  return p
    ? s3DataConverter({
        bucket: p.bucket,
        prefix: p.prefix,
        ...(p.thresholdBytes !== undefined ? { thresholdBytes: p.thresholdBytes } : {}),
      })
    : undefined;
}
