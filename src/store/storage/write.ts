// A write request, planned against the current namespace without touching it: every id and
// value validated, conditions evaluated, filter-based writes resolved to ids. The plan is the
// list of whole documents to put and ids to remove, plus the schema after the write. Only a
// plan that validated completely is logged and applied, so a failing request changes nothing.
//
// Over 400 lines on purpose: planWrite is one validation pass over every field of a write request
// in the service's documented order, and nothing is applied until all of it passes.
import { parseId, type Id } from './ids.js';
import { badRequest, namespaceNotFound, unprocessable } from './errors.js';
import { compileFilter, type FilterNode, type RefNew } from './filter.js';
import type { Row } from './schema.js';
import {
  attributeCount,
  checkAttributeCount,
  checkDocumentSize,
  convertValue,
  isVectorType,
  mergeSchema,
  parseSchemaInput,
  validateAttributeName,
  type Schema,
} from './schema.js';
import type { NamespaceState } from './namespace.js';

const PATCH_BY_FILTER_LIMIT = 50_000;
const DELETE_BY_FILTER_LIMIT = 5_000_000;
const BY_FILTER_LIMIT = { patch_by_filter: PATCH_BY_FILTER_LIMIT, delete_by_filter: DELETE_BY_FILTER_LIMIT };

/**
 * The rows a patch_by_filter or delete_by_filter may touch: all it matched up to its limit. More
 * is refused unless the request sets `<op>_allow_partial`; then the first `limit` are touched and
 * the response says rows_remaining.
 */
function withinLimit(op: keyof typeof BY_FILTER_LIMIT, ids: Id[], req: Obj, response: Obj): Id[] {
  const limit = BY_FILTER_LIMIT[op];
  if (ids.length <= limit) return ids;
  if (req[`${op}_allow_partial`] !== true)
    throw badRequest(`${op} matches more than ${limit} rows; narrow the filter or set ${op}_allow_partial`);
  response.rows_remaining = true;
  return ids.slice(0, limit);
}

const WRITE_FIELDS = new Set([
  'upsert_rows',
  'upsert_columns',
  'patch_rows',
  'patch_columns',
  'deletes',
  'upsert_condition',
  'patch_condition',
  'delete_condition',
  'delete_by_filter',
  'delete_by_filter_allow_partial',
  'patch_by_filter',
  'patch_by_filter_allow_partial',
  'distance_metric',
  'schema',
  'encryption',
  'return_affected_ids',
  'disable_backpressure',
  'copy_from_namespace',
  'branch_from_namespace',
  'sharding',
  'create_namespace',
]);

export interface WritePlan {
  /** True when this write creates the namespace. */
  creates: boolean;
  /** `sharding` given on the namespace's inaugural write. */
  sharding?: { num_shards: number };
  schema: Schema;
  distanceMetric: string | undefined;
  /** Final state per touched id: the whole document, or null to delete it. */
  changes: Map<Id, Row | null>;
  /** Rows `patch_by_filter` changed, when the write had one (the request audit records it). */
  patchedByFilter?: number;
  response: Record<string, unknown>;
}

export interface WriteSource {
  /** Rows of another namespace, for copy_from_namespace / branch_from_namespace. */
  lookup(name: string): NamespaceState | undefined;
}

type Obj = Record<string, unknown>;

function asRows(v: unknown, field: string): Obj[] {
  if (!Array.isArray(v)) throw unprocessable(`${field}: invalid type: expected a sequence of row objects`);
  return v.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r))
      throw unprocessable(`${field}[${i}]: expected a row object`);
    return r as Obj;
  });
}

function columnsToRows(v: unknown, field: string): Obj[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw unprocessable(`${field}: expected an object of equal-length columns`);
  const cols = v as Record<string, unknown>;
  const ids = cols.id;
  if (!Array.isArray(ids)) throw unprocessable(`${field}.id: expected an array of ids`);
  const rows: Obj[] = ids.map((id) => ({ id }));
  for (const [attr, col] of Object.entries(cols)) {
    if (attr === 'id') continue;
    if (!Array.isArray(col) || col.length !== ids.length) {
      throw badRequest(`${field}.${attr}: every column must be an array as long as id (${ids.length})`);
    }
    col.forEach((value, i) => (rows[i]![attr] = value));
  }
  return rows;
}

