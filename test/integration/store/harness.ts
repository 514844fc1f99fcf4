// Shared setup for store tests: an embedded store on a free port, talked to only through the
// official client (and the project's store client built on it).
import { Turbopuffer } from '@turbopuffer/turbopuffer';
import { startStoreServer, type StoreServer, type StoreServerOptions } from '../../../src/store/server.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';

export interface Harness {
  server: StoreServer;
  tpuf: Turbopuffer;
  store: StoreClient;
}

export async function startHarness(opts: StoreServerOptions = { memory: true }): Promise<Harness> {
  const server = await startStoreServer(opts);
  const apiKey = opts.apiKeys?.[0] ?? 'test-key';
  return {
    server,
    // maxRetries 0: the store answers retryable errors only on real failures; tests fail fast.
    tpuf: new Turbopuffer({ apiKey, baseURL: server.url, region: null, maxRetries: 0 }),
    store: createStoreClient({ baseUrl: server.url, apiKey, maxRetries: 0 }),
  };
}

let counter = 0;
/** A namespace name unique within the run, so tests never see each other's rows. */
export function uniqueNamespace(prefix = 'test'): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
