// A small HTTP proxy in front of the embedded store for the chaos run. On a seeded schedule it
// injects the faults a real network and a real Turbopuffer give: 429 with Retry-After, 500s
// (before the store saw the request, and after it applied it — the case that tests idempotent
// writes), connection resets, and stalls of 2–10 s. It keeps a log of every write that reached
// the store and what the store answered, from which the chaos verdict finds version regressions.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { rng } from '../src/store/seed.js';

/** A seeded PRNG (mulberry32): the same seed gives the same fault schedule. */
export const seededRandom = rng;

export type FaultKind = 'none' | 'quota' | 'error-before' | 'error-after' | 'reset' | 'stall';

/** What to do with one request: pure, so the schedule is a function of the seed and the rate. */
export function chooseFault(random: () => number, rate: number): { kind: FaultKind; stallMs: number } {
  if (random() >= rate) return { kind: 'none', stallMs: 0 };
  const kinds: FaultKind[] = ['quota', 'error-before', 'error-after', 'reset', 'stall'];
  const kind = kinds[Math.floor(random() * kinds.length)]!;
  return { kind, stallMs: kind === 'stall' ? 2_000 + Math.floor(random() * 8_000) : 0 };
}

/** One write the store answered 200 to, as the verdict needs it. */
export interface LoggedWrite {
  namespace: string;
  /** Row id → the value of the version attribute in this patch. */
  versions: Map<string, string>;
  rows: number;
  /** Rows the store reports patched; equal to `rows` means every row of the patch was applied. */
  patched: number;
  sentAtMs: number;
  doneAtMs: number;
}

export interface FaultProxy {
  url: string;
  /** Fault probability per request; 0 passes everything through. */
  setRate(rate: number): void;
  faults: Record<FaultKind, number>;
  writes: LoggedWrite[];
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  target: { host: string; port: number };
  seed: number;
  rate: number;
  /** The attribute whose value the write log records per row (e.g. `emb_v`). */
  versionAttribute: string;
  port?: number;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const random = seededRandom(opts.seed);
  let rate = opts.rate;
  const faults: Record<FaultKind, number> = {
    none: 0,
    quota: 0,
    'error-before': 0,
    'error-after': 0,
    reset: 0,
    stall: 0,
  };
  const writes: LoggedWrite[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const fault = chooseFault(random, rate);
    faults[fault.kind] += 1;
    if (fault.kind === 'quota') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ status: 'error', error: 'chaos: rate limited, retry after 1s' }));
      return;
    }
    if (fault.kind === 'error-before') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', error: 'chaos: internal error before the write' }));
      return;
    }
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'stall') await new Promise((r) => setTimeout(r, fault.stallMs));
    const sentAtMs = Date.now();
    const upstream = await forward(opts.target, req, body).catch(() => undefined);
    if (!upstream) {
      // The store is down (killed by the chaos schedule): the client sees a reset, as it would.
      req.socket.destroy();
      return;
    }
    if (upstream.status === 200 && req.method === 'POST' && isWritePath(req.url ?? '')) {
      logWrite(writes, opts.versionAttribute, req, body, upstream.body, sentAtMs);
    }
    if (fault.kind === 'error-after') {
      // The store applied it; the client is told it failed and will send it again.
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', error: 'chaos: internal error after the write' }));
      return;
    }
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setRate: (r) => {
      rate = r;
    },
    faults,
    writes,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isWritePath(url: string): boolean {
  return /^\/v[12]\/namespaces\/[^/?]+(\?|$)/.test(url);
}

function forward(
  target: { host: string; port: number },
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...req.headers,
      host: `${target.host}:${target.port}`,
      'content-length': String(body.length),
    };
    const up = httpRequest(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers, timeout: 120_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined && k !== 'connection') out[k] = v;
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    up.on('error', reject);
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.end(body);
  });
}

function logWrite(
  writes: LoggedWrite[],
  versionAttribute: string,
  req: IncomingMessage,
  body: Buffer,
  response: Buffer,
  sentAtMs: number,
): void {
  try {
    const text = (req.headers['content-encoding'] ?? '').includes('gzip') ? gunzipSync(body) : body;
    const parsed = JSON.parse(text.toString('utf8')) as { patch_rows?: Record<string, unknown>[] };
    const rows = parsed.patch_rows ?? [];
    const versions = new Map<string, string>();
    for (const row of rows) {
      const v = row[versionAttribute];
      if (typeof v === 'string') versions.set(String(row.id), v);
    }
    if (versions.size === 0) return;
    const answer = JSON.parse(response.toString('utf8')) as { rows_patched?: number; rows_affected?: number };
    const namespace = decodeURIComponent((req.url ?? '').split('/')[3]!.split('?')[0]!);
    writes.push({
      namespace,
      versions,
      rows: rows.length,
      patched: Number(answer.rows_patched ?? answer.rows_affected ?? 0),
      sentAtMs,
      doneAtMs: Date.now(),
    });
  } catch {
    // Not a JSON write we understand (e.g. a gzip response body): not a versioned patch.
  }
}

/**
 * Rows written at a lower version after a higher one. A regression is counted only when it is
 * proven by the log: a fully applied patch (every row patched) carrying version `lo` for a row,
 * sent after a fully applied patch carrying a higher version `hi` for the same row had completed.
 * Partly applied patches are not counted: their refused rows are exactly the stale ones the
 * compare-and-set kept out, and the final-state check covers what they did write.
 */
export function findRegressions(writes: readonly LoggedWrite[], order: (v: string) => number): number {
  const highest = new Map<string, { version: number; doneAtMs: number }[]>();
  const applied = writes.filter((w) => w.patched === w.rows);
  for (const w of applied) {
    for (const [id, v] of w.versions) {
      const key = `${w.namespace}/${id}`;
      const list = highest.get(key) ?? [];
      list.push({ version: order(v), doneAtMs: w.doneAtMs });
      highest.set(key, list);
    }
  }
  let regressions = 0;
  for (const w of applied) {
    for (const [id, v] of w.versions) {
      const list = highest.get(`${w.namespace}/${id}`) ?? [];
      if (list.some((h) => h.version > order(v) && h.doneAtMs < w.sentAtMs)) regressions += 1;
    }
  }
  return regressions;
}
