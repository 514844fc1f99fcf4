// `npm start -- --rows 3000` after a 10,000-row run: the catalogue keeps its rows (they may be
// tagged) and the log says why the run reports more rows than asked, and how to start over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCatalogue } from '../../../src/cli/commands/start.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';

let server: StoreServer;
let store: StoreClient;
beforeAll(async () => {
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url, apiKey: 'test', maxRetries: 0 });
});
afterAll(() => server.close());

describe('ensureCatalogue', () => {
  it('says the store already holds more rows from an earlier run, and how to reset', async () => {
    const lines: string[] = [];
    await ensureCatalogue(store, 'catalogue-rerun', 120, (l) => lines.push(l), new AbortController().signal);
    expect(lines).toEqual(['seeding 120 product rows into catalogue-rerun']);
    lines.length = 0;
    await ensureCatalogue(store, 'catalogue-rerun', 30, (l) => lines.push(l), new AbortController().signal);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('the store already holds 120 rows in catalogue-rerun from an earlier run');
    expect(lines[0]).toContain('layer dev down --purge');
    expect(await store.countRows('catalogue-rerun')).toBe(120);
  });
});
