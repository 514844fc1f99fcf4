// The HTTP frame both push workers share (Function POST /run, Pipeline POST /process): the
// readiness probe, the one route, the body, a cancel signal, and a handler's failure as 429 or 500.
import { createServer, type IncomingMessage } from 'node:http';
import { RateLimitedError } from './claim-execution/rate-limit-gate.js';
import { listening, type Listening } from './http-listen.js';

export interface PushReply {
  status: number;
  body: unknown;
}

/**
 * A push server: GET /healthz (or /readyz) → 200, POST `route` → `handle(body text, …)`'s reply,
 * anything else 404. `signal` aborts when the caller hangs up. A thrown RateLimitedError is a 429
 * carrying its Retry-After, anything else a 500; `errorText` shapes the message either way.
 */
export function pushServer(
  route: string,
  handle: (body: string, req: IncomingMessage, signal: AbortSignal) => Promise<PushReply>,
  errorText: (message: string) => string = (message) => message,
): Listening {
  const server = createServer((req, res) => {
    void (async () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz'))
        return send(200, { status: 'ok' });
      if (req.method !== 'POST' || req.url !== route)
        return send(404, { error: `not found: use POST ${route} or GET /healthz` });
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const controller = new AbortController();
      req.on('close', () => controller.abort());
      try {
        const reply = await handle(Buffer.concat(chunks).toString('utf8'), req, controller.signal);
        send(reply.status, reply.body);
      } catch (err) {
        // The provider's 429 passes through, Retry-After included: the orchestrator then slows
        // the workload's shared rate limit down (docs/adr/0051).
        if (err instanceof RateLimitedError) {
          if (err.retryAfterMs !== undefined)
            res.setHeader('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
          return send(429, { error: errorText(err.message) });
        }
        send(500, { error: errorText(err instanceof Error ? err.message : String(err)) });
      }
    })();
  });
  return listening(server);
}
