// The store: all namespaces, their write locks, and (unless in memory) their disk persistence.
// Writes: lock the namespace → plan (pure validation) → log + fsync → apply → answer. Reads run
// synchronously (a durable namespace's rows are read from its segment with synchronous I/O)
// without the lock; since applying a plan is synchronous too, a read sees a write entirely or
// not at all.
import { badRequest, namespaceNotFound, unprocessable } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { NamespaceState } from './namespace.js';
import { applyRecord, DiskPersistence, type WalRecord } from './persistence.js';
import { fuseRrf, MAX_SUBQUERIES, runQuery, validateConsistency, type QueryOutput } from './query.js';
import {
  attributeCount,
  checkAttributeCount,
  compactSchema,
  mergeSchema,
  normalizedSchema,
  parseSchemaInput,
} from './schema.js';
import { planWrite } from './write.js';
import { rowBytes } from './rows.js';
import { IndexLagModel, type IndexLagOptions } from './index-lag.js';
import { requestRowCount, WriteRateLimiter, type WriteRateLimitOptions } from './write-rate-limit.js';
import { RequestAudit } from './request-audit.js';

type Obj = Record<string, unknown>;

export interface StoreOptions {
  /** Directory for durable data; omit for an in-memory store. */
  dataDir?: string;
  /** Log size at which a durable namespace is checkpointed (default 64 MiB). */
  minSnapshotWalBytes?: number;
  /** Decoded rows cached per durable namespace (rows.ts). */
  rowCacheRows?: number;
  /** Rows from which unfiltered ANN queries use an HNSW index (default 10,000). */
  annThreshold?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Model the service's indexing lag and write backpressure (index-lag.ts); off by default. */
  indexLag?: IndexLagOptions;
  /** Per-namespace write rate limits answered with 429 + Retry-After (write-rate-limit.ts); off by default. */
  writeRateLimit?: WriteRateLimitOptions;
  /** Record the largest request of each kind (request-audit.ts); off by default. */
  auditRequests?: boolean;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;

function validateNamespaceName(name: string): void {
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    throw badRequest(
      `invalid namespace name '${name.slice(0, 140)}': use 1-128 characters from [A-Za-z0-9-_.]`,
    );
  }
}

export class Store {
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly locks = new KeyedMutex();
  private readonly now: () => number;
  private readonly annThreshold: number | undefined;
  /** Present only with `indexLag`: queries then read what the modelled indexer has made visible. */
  readonly lag: IndexLagModel | undefined;
  private readonly rateLimit: WriteRateLimiter | undefined;
  /** Present only with `auditRequests`: the largest request of each kind seen. */
  readonly audit: RequestAudit | undefined;

  private constructor(
    private readonly disk: DiskPersistence | undefined,
    opts: StoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.annThreshold = opts.annThreshold;
    if (opts.indexLag) this.lag = new IndexLagModel(opts.indexLag);
    if (opts.writeRateLimit) this.rateLimit = new WriteRateLimiter(opts.writeRateLimit);
    if (opts.auditRequests) this.audit = new RequestAudit();
  }

  static async open(opts: StoreOptions = {}): Promise<Store> {
    const disk = opts.dataDir
      ? new DiskPersistence(opts.dataDir, opts.minSnapshotWalBytes, opts.rowCacheRows)
      : undefined;
    const store = new Store(disk, opts);
    if (disk) for (const ns of await disk.loadAll()) store.namespaces.set(ns.name, ns);
    return store;
  }

  private require(name: string): NamespaceState {
    validateNamespaceName(name);
    const ns = this.namespaces.get(name);
    if (!ns) throw namespaceNotFound(name);
    return ns;
  }

  /** The namespace as queries see it: under the lag model, without writes still invisible. */
  private requireVisible(name: string): NamespaceState {
    const ns = this.require(name);
    return this.lag ? this.lag.view(name, ns) : ns;
  }

  /** The namespace as queries see it (undefined when missing). */
  get(name: string): NamespaceState | undefined {
    const ns = this.namespaces.get(name);
    return ns && this.lag ? this.lag.view(name, ns) : ns;
  }

  list(
    prefix: string | undefined,
    cursor: string | undefined,
    pageSize: number,
  ): { namespaces: { id: string }[]; next_cursor?: string } {
    const names = [...this.namespaces.keys()]
      .filter((n) => (!prefix || n.startsWith(prefix)) && (!cursor || n > cursor))
      .sort();
    const page = names.slice(0, pageSize);
    const out: { namespaces: { id: string }[]; next_cursor?: string } = {
      namespaces: page.map((id) => ({ id })),
    };
    if (names.length > pageSize) out.next_cursor = page[page.length - 1]!;
    return out;
  }

