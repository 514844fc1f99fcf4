// Connections the CLI commands open from the parsed Config: a Temporal client (and the native
// connection a Worker needs), and a KubeConfig when one is available. An unreachable Temporal
// becomes one error that says where we looked and how to start or point at a server.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.js';
import { LayerError } from '../util/errors.js';

/** Temporal is not reachable at the configured address. */
export class TemporalUnreachableError extends LayerError {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `cannot reach Temporal at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`,
      'start a local one with `layer dev up`, or set TEMPORAL_ADDRESS to your Temporal frontend (host:port)',
      { cause },
    );
  }
}

const CONNECT_TIMEOUT_MS = 5000;

export interface TemporalClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** A Temporal client on config.temporal, or TemporalUnreachableError. */
export async function connectTemporalClient(config: Config): Promise<TemporalClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.temporal.address,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    throw new TemporalUnreachableError(config.temporal.address, err);
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { client, connection, close: () => connection.close() };
}

/** The connection a Temporal Worker polls with, or TemporalUnreachableError. */
export async function connectTemporalWorker(config: Config): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address: config.temporal.address });
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
  const kc = new KubeConfig();
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

/** The Temporal UI's page for one workflow, when the UI address is known (dev env). */
export function temporalUiWorkflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
