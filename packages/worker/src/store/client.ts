// The one store client the project uses for every store call: the official Turbopuffer client
// pointed at a base URL (the embedded store, the hev layer gateway or Turbopuffer itself), with
// every failure mapped to a typed StoreError and a few helpers the Function engine needs. Nothing
// else in the project speaks HTTP to a store.
import { Turbopuffer } from '@turbopuffer/turbopuffer';
import type {
  Filter,
  ID,
  NamespaceMetadata,
  NamespaceMultiQueryParams,
  NamespaceMultiQueryResponse,
  NamespaceQueryParams,
  NamespaceQueryResponse,
  NamespaceWriteParams,
  NamespaceWriteResponse,
  Row,
} from '@turbopuffer/turbopuffer';
import { StoreNotFoundError, toStoreError } from './errors.js';

export type { Filter, ID, Row };

export interface StoreClientOptions {
  /** e.g. `http://127.0.0.1:8787` (no `{region}` placeholder). */
  baseUrl: string;
  /** Bearer key; any non-empty string for an open store. */
  apiKey?: string;
  /** Retries inside the official client for retryable failures (default 2). */
  maxRetries?: number;
  timeoutMs?: number;
}

export interface ScanPageInput {
  namespace: string;
  filter?: Filter;
  /** Return rows with id greater than this; omit for the first page. */
  afterId?: ID | null;
  /** Page size, 1–10,000. */
  limit: number;
  /** Attributes to return besides id: a list, or true for all. */
  attributes?: string[] | boolean;
}

export interface ScanPage {
  rows: Row[];
  /** Id to pass as `afterId` for the next page; null when this was the last page. */
  nextAfterId: ID | null;
}

export interface StoreClient {
  /** The underlying official client, for calls the helpers do not cover (errors unmapped). */
  readonly raw: Turbopuffer;
  write(namespace: string, params: Omit<NamespaceWriteParams, 'namespace'>): Promise<NamespaceWriteResponse>;
  query(namespace: string, params: Omit<NamespaceQueryParams, 'namespace'>): Promise<NamespaceQueryResponse>;
  multiQuery(
    namespace: string,
    params: Omit<NamespaceMultiQueryParams, 'namespace'>,
  ): Promise<NamespaceMultiQueryResponse>;
  upsertRows(
    namespace: string,
    rows: Row[],
    options?: { condition?: Filter; distanceMetric?: 'cosine_distance' | 'euclidean_squared' },
  ): Promise<NamespaceWriteResponse>;
  /** Patches existing rows (missing ids are ignored); with `condition`, only rows where it holds. */
  patchRows(namespace: string, rows: Row[], condition?: Filter): Promise<NamespaceWriteResponse>;
  deleteRows(namespace: string, ids: ID[], condition?: Filter): Promise<NamespaceWriteResponse>;
  /** One page of an id-ordered scan: `filter` And-ed with `id > afterId`. */
  scanPage(input: ScanPageInput): Promise<ScanPage>;
  /** Rows matching `filter` (all rows when omitted), via aggregate_by Count. */
  countRows(namespace: string, filter?: Filter): Promise<number>;
  metadata(namespace: string): Promise<NamespaceMetadata>;
  /** The namespace's attribute schema (name → config with `type`, `filterable`, …); null when it does not exist. */
  schema(namespace: string): Promise<Record<string, { type?: string; filterable?: boolean | null }> | null>;
  exists(namespace: string): Promise<boolean>;
  /** Deletes a namespace; a missing one is fine when `ignoreMissing` (the default). */
  deleteNamespace(namespace: string, options?: { ignoreMissing?: boolean }): Promise<void>;
  listNamespaces(prefix?: string): Promise<string[]>;
}

/**
 * @example
 * const store = createStoreClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: 'dev' });
 * let afterId = null;
 * do {
 *   const page = await store.scanPage({ namespace: 'products', filter: ['price', 'Lt', 10], afterId, limit: 1000 });
 *   afterId = page.nextAfterId;
 * } while (afterId !== null);
 */
