import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Distinct free ports (asked for together so one call never returns the same port twice). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Poll `check` until it resolves true, or fail after `timeoutMs` with the last error. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  {
    timeoutMs = 60_000,
    intervalMs = 200,
    isAlive,
  }: { timeoutMs?: number; intervalMs?: number; isAlive?: () => string | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const dead = isAlive?.();
    if (dead) throw new Error(`${what}: process exited before it was ready: ${dead}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`${what} was not ready after ${timeoutMs} ms${detail}`);
}

/**
 * Whether an HTTPS GET of `url` answers 200 within 2 s: with `ca`, the server's certificate must
 * chain to it; without, any certificate is taken (a health port's self-signed one).
 */
export function httpsOk(url: string, opts: { token?: string; ca?: string } = {}): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
    const tls = opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false };
    const req = httpsRequest(url, { headers, timeout: 2_000, ...tls }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