  /**
   * `bodyBytes`: the request's size as received, the write's share of the log under the lag
   * model and of the byte rate limit; estimated from the documents written when omitted.
   */
  write(name: string, body: unknown, bodyBytes?: number): Promise<Obj> {
    validateNamespaceName(name);
    this.audit?.write(body);
    return this.locks.run(name, async () => {
      // Refusals first, so a refused write changes nothing and costs nothing.
      this.lag?.admit(name, body);
      this.rateLimit?.admit(name, requestRowCount(body), bodyBytes ?? 0);
      const existing = this.namespaces.get(name);
      const plan = planWrite(existing, name, body, { lookup: (n) => this.namespaces.get(n) });
      if (plan.patchedByFilter !== undefined) this.audit?.patchedByFilter(plan.patchedByFilter);
      if (!existing && !plan.creates) return plan.response;
      const at = this.now();
      const rec: WalRecord = {
        at,
        schema: [...plan.schema],
        dm: plan.distanceMetric ?? null,
        put: [],
        del: [],
      };
      if (plan.creates) rec.created = at;
      if (plan.sharding) rec.sharding = plan.sharding;
      for (const [id, row] of plan.changes) {
        if (row) rec.put.push([id, row]);
        else rec.del.push(id);
      }
      const snapshotDue = this.disk ? await this.disk.append(name, rec) : false;
      const meta = { createdAt: at, updatedAt: at, lastWriteAt: at };
      const ns = existing ?? (this.disk ? this.disk.create(name, meta) : new NamespaceState(name, meta));
      this.lag?.record(name, existing, rec, bodyBytes ?? recordBytes(rec));
      applyRecord(ns, rec);
      this.namespaces.set(name, ns);
      if (snapshotDue) await this.disk!.snapshot(ns);
      return plan.response;
    });
  }

  query(name: string, body: unknown): QueryOutput & { size: number } {
    this.audit?.query(body);
    const ns = this.requireVisible(name);
    const out = runQuery(ns, body as Obj, { annThreshold: this.annThreshold });
    return { ...out, size: ns.rows.size };
  }

  multiQuery(name: string, body: Obj): { results: Obj[]; examined: number; size: number } {
    this.audit?.query(body);
    const ns = this.requireVisible(name);
    for (const key of Object.keys(body)) {
      if (!['queries', 'consistency', 'vector_encoding', 'rerank_by', 'limit'].includes(key)) {
        throw unprocessable(
          `unknown field \`${key}\` in multi-query; sub-query fields go inside \`queries\``,
        );
      }
    }
    validateConsistency(body.consistency);
    const queries = body.queries;
    if (!Array.isArray(queries) || queries.length === 0)
      throw unprocessable('queries: expected a non-empty array of queries');
    if (queries.length > MAX_SUBQUERIES)
      throw badRequest(`at most ${MAX_SUBQUERIES} queries per multi-query, got ${queries.length}`);
    const enc = body.vector_encoding === 'base64' ? 'base64' : 'float';
    let examined = 0;
    const outs = queries.map((q, i) => {
      try {
        const o = runQuery(ns, q as Obj, { vectorEncoding: enc, annThreshold: this.annThreshold });
        examined += o.examined;
        return o;
      } catch (e) {
        if (e instanceof Error) e.message = `queries[${i}]: ${e.message}`;
        throw e;
      }
    });
    if (body.rerank_by != null) {
      const rr = body.rerank_by;
      if (!Array.isArray(rr) || rr[0] !== 'RRF')
        throw badRequest('rerank_by: expected ["RRF"] or ["RRF", {"rank_constant": k, "weights": [...]}]');
      const lim = body.limit;
      const total =
        typeof lim === 'number'
          ? lim
          : typeof lim === 'object' && lim !== null
            ? Number((lim as Obj).total)
            : Math.max(...outs.map((o) => o.rows?.length ?? 0));
      return {
        results: [
          {
            rows: fuseRrf(
              outs.map((o) => o.rows ?? []),
              rr[1],
              total,
            ),
          },
        ],
        examined,
        size: ns.rows.size,
      };
    }
    const results = outs.map((o) => {
      const r: Obj = {};
      if (o.rows) r.rows = o.rows;
      if (o.aggregations) r.aggregations = o.aggregations;
      if (o.aggregation_groups) r.aggregation_groups = o.aggregation_groups;
      return r;
    });
    return { results, examined, size: ns.rows.size };
  }

  explain(name: string, body: unknown): string {
    return this.query(name, body).plan;
  }