export function planWrite(
  ns: NamespaceState | undefined,
  name: string,
  body: unknown,
  source: WriteSource,
): WritePlan {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw unprocessable('write body must be a JSON object');
  const req = body as Obj;
  for (const key of Object.keys(req)) {
    if (!WRITE_FIELDS.has(key)) throw unprocessable(`unknown field \`${key}\` in write request`);
  }
  checkEncryption(req.encryption);
  const schema: Schema = new Map([...(ns?.schema ?? new Map())].map(([k, v]) => [k, { ...v }]));
  const hasRows = (ns?.rows.size ?? 0) > 0;

  if (req.schema !== undefined && req.schema !== null)
    mergeSchema(schema, parseSchemaInput(req.schema), hasRows);

  let distanceMetric = ns?.meta.distanceMetric;
  if (req.distance_metric !== undefined && req.distance_metric !== null) {
    if (req.distance_metric !== 'cosine_distance' && req.distance_metric !== 'euclidean_squared') {
      throw unprocessable(
        `distance_metric: unknown variant \`${String(req.distance_metric)}\`, expected \`cosine_distance\` or \`euclidean_squared\``,
      );
    }
    if (distanceMetric && distanceMetric !== req.distance_metric && hasRows) {
      throw badRequest(
        `distance_metric: the namespace uses ${distanceMetric}; it cannot change to ${req.distance_metric}`,
      );
    }
    distanceMetric = req.distance_metric;
  }

  const upsertRows = [
    ...(req.upsert_rows != null ? asRows(req.upsert_rows, 'upsert_rows') : []),
    ...(req.upsert_columns != null ? columnsToRows(req.upsert_columns, 'upsert_columns') : []),
  ];
  const patchRows = [
    ...(req.patch_rows != null ? asRows(req.patch_rows, 'patch_rows') : []),
    ...(req.patch_columns != null ? columnsToRows(req.patch_columns, 'patch_columns') : []),
  ];
  if (req.deletes != null && !Array.isArray(req.deletes))
    throw unprocessable('deletes: expected an array of ids');
  const deletes = (req.deletes as unknown[] | undefined) ?? [];

  const copySource = req.copy_from_namespace ?? req.branch_from_namespace;
  const createsRequested =
    req.create_namespace === true || (req.schema != null && Object.keys(req.schema as Obj).length > 0);
  const creates = !ns && (upsertRows.length > 0 || createsRequested || copySource != null);
  if (!ns && !creates) {
    if (
      req.create_namespace === false ||
      patchRows.length > 0 ||
      deletes.length > 0 ||
      req.patch_by_filter != null ||
      req.delete_by_filter != null
    ) {
      throw namespaceNotFound(name);
    }
  }
  const sharding = parseSharding(req.sharding, ns);
  if (creates && !schema.has('id')) {
    const first = upsertRows[0]?.id;
    schema.set('id', { type: typeof first === 'string' ? 'string' : 'uint' });
  }
  const idType = schema.get('id')?.type;

  const current = (id: Id): Row | undefined => ns?.rows.get(id);
  const changes = new Map<Id, Row | null>();
  const state = (id: Id): Row | undefined => (changes.has(id) ? (changes.get(id) ?? undefined) : current(id));
  const response: Obj = { status: 'OK', message: 'OK', rows_affected: 0 };
  const affected = { upserted: [] as Id[], patched: [] as Id[], deleted: [] as Id[] };
  let queried = false;

  const compile = (f: unknown, field: string, allowRefNew: boolean): FilterNode =>
    compileFilter(f, { schema, field, allowRefNew });

  if (copySource != null) {
    const src = typeof copySource === 'string' ? copySource : (copySource as Obj).source_namespace;
    if (typeof copySource === 'object' && copySource !== null) {
      const c = copySource as Obj;
      if (c.source_region != null)
        throw badRequest(
          `copy_from_namespace.source_region: the embedded store is a single region; cross-region copies (from ${JSON.stringify(c.source_region)}) are not available`,
        );
      if (c.source_api_key != null)
        throw badRequest(
          'copy_from_namespace.source_api_key: the embedded store has one organization; copies from another organization are not available',
        );
      if (c.dest_encryption != null)
        checkEncryption(c.dest_encryption, 'copy_from_namespace.dest_encryption');
    }
    if (typeof src !== 'string') throw unprocessable('copy_from_namespace: expected a namespace name');
    const from = source.lookup(src);
    if (!from) throw namespaceNotFound(src);
    if (hasRows) throw badRequest(`namespace '${name}' must be empty to copy or branch into it`);
    for (const [k, v] of from.schema) schema.set(k, { ...v });
    distanceMetric = from.meta.distanceMetric;
    for (const [id, row] of from.rows) changes.set(id, row);
    response.rows_affected = from.rows.size;
  }

  // 1. delete_by_filter runs first.
  if (req.delete_by_filter != null) {
    if (req.delete_condition != null)
      throw badRequest(
        'delete_condition does not apply to delete_by_filter; put the condition in the filter',
      );
    const f = compile(req.delete_by_filter, 'delete_by_filter', false);
    const ids = withinLimit('delete_by_filter', matching(ns, f, DELETE_BY_FILTER_LIMIT + 1), req, response);
    for (const id of ids) changes.set(id, null);
    affected.deleted.push(...ids);
    queried = true;
  }

  // 2. patch_by_filter.
  let patchedByFilter: number | undefined;
  if (req.patch_by_filter != null) {
    if (req.patch_condition != null)
      throw badRequest('patch_condition does not apply to patch_by_filter; put the condition in the filter');
    const pbf = req.patch_by_filter as Obj;
    if (
      typeof pbf !== 'object' ||
      Array.isArray(pbf) ||
      typeof pbf.patch !== 'object' ||
      pbf.patch === null ||
      Array.isArray(pbf.patch)
    ) {
      throw unprocessable('patch_by_filter: expected {"filters": filter, "patch": {attribute: value}}');
    }
    const f = compile(pbf.filters, 'patch_by_filter.filters', false);
    const patch = pbf.patch as Obj;
    if ('id' in patch) throw badRequest('patch_by_filter.patch: the id cannot be patched');
    const converted = convertPatch(schema, patch, 'patch_by_filter.patch');
    const matched = matching(ns, f, PATCH_BY_FILTER_LIMIT + 1).filter((id) => changes.get(id) !== null);
    const ids = withinLimit('patch_by_filter', matched, req, response);
    for (const id of ids) changes.set(id, applyPatch(state(id)!, converted));
    affected.patched.push(...ids);
    patchedByFilter = ids.length;
    queried = true;
  }

  // 3. Upserts, patches and deletes by id; one id at most once among them.
  const seen = new Set<Id>();
  const claim = (raw: unknown, field: string): Id => {
    if (raw === undefined) throw unprocessable(`${field}: every row needs an id`);
    const id = parseId(raw, idType);
    if (seen.has(id))
      throw badRequest(`duplicate document id ${JSON.stringify(id)} in one write request (${field})`);
    seen.add(id);
    return id;
  };

  // Convert every row first, so that conditions may name attributes this write introduces.
  const upserts = upsertRows.map((r, i) => {
    const id = claim(r.id, `upsert_rows[${i}]`);
    const row: Row = {};
    for (const k in r) {
      if (k === 'id') continue;
      if (!schema.has(k)) validateAttributeName(k);
      const value = convertValue(schema, k, r[k]);
      if (value !== null) row[k] = value;
    }
    return { id, row };
  });
  const patches = patchRows.map((r, i) => {
    const id = claim(r.id, `patch_rows[${i}]`);
    const { id: _id, ...patch } = r;
    return { id, patch: convertPatch(schema, patch, `patch_rows[${i}]`) };
  });

  const upsertCond =
    req.upsert_condition != null ? compile(req.upsert_condition, 'upsert_condition', true) : undefined;
  for (const { id, row } of upserts) {
    const cur = state(id);
    if (upsertCond && cur && !upsertCond.test(id, cur, { id, row })) continue;
    changes.set(id, row);
    affected.upserted.push(id);
  }

  const patchCond =
    req.patch_condition != null ? compile(req.patch_condition, 'patch_condition', true) : undefined;
  for (const { id, patch } of patches) {
    const cur = state(id);
    if (!cur) continue;
    const next = applyPatch(cur, patch);
    if (patchCond && !patchCond.test(id, cur, { id, row: next })) continue;
    changes.set(id, next);
    affected.patched.push(id);
  }

  const deleteCond =
    req.delete_condition != null ? compile(req.delete_condition, 'delete_condition', true) : undefined;
  for (const [i, raw] of deletes.entries()) {
    const id = claim(raw, `deletes[${i}]`);
    const cur = state(id);
    if (!cur) continue;
    const ref: RefNew = { id, row: null };
    if (deleteCond && !deleteCond.test(id, cur, ref)) continue;
    changes.set(id, null);
    affected.deleted.push(id);
  }

  // Documents this write creates or changes stay within the document size limit.
  for (const ids of [affected.upserted, affected.patched])
    for (const id of ids) {
      const row = changes.get(id);
      if (row) checkDocumentSize(id, row);
    }
  checkAttributeCount(schema, ns ? attributeCount(ns.schema) : 0, 'write');
  const usesVectors = [...schema.values()].some((e) => isVectorType(e.type));
  if (usesVectors && !distanceMetric && changes.size > 0) {
    throw badRequest(
      'distance_metric is required when writing vectors (cosine_distance or euclidean_squared)',
    );
  }

  if (upsertRows.length > 0) response.rows_upserted = affected.upserted.length;
  if (patchRows.length > 0 || req.patch_by_filter != null) response.rows_patched = affected.patched.length;
  if (deletes.length > 0 || req.delete_by_filter != null) response.rows_deleted = affected.deleted.length;
  response.rows_affected =
    (response.rows_affected as number) +
    affected.upserted.length +
    affected.patched.length +
    affected.deleted.length;
  if (req.return_affected_ids === true) {
    if (affected.upserted.length) response.upserted_ids = affected.upserted;
    if (affected.patched.length) response.patched_ids = affected.patched;
    if (affected.deleted.length) response.deleted_ids = affected.deleted;
  }
  const billing: Obj = { billable_logical_bytes_written: 0 };
  if (queried || upsertCond || patchCond || deleteCond) {
    billing.query = { billable_logical_bytes_queried: 0, billable_logical_bytes_returned: 0 };
  }
  response.billing = billing;
  const plan: WritePlan = { creates, schema, distanceMetric, changes, response };
  if (sharding && creates) plan.sharding = sharding;
  if (patchedByFilter !== undefined) plan.patchedByFilter = patchedByFilter;
  return plan;
}

