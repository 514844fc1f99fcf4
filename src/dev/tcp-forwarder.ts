// The local cluster's load balancer: one TCP address (127.0.0.1:<port>) in front of every
// Temporal frontend, as a real install puts an L4 load balancer or a Kubernetes Service in front
// of its frontend pods. Each client connection goes to the next frontend in turn; a frontend that
// refuses the connection (its host died) is skipped, so clients keep one address while any
// frontend lives. gRPC reconnects on its own when the frontend behind a connection dies.
// docs/adr/0081-temporal-cluster-behind-a-tcp-forwarder.md says why not gRPC multi-address.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpForwarder {
  /** host:port clients dial. */
  address: string;
  port: number;
  /** Connections handed to each backend so far (tests read it). */
  connections: Record<string, number>;
  close(): Promise<void>;
}

export interface Backend {
  host: string;
  port: number;
}

/** "host:port" → Backend, with the field named on bad input. */
export function parseBackend(raw: string): Backend {
  const at = raw.lastIndexOf(':');
  const port = Number(raw.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`backend "${raw}" is not host:port (e.g. 127.0.0.2:7233)`);
  return { host: raw.slice(0, at), port };
}

/** The order to try backends for the n-th connection: round robin, then the rest in order. */
export function backendOrder(count: number, n: number): number[] {
  return Array.from({ length: count }, (_, i) => (n + i) % count);
}

function connectFirst(
  backends: readonly Backend[],
  order: number[],
  connectTimeoutMs: number,
): Promise<[Socket, Backend]> {
  return new Promise((resolve, reject) => {
    const errors: string[] = [];
    const attempt = (k: number) => {
      if (k >= order.length) return reject(new Error(`no frontend answered: ${errors.join('; ')}`));
      const b = backends[order[k]!]!;
      const socket = createConnection({ host: b.host, port: b.port });
      const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve([socket, b]);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        errors.push(`${b.host}:${b.port} ${err.message}`);
        attempt(k + 1);
      });
    };
    attempt(0);
  });
}

export async function startTcpForwarder(opts: {
  listenHost?: string;
  listenPort?: number;
  backends: readonly Backend[];
  connectTimeoutMs?: number;
}): Promise<TcpForwarder> {
  if (opts.backends.length === 0) throw new Error('backends: at least one host:port is needed');
  const host = opts.listenHost ?? '127.0.0.1';
  const connections: Record<string, number> = {};
  const open = new Set<Socket>();
  let n = 0;
  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.pause();
    client.on('error', () => client.destroy());
    connectFirst(opts.backends, backendOrder(opts.backends.length, n++), opts.connectTimeoutMs ?? 2_000).then(
      ([upstream, b]) => {
        const key = `${b.host}:${b.port}`;
        connections[key] = (connections[key] ?? 0) + 1;
        open.add(upstream);
        upstream.once('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    address: `${host}:${port}`,
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
