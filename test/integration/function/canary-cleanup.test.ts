// Canary cleanup touches only what its rollout wrote (issue 28 item 1, ADR 0087): two Functions
// misconfigured onto one output attribute each hold a canary of their own version in
// `tags__canary`; one aborting (clearCanary) must leave the other's side attributes on every row.
// The activity runs against the embedded store over HTTP through the official client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionActivities } from '../../../src/activities/function-activities.js';
import type { FunctionOutputSpec } from '../../../packages/worker/src/contracts/function.js';
import { canaryOutput } from '../../../src/envelope/rollout.js';
import { createStoreClient, type StoreClient } from '../../../packages/worker/src/store/client.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';

const ns = `canary-cleanup-${Date.now().toString(36)}`;
const output: FunctionOutputSpec = { attribute: 'tags', kind: 'tags', version: 'v1' } as FunctionOutputSpec;

let server: StoreServer;
let store: StoreClient;

beforeAll(async () => {
  server = await startStoreServer({ memory: true });
  store = createStoreClient({ baseUrl: server.url, apiKey: 'test' });
});

afterAll(async () => {
  await server?.close();
});

describe('clearCanary', () => {
  it("removes its own rollout's canary and leaves another version's canary rows alone", async () => {
    // Rows 1-10: Function A's canary of v2; rows 11-20: Function B's canary of v3 (same attribute);
    // row 21: a canary row of A's v2 that dead-lettered (only __canary_error, JSON with its version).
    const rows = Array.from({ length: 20 }, (_, i) => {
      const v = i < 10 ? 'v2' : 'v3';
      return { id: i + 1, title: `t${i + 1}`, tags__canary: [`c-${v}`], tags__canary_v: v };
    });
    await store.upsertRows(ns, [
      ...rows,
      {
        id: 21,
        title: 't21',
        tags__canary_error: JSON.stringify({ message: 'boom', attempts: 3, version: 'v2', at: 'x' }),
      },
      {
        id: 22,
        title: 't22',
        tags__canary_error: JSON.stringify({ message: 'boom', attempts: 3, version: 'v3', at: 'x' }),
      },
    ] as never);
    const activities = createFunctionActivities({ storeFor: () => store });

    const cleared = await activities.clearCanary({
      namespaces: [ns],
      canaryOutput: canaryOutput(output, 'v2'),
    });

    expect(cleared).toBe(11);
    const page = await store.scanPage({
      namespace: ns,
      limit: 100,
      attributes: ['tags__canary', 'tags__canary_v', 'tags__canary_error'],
    });
    const byId = new Map(page.rows.map((r) => [Number(r.id), r]));
    for (let id = 1; id <= 10; id++) {
      expect(byId.get(id)?.tags__canary ?? null).toBeNull();
      expect(byId.get(id)?.tags__canary_v ?? null).toBeNull();
    }
    for (let id = 11; id <= 20; id++) {
      expect(byId.get(id)).toMatchObject({ tags__canary: ['c-v3'], tags__canary_v: 'v3' });
    }
    expect(byId.get(21)?.tags__canary_error ?? null).toBeNull();
    expect(String(byId.get(22)?.tags__canary_error)).toContain('"version":"v3"');
  });
});