  deleteNamespace(name: string): Promise<void> {
    validateNamespaceName(name);
    return this.locks.run(name, async () => {
      this.require(name);
      await this.disk?.drop(name);
      this.namespaces.delete(name);
      this.lag?.forget(name);
      this.rateLimit?.forget(name);
    });
  }

  schema(name: string): Obj {
    return normalizedSchema(this.require(name).schema);
  }

  updateSchema(name: string, body: unknown): Promise<Obj> {
    validateNamespaceName(name);
    return this.locks.run(name, async () => {
      const ns = this.require(name);
      const schema = new Map([...ns.schema].map(([k, v]) => [k, { ...v }]));
      mergeSchema(schema, parseSchemaInput(body), ns.rows.size > 0);
      checkAttributeCount(schema, attributeCount(ns.schema), 'schema');
      const rec: WalRecord = { at: this.now(), schema: [...schema], put: [], del: [] };
      await this.disk?.append(name, rec);
      // In log order with the writes, so a view trailing them gets the schema after them.
      this.lag?.record(name, ns, rec, 0);
      applyRecord(ns, rec);
      return normalizedSchema(ns.schema);
    });
  }

  updateMetadata(name: string, body: unknown): Promise<Obj> {
    validateNamespaceName(name);
    return this.locks.run(name, async () => {
      const ns = this.require(name);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw unprocessable('metadata update: expected a JSON object');
      for (const key of Object.keys(body)) {
        if (key !== 'pinning' && key !== 'read_only')
          throw unprocessable(`unknown field \`${key}\` in metadata update; expected pinning`);
      }
      const patch = body as Obj;
      if (patch.read_only === true)
        throw badRequest('read_only namespaces are not supported by the embedded store');
      if (patch.read_only !== undefined && patch.read_only !== null && patch.read_only !== false)
        throw unprocessable('read_only: expected a boolean');
      const pinning = patch.pinning;
      if (
        pinning !== undefined &&
        pinning !== null &&
        typeof pinning !== 'boolean' &&
        (typeof pinning !== 'object' ||
          Array.isArray(pinning) ||
          ((pinning as Obj).replicas !== undefined &&
            !(Number.isInteger((pinning as Obj).replicas) && ((pinning as Obj).replicas as number) >= 1)))
      )
        throw unprocessable('pinning: expected null, a boolean or {"replicas": n} with n ≥ 1');
      const rec: WalRecord = { at: this.now(), schema: [...ns.schema], kind: 'metadata', put: [], del: [] };
      // A missing field leaves pinning as it is; null or false removes it.
      if ('pinning' in patch) rec.pinning = pinning ?? null;
      await this.disk?.append(name, rec);
      this.lag?.record(name, ns, rec, 0);
      applyRecord(ns, rec);
      return this.metadata(name, 'v2');
    });
  }

  metadata(name: string, version: 'v1' | 'v2'): Obj {
    const ns = this.require(name);
    // Sizes as queries see them; schema and times are the log's (the latest write).
    const seen = this.requireVisible(name);
    const iso = (ms: number): string => new Date(ms).toISOString();
    // Bytes the modelled indexer has still to fold in, plus any ANN index still being built.
    const unindexed = (this.lag?.unindexedBytes(name) ?? 0) + ns.unindexedBytes();
    const out: Obj = {
      schema:
        version === 'v2' ? compactSchema(ns.schema, ns.meta.distanceMetric) : normalizedSchema(ns.schema),
      approx_row_count: seen.rows.size,
      approx_logical_bytes: seen.logicalBytes,
      created_at: iso(ns.meta.createdAt),
      updated_at: iso(ns.meta.updatedAt),
      last_write_at: iso(ns.meta.lastWriteAt),
      encryption: version === 'v2' ? { mode: 'default' } : { sse: true },
      // 'updating' while an ANN index is being built (queries are exact meanwhile).
      index: unindexed > 0 ? { status: 'updating', unindexed_bytes: unindexed } : { status: 'up-to-date' },
    };
    if (ns.meta.sharding) out.sharding = ns.meta.sharding;
    const pinning = ns.meta.pinning;
    if (pinning !== undefined && pinning !== null && pinning !== false) {
      out.pinning = pinning === true ? { replicas: 1 } : pinning;
    }
    return out;
  }

  async close(): Promise<void> {
    this.lag?.close();
    await this.locks.idle();
    await this.disk?.close();
  }
}

/** A logged record's size when the request's own is unknown (a write through the engine API). */
function recordBytes(rec: WalRecord): number {
  let n = 0;
  for (const [id, row] of rec.put) n += rowBytes(id, row);
  return n + rec.del.length * 8;
}
