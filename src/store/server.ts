// The HTTP face of the embedded store: the Turbopuffer v2 routes the official client calls
// (see ../../../shared/reference/turbopuffer.md §2), answered synchronously. Errors are
// `{"status":"error","error":"…"}` with the real status codes. Every 4xx carries
// `x-should-retry: false`: the request itself is wrong, so the client must not spend seconds
// retrying it. A 5xx (a failed fsync, a bug) carries no hint and stays retryable.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { StoreEngineError, badRequest } from './storage/errors.js';
import { Store, type StoreOptions } from './storage/store.js';
import type { IndexLagOptions } from './storage/index-lag.js';
import type { WriteRateLimitOptions } from './storage/write-rate-limit.js';
import type { NamespaceState } from './storage/namespace.js';
import { createHeapGovernor } from './heap-governor.js';
import type { RequestAudit } from './storage/request-audit.js';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

export interface StoreServerOptions {
  /** Durable data directory. Exactly one of `dataDir` and `memory` is expected. */
  dataDir?: string;
  /** Keep everything in memory (tests). */
  memory?: boolean;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Accepted bearer keys; empty or omitted means open. */
  apiKeys?: string[];
  /** Largest accepted request body, in bytes (default 512 MiB, the service's limit). */
  maxBodyBytes?: number;
  /** Passed to the engine (checkpoint threshold). */
  minSnapshotWalBytes?: number;
  /** Passed to the engine (decoded rows cached per durable namespace). */
  rowCacheRows?: number;
  /** Passed to the engine (rows from which unfiltered ANN queries use the HNSW index). */
  annThreshold?: number;
  /**
   * Garbage (bytes) tolerated above the live heap before a full collection (heap-governor.ts);
   * default 64 MiB for a durable store, off in memory. 0 turns it off.
   */
  heapBudgetBytes?: number;
  /** The engine's clock (created_at, updated_at, …), injectable for tests. */
  now?: () => number;
  /**
   * Model the service's indexing lag (docs/adr/0098): writes past an outstanding-write budget
   * stay invisible to queries until a background indexer catches up; past a backpressure limit
   * writes get 429. Off by default: every write is visible when it returns.
   */
  indexLag?: IndexLagOptions;
  /** Per-namespace write rate limits (rows/s, bytes/s) answered with 429 + Retry-After. Off by default. */
  writeRateLimit?: WriteRateLimitOptions;
  /**
   * Record the largest request of each kind (body bytes, rows per write, top_k, patch_by_filter
   * rows, filter bytes) and refusals by status, in `store.audit` (docs/adr/0112). Off by default.
   */
  auditRequests?: boolean;
}

export interface StoreServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

type Obj = Record<string, unknown>;

class HttpError extends StoreEngineError {}

/**
 * Starts the embedded Turbopuffer-compatible store.
 *
 * @example
 * const server = await startStoreServer({ memory: true });
 * const tpuf = new Turbopuffer({ apiKey: 'x', baseURL: server.url, region: null });
 * await tpuf.namespace('demo').write({ upsert_rows: [{ id: 1, title: 'hi' }] });
 * await server.close();
 */
export async function startStoreServer(opts: StoreServerOptions = {}): Promise<StoreServer> {
  if (!opts.memory && !opts.dataDir) throw new Error('startStoreServer: pass dataDir, or memory: true');
  const storeOpts: StoreOptions = {
    minSnapshotWalBytes: opts.minSnapshotWalBytes,
    rowCacheRows: opts.rowCacheRows,
    annThreshold: opts.annThreshold,
    now: opts.now,
    indexLag: opts.indexLag,
    writeRateLimit: opts.writeRateLimit,
    auditRequests: opts.auditRequests,
  };
  if (!opts.memory) storeOpts.dataDir = opts.dataDir;
  const store = await Store.open(storeOpts);
  const keys = new Set(opts.apiKeys ?? []);
  const maxBody = opts.maxBodyBytes ?? 512 * 1024 * 1024;
  const budget = opts.heapBudgetBytes ?? (opts.memory ? 0 : 64 * 1024 * 1024);
  const governor = budget > 0 ? createHeapGovernor(budget) : undefined;
  const server = createServer((req, res) => {
    void handle(store, keys, maxBody, req, res).finally(() => governor?.check());
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    store,
    close: () => closeServer(server, store),
  };
}

async function closeServer(server: Server, store: Store): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // A request still in flight after 5 s (a client that never reads its answer) is cut, so
    // closing cannot hang; every acknowledged write is already durable.
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  });
  await store.close();
}

