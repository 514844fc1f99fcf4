// runWorker follows the environment: LAYER_DISPATCH=push serves the handler on LAYER_PORT, and a
// worker without the handler its workload kind needs is refused before anything starts.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runWorker } from '../../../packages/worker/src/index.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('runWorker', () => {
  it('LAYER_DISPATCH=push serves POST /run on LAYER_PORT until aborted', async () => {
    const port = await freePort();
    const controller = new AbortController();
    let ready!: (info: { dispatch: string; port?: number }) => void;
    const started = new Promise<{ dispatch: string; port?: number }>((r) => (ready = r));
    const running = runWorker({
      handler: (rows) => rows.map((r) => ({ id: r.id, value: String(r.inputs.title).toUpperCase() })),
      env: { LAYER_DISPATCH: 'push', LAYER_PORT: String(port), LAYER_WORKLOAD_KIND: 'Function' },
      signal: controller.signal,
      onReady: ready,
    });
    expect(await started).toMatchObject({ dispatch: 'push', port });
    const res = await fetch(`http://127.0.0.1:${port}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        batchId: 'b1',
        function: { k8sNamespace: 'layer', name: 'tag' },
        namespace: 'products',
        output: { attribute: 'tags', kind: 'tags', version: 'v1' },
        rows: [{ id: 1, inputs: { title: 'lamp' } }],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ outputs: [{ id: 1, value: 'LAMP' }] });
    controller.abort();
    await running;
  });

  it.each([
    // a Pipeline pod needs a process function, a Function pod a handler
    [{ LAYER_WORKLOAD_KIND: 'Pipeline' }, { handler: () => [] }, /Pipeline worker needs options.process/],
    [{ LAYER_WORKLOAD_KIND: 'Function' }, { process: () => [] }, /Function worker needs options.handler/],
    // a bad variable is named before anything connects
    [{ LAYER_DISPATCH: 'pool' }, { handler: () => [] }, /LAYER_DISPATCH=pool/],
  ])('refuses %o', async (env, opts, error) => {
    await expect(runWorker({ ...opts, env, signal: AbortSignal.abort() })).rejects.toThrow(error);
  });
});