export function createStoreClient(opts: StoreClientOptions): StoreClient {
  const raw = new Turbopuffer({
    apiKey: opts.apiKey || 'open',
    baseURL: opts.baseUrl,
    region: null,
    maxRetries: opts.maxRetries ?? 2,
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
  // raw.namespace() builds a whole client (options, logger, encoder) per call; a worker talks to
  // a few namespaces, so keep each one's handle (bounded, for a process that walks many).
  const handles = new Map<string, ReturnType<Turbopuffer['namespace']>>();
  const ns = (name: string) => {
    let handle = handles.get(name);
    if (!handle) {
      if (handles.size >= 256) handles.clear();
      handle = raw.namespace(name);
      handles.set(name, handle);
    }
    return handle;
  };
  const call = async <T>(namespace: string | undefined, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, namespace);
    }
  };
  const write = (namespace: string, params: Omit<NamespaceWriteParams, 'namespace'>) =>
    call(namespace, () => ns(namespace).write(params, { maxRetries: opts.maxRetries ?? 2 }));

  return {
    raw,
    write,
    query: (namespace, params) => call(namespace, () => ns(namespace).query(params)),
    multiQuery: (namespace, params) => call(namespace, () => ns(namespace).multiQuery(params)),
    upsertRows: (namespace, rows, options = {}) =>
      write(namespace, {
        upsert_rows: rows,
        ...(options.condition ? { upsert_condition: options.condition } : {}),
        ...(options.distanceMetric ? { distance_metric: options.distanceMetric } : {}),
      }),
    patchRows: (namespace, rows, condition) =>
      write(namespace, { patch_rows: rows, ...(condition ? { patch_condition: condition } : {}) }),
    deleteRows: (namespace, ids, condition) =>
      write(namespace, { deletes: ids, ...(condition ? { delete_condition: condition } : {}) }),
    async scanPage({ namespace, filter, afterId, limit, attributes }) {
      const conds: Filter[] = [];
      if (filter) conds.push(filter);
      if (afterId !== undefined && afterId !== null) conds.push(['id', 'Gt', afterId]);
      const filters: Filter | undefined =
        conds.length === 0 ? undefined : conds.length === 1 ? conds[0] : ['And', conds];
      const res = await call(namespace, () =>
        ns(namespace).query({
          rank_by: ['id', 'asc'],
          limit,
          ...(filters ? { filters } : {}),
          include_attributes: attributes ?? false,
        }),
      );
      const rows = res.rows ?? [];
      const last = rows[rows.length - 1];
      return { rows, nextAfterId: rows.length >= limit && last ? last.id : null };
    },
    async countRows(namespace, filter) {
      const res = await call(namespace, () =>
        ns(namespace).query({ aggregate_by: { count: ['Count'] }, ...(filter ? { filters: filter } : {}) }),
      );
      return Number(res.aggregations?.count ?? 0);
    },
    metadata: (namespace) => call(namespace, () => ns(namespace).metadata()),
    async schema(namespace) {
      try {
        return (await call(namespace, () => ns(namespace).schema())) as Record<
          string,
          { type?: string; filterable?: boolean | null }
        >;
      } catch (err) {
        if (err instanceof StoreNotFoundError) return null;
        throw err;
      }
    },
    exists: (namespace) => call(namespace, () => ns(namespace).exists()),
    async deleteNamespace(namespace, options = {}) {
      try {
        await call(namespace, () => ns(namespace).deleteAll());
      } catch (err) {
        if (!(err instanceof StoreNotFoundError && options.ignoreMissing !== false)) throw err;
      }
    },
    async listNamespaces(prefix) {
      return call(undefined, async () => {
        const names: string[] = [];
        for await (const summary of raw.namespaces(prefix ? { prefix } : {})) names.push(summary.id);
        return names;
      });
    },
  };
}