/** The parsed body; its size goes to the request audit when there is one. */
async function readBody(req: IncomingMessage, max: number, audit?: RequestAudit): Promise<unknown> {
  const body = await readSizedBody(req, max);
  audit?.body(body.bytes);
  return body.value;
}

/** The parsed body and its size in bytes (after gunzip): a write's share of the log. */
async function readSizedBody(req: IncomingMessage, max: number): Promise<{ value: unknown; bytes: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `request body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  let buf: Buffer = Buffer.concat(chunks);
  if (buf.length === 0) return { value: undefined, bytes: 0 };
  if ((req.headers['content-encoding'] ?? '').includes('gzip')) buf = await gunzipBounded(buf, max);
  try {
    return { value: JSON.parse(buf.toString('utf8')), bytes: buf.length };
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Inflates a gzip body under the same size limit as a plain one: a small body that inflates to
 * gigabytes (a gzip bomb) is refused with 413 once the output passes `max`, never buffered whole.
 * A body labelled gzip that is not gzip is the client's mistake: 400, not a 500.
 */
async function gunzipBounded(buf: Buffer, max: number): Promise<Buffer> {
  try {
    return await gunzipAsync(buf, { maxOutputLength: max });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
      throw new HttpError(413, `request body inflates to more than ${max} bytes (gzip); send smaller writes`);
    throw badRequest(
      `request body is labelled content-encoding: gzip but is not valid gzip (${(e as Error).message}); ` +
        'compress the body or drop the header',
    );
  }
}

/** Decodes one `%`-escaped path segment; a malformed escape is the client's mistake (400). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(
      `malformed percent-escape in the request path segment ${JSON.stringify(segment.slice(0, 80))}; ` +
        'encode namespace names with encodeURIComponent',
    );
  }
}

async function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): Promise<void> {
  let payload: Buffer = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', ...extra };
  if (payload.length > 1024 && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    payload = await gzipAsync(payload);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = payload.length;
  res.writeHead(status, headers);
  res.end(payload);
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  audit: RequestAudit | undefined,
): Promise<void> {
  let status = err instanceof StoreEngineError ? err.status : 500;
  let message = err instanceof Error ? err.message : String(err);
  if (isStackOverflow(err)) {
    // Only a request can nest this deep (filters and values are bounded where we know them);
    // it is the caller's input, so it is a 400 and no stack is logged.
    status = 400;
    message = 'request is nested too deeply to evaluate; flatten the filter or value';
  }
  audit?.refusal(status);
  if (status >= 500)
    process.stderr.write(
      `store: internal error on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : message}\n`,
    );
  // A 429 (backpressure, rate limit) is the one 4xx a client should retry: it keeps the
  // client's retry, and a Retry-After when the error carries one.
  const headers: Record<string, string> = {
    ...(status < 500 && status !== 429 ? { 'x-should-retry': 'false' } : {}),
    ...(err instanceof StoreEngineError ? err.headers : {}),
  };
  return send(req, res, status, { status: 'error', error: message }, headers);
}

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /maximum call stack size exceeded/i.test(err.message);
}

function authorized(keys: Set<string>, req: IncomingMessage): boolean {
  if (keys.size === 0) return true;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return !!m && keys.has(m[1]!.trim());
}

function performance(started: number, extra: Obj = {}): Obj {
  const ms = Number(process.hrtime.bigint() - BigInt(started)) / 1e6;
  return { server_total_ms: Math.round(ms), ...extra };
}

async function handle(
  store: Store,
  keys: Set<string>,
  maxBody: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = Number(process.hrtime.bigint());
  try {
    if (!authorized(keys, req))
      throw new HttpError(401, 'unauthorized: missing or unknown API key (send Authorization: Bearer <key>)');
    const url = new URL(req.url ?? '/', 'http://store');
    // Route on the path alone; `?stainless_overload=…` is ignored. An optional leading
    // `/{region}` segment is accepted.
    let segs = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    if (segs.length > 1 && segs[0] !== 'v1' && segs[0] !== 'v2' && (segs[1] === 'v1' || segs[1] === 'v2'))
      segs = segs.slice(1);
    const [version, coll, name, action, ...rest] = segs;
    const method = req.method ?? 'GET';
    if (
      coll !== 'namespaces' ||
      (version !== 'v1' && version !== 'v2') ||
      rest.length > (action === '_debug' ? 1 : 0)
    )
      throw notFoundRoute(method, url.pathname);

    if (name === undefined) {
      if (method !== 'GET') throw notFoundRoute(method, url.pathname);
      const pageSizeRaw = url.searchParams.get('page_size');
      const pageSize = pageSizeRaw === null ? 100 : Number(pageSizeRaw);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
        throw badRequest('page_size must be an integer from 1 to 1000');
      const out = store.list(
        url.searchParams.get('prefix') ?? undefined,
        url.searchParams.get('cursor') ?? undefined,
        pageSize,
      );
      return await send(req, res, 200, out);
    }

    const route = `${method} ${version} ${action ?? ''}`;
    switch (route) {
      case 'POST v2 ':
      case 'POST v1 ': {
        const body = await readSizedBody(req, maxBody);
        store.audit?.body(body.bytes);
        const out = await store.write(name, body.value ?? {}, body.bytes);
        return await send(req, res, 200, { ...out, performance: performance(started) });
      }
      case 'DELETE v2 ':
      case 'DELETE v1 ':
        await store.deleteNamespace(name);
        return await send(req, res, 200, { status: 'OK' });
      case 'POST v2 query':
      case 'POST v1 query': {
        const body = ((await readBody(req, maxBody, store.audit)) ?? {}) as Obj;
        const t0 = process.hrtime.bigint();
        if (typeof body === 'object' && body !== null && 'queries' in body) {
          const out = store.multiQuery(name, body);
          return await send(req, res, 200, {
            results: out.results,
            billing: billing(),
            performance: performance(started, perf(out.size, out.examined, t0, store.get(name))),
          });
        }
        const out = store.query(name, body);
        const response: Obj = {};
        if (out.rows) response.rows = out.rows;
        if (out.aggregations) response.aggregations = out.aggregations;
        if (out.aggregation_groups) response.aggregation_groups = out.aggregation_groups;
        response.billing = billing();
        response.performance = performance(started, perf(out.size, out.examined, t0, store.get(name)));
        return await send(req, res, 200, response);
      }
      case 'POST v2 explain_query': {
        const body = await readBody(req, maxBody, store.audit);
        return await send(req, res, 200, { plan_text: store.explain(name, body ?? {}) });
      }
      case 'GET v1 metadata':
      case 'GET v2 metadata':
        return await send(req, res, 200, store.metadata(name, version));
      case 'PATCH v1 metadata':
      case 'PATCH v2 metadata': {
        const body = await readBody(req, maxBody, store.audit);
        return await send(req, res, 200, await store.updateMetadata(name, body ?? {}));
      }
      case 'GET v1 schema':
      case 'GET v2 schema':
        return await send(req, res, 200, store.schema(name));
      case 'POST v1 schema':
      case 'POST v2 schema': {
        const body = await readBody(req, maxBody, store.audit);
        return await send(req, res, 200, await store.updateSchema(name, body ?? {}));
      }
      case 'GET v1 hint_cache_warm':
      case 'GET v2 hint_cache_warm':
        store.metadata(name, 'v2'); // 404 for a missing namespace
        return await send(req, res, 202, { status: 'ACCEPTED', message: 'cache warm hint accepted' });
      case 'POST v1 _debug': {
        const body = ((await readBody(req, maxBody, store.audit)) ?? {}) as Obj;
        const topK = typeof body.top_k === 'number' ? body.top_k : 10;
        const count = Math.min(topK, store.get(name)?.rows.size ?? 0);
        store.metadata(name, 'v2');
        return await send(req, res, 200, {
          avg_recall: 1,
          avg_exhaustive_count: count,
          avg_ann_count: count,
        });
      }
      default:
        throw notFoundRoute(method, url.pathname);
    }
  } catch (err) {
    try {
      await sendError(req, res, err, store.audit);
    } catch {
      res.destroy();
    }
  }
}

function notFoundRoute(method: string, path: string): HttpError {
  return new HttpError(
    404,
    `no route for ${method} ${path}; the store serves the Turbopuffer v1/v2 namespace API`,
  );
}

function billing(): Obj {
  return { billable_logical_bytes_queried: 0, billable_logical_bytes_returned: 0 };
}

/**
 * The query's `performance` block, measured: execution time from the parsed body to the
 * result, the documents the query evaluated one by one, the namespace size, and the last write
 * the query saw. Everything is in memory, so every lookup is a cache hit.
 */
function perf(size: number, examined: number, t0: bigint, ns: NamespaceState | undefined): Obj {
  const out: Obj = {
    approx_namespace_size: size,
    cache_hit_ratio: 1,
    cache_temperature: 'hot',
    exhaustive_search_count: examined,
    query_execution_ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6),
  };
  if (ns) out.last_included_write_at = new Date(ns.meta.lastWriteAt).toISOString();
  return out;
}
