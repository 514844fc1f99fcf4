// Listen/close for the SDK's push servers (Function /run and Pipeline /run), written once.
import type { Server } from 'node:http';

export interface Listening {
  server: Server;
  /** Resolves with the port once listening (0 picks a free one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

export function listening(server: Server): Listening {
  return {
    server,
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
