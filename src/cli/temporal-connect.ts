// The Temporal client the CLI commands open from the parsed Config. An unreachable Temporal
// becomes one error that says where we looked and how to start or point at a server. Kept free
// of @temporalio/worker and @kubernetes/client-node so `apply` and `function` start quickly
// (the long-running roles load those from roles.ts).
import { Client, Connection } from '@temporalio/client';
import { payloadDataConverter, type Config } from '../config.js';
import { nativeConnectionOptions } from '../../packages/worker/src/temporal-connection.js';
import { LayerError } from '../../packages/worker/src/util/errors.js';
import { tracingClientOptions } from '../../packages/worker/src/observe/tracing.js';

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

/**
 * Address, API key and TLS (TEMPORAL_API_KEY, TEMPORAL_TLS*) of config.temporal as connection
 * options — the same helper the worker SDK uses, so the orchestrator and workers connect alike.
 */
export function temporalConnectionOptions(config: Config): ReturnType<typeof nativeConnectionOptions> {
  const t = config.temporal;
  return nativeConnectionOptions({
    address: t.address,
    namespace: t.namespace,
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
    ...(t.tls ? { tls: t.tls } : {}),
  });
}

/** A Temporal client on config.temporal, or TemporalUnreachableError. */
export async function connectTemporalClient(config: Config): Promise<TemporalClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...temporalConnectionOptions(config),
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    throw new TemporalUnreachableError(config.temporal.address, err);
  }
  const dataConverter = payloadDataConverter(config);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
    // Tracing on: every start/signal/update carries the caller's span to the workflow.
    ...tracingClientOptions(),
  });
  return { client, connection, close: () => connection.close() };
}

/** The Temporal UI's page for one workflow, when the UI address is known (dev env). */
export function temporalUiWorkflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
