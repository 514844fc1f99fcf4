// The service's documented request limits the engine must stay within (Turbopuffer's limits
// page, https://turbopuffer.com/docs/limits; docs/adr/0112 lists each with where it is held),
// and the engine's own budgets under them. The embedded store refuses the same numbers
// (src/store/storage), so a request that would fail in production fails locally first.
// Constants only: sandbox-safe, imported by contracts the workflows use.

/** Largest `top_k` / `limit.total` of one query. */
export const STORE_MAX_TOP_K = 10_000;

/** Largest attribute value, in bytes. */
export const STORE_MAX_ATTRIBUTE_VALUE_BYTES = 8 * 1024 * 1024;

/** Largest value (for an array: element) of a filterable attribute, in UTF-8 bytes. */
export const STORE_MAX_FILTERABLE_VALUE_BYTES = 4 * 1024;

/** Rows one `patch_by_filter` may change (beyond it: 400, or `rows_remaining` when partial). */
export const STORE_MAX_PATCH_BY_FILTER_ROWS = 50_000;

/** The service's write request limit ("512 MB"; read as decimal, the smaller reading). */
export const STORE_MAX_WRITE_REQUEST_BYTES = 512 * 1000 * 1000;

/**
 * The engine's budget for one write request's estimated JSON size. Writes are cut by bytes as
 * well as rows at this size: one second of the service's per-namespace write throughput
 * (32 MB/s), and 16× under the request limit, which absorbs the estimate's undercount (JSON
 * escapes take at most 6 bytes per character; the estimate counts UTF-8 bytes).
 */
export const ENGINE_WRITE_REQUEST_BUDGET_BYTES = 32 * 1024 * 1024;