/** KMS key names the service accepts: a GCP crypto key resource name or an AWS KMS key ARN. */
const KMS_KEY =
  /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+|arn:aws[\w-]*:kms:[\w-]+:\d{12}:(key|alias)\/.+)$/;

/**
 * `encryption`: the default (server-side encryption) is what the embedded store does anyway;
 * a customer-managed key (v2 `{mode: "customer-managed", key_name}` or v1 `{cmek: {key_name}}`)
 * is refused, with the service's text for a malformed key, instead of being accepted and ignored.
 */
function checkEncryption(enc: unknown, field = 'encryption'): void {
  if (enc === undefined || enc === null) return;
  if (typeof enc !== 'object' || Array.isArray(enc))
    throw unprocessable(
      `${field}: expected {"mode": "default"} or {"mode": "customer-managed", "key_name": "…"}`,
    );
  const e = enc as Obj;
  let keyName: unknown;
  if (e.cmek !== undefined) {
    keyName = typeof e.cmek === 'object' && e.cmek !== null ? (e.cmek as Obj).key_name : undefined;
  } else if (e.mode === 'customer-managed') {
    keyName = e.key_name;
  } else if (e.mode === 'default' || (e.mode === undefined && e.sse === true)) {
    return;
  } else {
    throw unprocessable(
      `${field}.mode: unknown variant \`${String(e.mode)}\`, expected \`default\` or \`customer-managed\``,
    );
  }
  if (typeof keyName !== 'string')
    throw unprocessable(`${field}: customer-managed encryption needs a string key_name`);
  if (!KMS_KEY.test(keyName)) throw badRequest(`Malformed Cloud KMS crypto key: ${keyName}`);
  throw badRequest(
    `${field}: customer-managed encryption keys (CMEK) are not available in the embedded store, which has no KMS; the key ${keyName} cannot be used. Omit encryption (data is stored unencrypted on local disk).`,
  );
}

