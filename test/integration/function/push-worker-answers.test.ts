// Push workers are other tenants' code: what they answer must not hurt the shared orchestrator
// or the rows (issue 28 items 3-5, docs/adr/0073). Real HTTP servers, the real Temporal dev
// server and the embedded store: an endless answer is cut at its limit and read no further, a
// redirect is never followed (the host it names receives nothing), and an HTML page with 200
// degrades the Function like an unreachable worker instead of dead-lettering its rows.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RunBatchRequest } from '../../../packages/worker/src/contracts/function.js';
import {
  engineHarnessPerFile,
  range,
  readAll,
  seededFunction,
  startFunction,
  statusOf,
  statusWhen,
} from './harness.js';
import { STORE_MAX_ATTRIBUTE_VALUE_BYTES } from '../../../packages/worker/src/contracts/store-limits.js';

const h = engineHarnessPerFile();

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function httpServer(
  handler: Handler,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The right answer to a /run request: each row tagged with the words of its title. */
function rightAnswer(body: string): string {
  const request = JSON.parse(body) as RunBatchRequest;
  return JSON.stringify({
    outputs: request.rows.map((r) => ({
      id: r.id,
      value: String(r.inputs.title).toLowerCase().split(/\s+/),
    })),
  });
}

describe('what a push worker answers', () => {
  it('stops reading an endless answer at its limit and fails the batch as the worker’s, naming the limit', async () => {
    /** Bytes each request got out before the orchestrator hung up. */
    const sent: number[] = [];
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const worker = await httpServer((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"outputs":[{"id":1,"value":"');
      let bytes = 0;
      const index = sent.push(0) - 1;
      // Endless: write as fast as the client reads, until it closes the connection (or 1 GiB).
      const pump = () => {
        while (bytes < 1024 * chunk.length) {
          bytes += chunk.length;
          sent[index] = bytes;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}]}');
      };
      res.on('close', () => (sent[index] = bytes));
      pump();
    });
    try {
      const fn = await seededFunction(h, 'huge', 2, {
        worker: { dispatch: 'push', batchSize: 1, timeoutSeconds: 30, pushUrl: worker.url },
        retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
      });
      await startFunction(h, fn.spec);
      await statusWhen(h, fn, (s) => s.counters.deadLettered === 2, 60_000, 'both rows dead-lettered');
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_error']);
      for (const row of rows) {
        expect(row.tags ?? null).toBeNull();
        expect(String(row.tags_error)).toMatch(/answered more than \d+ bytes/);
        expect(String(row.tags_error)).toMatch(/LAYER_PUSH_MAX_ANSWER_BYTES/);
      }
      // One row per batch: the limit is 8 MiB + 64 KiB; the worker got little more than that
      // out (socket buffers) before the orchestrator hung up — never the whole GiB.
      expect(sent.length).toBeGreaterThanOrEqual(2);
      for (const bytes of sent)
        expect(bytes).toBeLessThan(STORE_MAX_ATTRIBUTE_VALUE_BYTES + 24 * 1024 * 1024);
    } finally {
      await worker.close();
    }
  });

  it('never follows a redirect: the Function degrades naming the Location, which receives nothing', async () => {
    let elsewhereRequests = 0;
    const elsewhere = await httpServer((_req, body, res) => {
      elsewhereRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(rightAnswer(body));
    });
    let redirects = 0;
    const worker = await httpServer((_req, _body, res) => {
      redirects += 1;
      res.writeHead(307, { location: `${elsewhere.url}/run` }).end();
    });
    try {
      const fn = await seededFunction(h, 'redirect', 4, {
        worker: { dispatch: 'push', batchSize: 2, timeoutSeconds: 5, pushUrl: worker.url },
      });
      await startFunction(h, fn.spec);
      const s = await statusWhen(
        h,
        fn,
        (x) => x.degraded !== undefined && redirects >= 2,
        30_000,
        'degraded after redirects',
      );
      expect(s.degraded?.reason).toBe('WorkerUnavailable');
      expect(s.degraded?.message).toContain(`redirecting to ${elsewhere.url}/run`);
      expect(s.counters.deadLettered).toBe(0);
      expect(elsewhereRequests).toBe(0);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags_error']);
      expect(rows.every((r) => (r.tags_error ?? null) === null)).toBe(true);
    } finally {
      await worker.close();
      await elsewhere.close();
    }
  });

  it('degrades on a 200 that is not JSON (an HTML page) without dead-lettering, and recovers', async () => {
    let healthy = false;
    let htmlAnswers = 0;
    const worker = await httpServer((_req, body, res) => {
      if (healthy)
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(rightAnswer(body));
      htmlAnswers += 1;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
    });
    try {
      const fn = await seededFunction(h, 'html', 8, {
        worker: { dispatch: 'push', batchSize: 2, timeoutSeconds: 5, pushUrl: worker.url },
        retry: { maxAttempts: 2, initialBackoffSeconds: 0, maxBackoffSeconds: 1 },
      });
      await startFunction(h, fn.spec);
      const degraded = await statusWhen(
        h,
        fn,
        (x) => x.degraded !== undefined && htmlAnswers >= 3,
        30_000,
        'degraded on HTML answers',
      );
      expect(degraded.degraded?.reason).toBe('WorkerUnavailable');
      expect(degraded.degraded?.message).toMatch(/not JSON \(content-type text\/html\)/);
      // Several probes later still nothing is dead-lettered: it is not the rows' fault.
      await statusWhen(h, fn, () => htmlAnswers >= 5, 30_000, 'more HTML answers');
      expect((await statusOf(h, fn.ref)).counters.deadLettered).toBe(0);
      healthy = true;
      const done = await statusWhen(
        h,
        fn,
        (x) => x.counters.processed === 8 && x.degraded === undefined,
        60_000,
        'recovered',
      );
      expect(done.counters.deadLettered).toBe(0);
      const rows = await readAll(h.store, fn.storeNamespace, ['tags', 'tags_error']);
      expect(rows.map((r) => [r.id, r.tags, r.tags_error ?? null])).toEqual(
        range(1, 9).map((id) => [id, ['product', 'number', String(id), 'deluxe'], null]),
      );
    } finally {
      await worker.close();
    }
  });
});