/** `sharding` is accepted on a namespace's inaugural write only, as the service does. */
function parseSharding(raw: unknown, ns: NamespaceState | undefined): { num_shards: number } | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw unprocessable('sharding: expected {"num_shards": n}');
  const n = (raw as Obj).num_shards;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw unprocessable('sharding.num_shards: expected a positive integer');
  if (ns && ns.meta.sharding?.num_shards === n) return undefined;
  if (ns)
    throw badRequest(
      "sharding can only be configured on a namespace's inaugural write; it cannot be added to or changed on an existing namespace",
    );
  return { num_shards: n };
}

function convertPatch(schema: Schema, patch: Obj, field: string): Row {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    validateAttributeName(k);
    const entry = schema.get(k);
    if ((entry && isVectorType(entry.type)) || (!entry && k === 'vector')) {
      throw badRequest(`${field}: vector attribute '${k}' cannot be patched; upsert the document instead`);
    }
    out[k] = convertValue(schema, k, v);
  }
  return out as Row;
}

function applyPatch(cur: Row, patch: Row): Row {
  const next: Row = { ...cur };
  for (const k in patch) {
    const v = patch[k];
    if (v === null || v === undefined) delete next[k];
    else next[k] = v;
  }
  return next;
}

function matching(ns: NamespaceState | undefined, f: FilterNode, max: number): Id[] {
  if (!ns) return [];
  const out: Id[] = [];
  for (const id of ns.candidates(f, false).ids) {
    if (f.test(id, ns.rows.get(id)!)) {
      out.push(id);
      if (out.length >= max) break;
    }
  }
  return out;
}
