// Query execution: filter, order (by id, by attributes, or by exact vector distance), limit,
// project; or aggregate (Count / Sum, optionally grouped). Runs synchronously over the
// in-memory namespace, so a query — and every sub-query of a multi-query — sees one consistent
// snapshot. Id-ordered queries pull candidates lazily and stop after `limit` matches, which is
// what makes `id > afterId` paging cost proportional to the page.
//
// Over 400 lines on purpose: runQuery and aggregate read one parsed query against one namespace
// snapshot, top to bottom in the service's order (filter, rank, limit, project); their helpers are
// private to them.
import { compareIds, type Id } from './ids.js';
import { badRequest, unprocessable } from './errors.js';
import { compileFilter, type FilterNode } from './filter.js';
import type { Row } from './schema.js';
import {
  elementType,
  encodeBase64Vector,
  isVectorType,
  MAX_ATTRIBUTES_PER_NAMESPACE,
  outputValue,
  vectorDims,
  type Value,
} from './schema.js';
import type { NamespaceState } from './namespace.js';
import { describeRank, evalRank, isTextRank, parseRank } from './fts/rank.js';

const MAX_TOP_K = 10_000;
const DEFAULT_TOP_K = 10;
export const MAX_SUBQUERIES = 16;

const QUERY_FIELDS = new Set([
  'rank_by',
  'top_k',
  'limit',
  'filters',
  'include_attributes',
  'exclude_attributes',
  'aggregate_by',
  'group_by',
  'distance_metric',
  'consistency',
  'vector_encoding',
  'offset',
]);

type Obj = Record<string, unknown>;

export interface QueryOptions {
  vectorEncoding?: 'float' | 'base64';
  /** Namespaces with at least this many rows answer unfiltered ANN queries from an HNSW index. */
  annThreshold?: number;
}

/** Default ANN threshold: below it exact search is fast enough and exact. */
const DEFAULT_ANN_THRESHOLD = 10_000;
/**
 * HNSW beam width for queries (at least the number of rows wanted). 256 measured recall@10
 * 0.97 on 20k clustered 64-d vectors (cosine), where 128 gave 0.86; see docs/adr/0046.
 */
const ANN_EF = 256;

export interface QueryOutput {
  rows?: Obj[];
  aggregations?: Obj;
  aggregation_groups?: Obj[];
  /** Rows examined, for `performance.exhaustive_search_count`. */
  examined: number;
  plan: string;
}

interface OrderKey {
  attr: string;
  desc: boolean;
}

interface Limit {
  total: number;
  per?: { attributes: string[]; limit: number };
}

export function validateConsistency(v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'object' || Array.isArray(v))
    throw unprocessable(`consistency: invalid type: ${JSON.stringify(v)}, expected struct Consistency`);
  const level = (v as Obj).level;
  if (level !== undefined && level !== 'strong' && level !== 'eventual') {
    throw unprocessable(
      `consistency.level: unknown variant \`${String(level)}\`, expected \`strong\` or \`eventual\``,
    );
  }
}

function vectorEncodingOf(v: unknown): 'float' | 'base64' | undefined {
  if (v === undefined || v === null) return undefined;
  if (v !== 'float' && v !== 'base64')
    throw unprocessable(
      `vector_encoding: unknown variant \`${String(v)}\`, expected \`float\` or \`base64\``,
    );
  return v;
}

function parseLimit(q: Obj, fallback: number): Limit {
  const raw = q.limit ?? q.top_k;
  if (q.limit != null && q.top_k != null) throw badRequest('top_k and limit are aliases; set only one');
  if (raw === undefined || raw === null) return { total: fallback };
  const check = (n: unknown, field: string): number => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw unprocessable(`${field}: expected a non-negative integer`);
    if (n > MAX_TOP_K) throw badRequest(`${field} must be at most ${MAX_TOP_K}, got ${n}`);
    return n;
  };
  if (typeof raw === 'number') return { total: check(raw, q.limit != null ? 'limit' : 'top_k') };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw unprocessable('limit: expected an integer or {"total": n, "per": {...}}');
  const l = raw as Obj;
  const out: Limit = { total: check(l.total, 'limit.total') };
  if (l.per != null) {
    const per = l.per as Obj;
    if (!Array.isArray(per.attributes) || !per.attributes.every((a) => typeof a === 'string')) {
      throw unprocessable('limit.per.attributes: expected an array of attribute names');
    }
    out.per = { attributes: per.attributes as string[], limit: check(per.limit, 'limit.per.limit') };
  }
  return out;
}

function nullsFirstCompare(a: Value | undefined, b: Value | undefined): number {
  const an = a === undefined || a === null;
  const bn = b === undefined || b === null;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return 0;
}

/**
 * A list of attribute names from a request, de-duplicated and bounded by the service's limit
 * on attribute names per namespace: a longer list can only name attributes that cannot exist,
 * so it is refused before any row is read (a 200,000-name list once held the store for minutes).
 */
function boundedNames(names: string[], field: string): Set<string> {
  const set = new Set<string>();
  for (const n of names) {
    set.add(n);
    if (set.size > MAX_ATTRIBUTES_PER_NAMESPACE + 1) break; // +1: `id` is listed as well
  }
  if (set.size > MAX_ATTRIBUTES_PER_NAMESPACE + 1)
    throw badRequest(
      `${field}: more than ${MAX_ATTRIBUTES_PER_NAMESPACE + 1} distinct names (${names.length} given); a namespace holds at most ${MAX_ATTRIBUTES_PER_NAMESPACE} attributes besides id. ` +
        'List only the attributes you need, or pass include_attributes: true for all of them',
    );
  return set;
}

/** Attribute projection for result rows. */
function projector(ns: NamespaceState, q: Obj, enc: 'float' | 'base64'): (id: Id, row: Row) => Obj {
  const inc = q.include_attributes;
  const exc = q.exclude_attributes;
  if (inc != null && exc != null)
    throw badRequest('include_attributes and exclude_attributes cannot be combined');
  const schema = ns.schema;
  let attrs: string[] | 'all' | null = null;
  let excluded: Set<string> | null = null;
  if (inc === true) attrs = 'all';
  else if (Array.isArray(inc)) {
    if (!inc.every((a) => typeof a === 'string'))
      throw unprocessable('include_attributes: expected true, false or an array of names');
    // Per-row work is bounded by the schema, not by the request: names are de-duplicated,
    // capped at the service's attribute limit, and names the namespace lacks are dropped
    // before the scan (they would be absent from every row anyway). See docs/adr/0076.
    attrs = [...boundedNames(inc, 'include_attributes')].filter((a) => a !== 'id' && schema.has(a));
  } else if (inc != null && inc !== false)
    throw unprocessable('include_attributes: expected true, false or an array of names');
  if (exc != null) {
    if (!Array.isArray(exc) || !exc.every((a) => typeof a === 'string'))
      throw unprocessable('exclude_attributes: expected an array of names');
    attrs = 'all';
    excluded = boundedNames(exc, 'exclude_attributes');
  }
  const conv = (k: string, v: Value): unknown => {
    const entry = schema.get(k);
    if (entry && enc === 'base64' && isVectorType(entry.type) && Array.isArray(v))
      return encodeBase64Vector(v as number[]);
    return outputValue(entry, v);
  };
  return (id, row) => {
    const out: Obj = { id };
    if (attrs === 'all') {
      for (const k in row) if (!excluded?.has(k)) out[k] = conv(k, row[k]!);
    } else if (attrs) {
      for (const k of attrs) {
        const v = row[k];
        if (v !== undefined && v !== null) out[k] = conv(k, v);
      }
    }
    return out;
  };
}

function perLimiter(limit: Limit): (id: Id, row: Row) => boolean {
  const per = limit.per;
  if (!per) return () => true;
  const counts = new Map<string, number>();
  return (id, row) => {
    const key = JSON.stringify(per.attributes.map((a) => (a === 'id' ? id : (row[a] ?? null))));
    const n = counts.get(key) ?? 0;
    if (n >= per.limit) return false;
    counts.set(key, n + 1);
    return true;
  };
}

function parseOrder(ns: NamespaceState, rankBy: unknown[]): OrderKey[] | undefined {
  const isKey = (k: unknown): k is [string, 'asc' | 'desc'] =>
    Array.isArray(k) && k.length === 2 && typeof k[0] === 'string' && (k[1] === 'asc' || k[1] === 'desc');
  let keys: unknown[];
  if (isKey(rankBy)) keys = [rankBy];
  else if (rankBy.length > 0 && rankBy.every((k) => Array.isArray(k))) keys = rankBy;
  else if (rankBy.length === 0)
    throw badRequest('rank_by: an empty list orders nothing; give at least one [attribute, "asc"|"desc"]');
  else return undefined;
  if (keys.length > 8) throw badRequest(`rank_by: at most 8 ordering keys, got ${keys.length}`);
  return keys.map((k, i) => {
    if (!isKey(k))
      throw badRequest(`rank_by[${i}]: expected [attribute, "asc"|"desc"], got ${JSON.stringify(k)}`);
    const [attr, dir] = k;
    if (attr !== 'id') {
      const entry = ns.schema.get(attr);
      if (!entry) throw badRequest(`rank_by: unknown attribute '${attr}'`);
      if (elementType(entry.type) !== undefined || isVectorType(entry.type)) {
        throw badRequest(`rank_by: cannot order by '${attr}' of type ${entry.type}`);
      }
    }
    return { attr, desc: dir === 'desc' };
  });
}

export function runQuery(ns: NamespaceState, q: Obj, opts: QueryOptions = {}): QueryOutput {
  if (typeof q !== 'object' || q === null || Array.isArray(q))
    throw unprocessable('query body must be a JSON object');
  for (const key of Object.keys(q)) {
    if (!QUERY_FIELDS.has(key)) {
      const hint =
        key === 'queries'
          ? ' (multi-query bodies hold only queries, consistency, vector_encoding, rerank_by and limit)'
          : '';
      throw unprocessable(
        `unknown field \`${key}\` in query${hint}; expected one of ${[...QUERY_FIELDS].join(', ')}`,
      );
    }
  }
  validateConsistency(q.consistency);
  const enc = vectorEncodingOf(q.vector_encoding) ?? opts.vectorEncoding ?? 'float';
  const filter =
    q.filters != null
      ? compileFilter(q.filters, {
          schema: ns.schema,
          field: 'filters',
          allowRefNew: false,
          fts: (a) => ns.ftsIndex(a),
        })
      : undefined;
  if (q.aggregate_by != null) {
    if (q.rank_by != null) throw badRequest('aggregate_by cannot be combined with rank_by');
    if (q.include_attributes != null || q.exclude_attributes != null)
      throw badRequest('aggregate_by cannot be combined with include_attributes');
    return aggregate(ns, q, filter);
  }
  if (q.group_by != null) throw badRequest('group_by requires aggregate_by');
  if (q.rank_by == null)
    throw badRequest('rank_by is required unless aggregate_by is set, e.g. "rank_by": ["id", "asc"]');
  if (!Array.isArray(q.rank_by)) throw unprocessable('rank_by: expected an array such as ["id", "asc"]');
  const limit = parseLimit(q, DEFAULT_TOP_K);
  const offset = q.offset == null ? 0 : Number(q.offset);
  if (!Number.isInteger(offset) || offset < 0) throw unprocessable('offset: expected a non-negative integer');
  const project = projector(ns, q, enc);
  const take = perLimiter(limit);
  const wanted = limit.total + offset;
  const rows: Obj[] = [];
  let examined = 0;

  const order = parseOrder(ns, q.rank_by);
  if (order) {
    const first = order[0]!;
    const { ids, plan } = ns.candidates(filter, first.attr === 'id' && first.desc);
    if (first.attr === 'id') {
      // Streaming: ids arrive in the requested order; stop once the page is full.
      if (wanted > 0) {
        for (const id of ids) {
          examined++;
          const row = ns.rows.get(id)!;
          if (filter && !filter.test(id, row)) continue;
          if (!take(id, row)) continue;
          rows.push(project(id, row));
          if (rows.length >= wanted) break;
        }
      }
      return { rows: rows.slice(offset), examined, plan: `${plan}, ordered by id, limit ${limit.total}` };
    }
    // Each match's sort key is read once: on a durable namespace a row read is a decode.
    const matches: { id: Id; key: (Value | undefined)[] }[] = [];
    for (const id of ids) {
      examined++;
      const row = ns.rows.get(id)!;
      if (!filter || filter.test(id, row))
        matches.push({ id, key: order.map((k) => (k.attr === 'id' ? id : row[k.attr])) });
    }
    const cmp = (a: (typeof matches)[number], b: (typeof matches)[number]): number => {
      for (let i = 0; i < order.length; i++) {
        const k = order[i]!;
        const c = k.attr === 'id' ? compareIds(a.id, b.id) : nullsFirstCompare(a.key[i], b.key[i]);
        if (c !== 0) return k.desc ? -c : c;
      }
      return compareIds(a.id, b.id);
    };
    matches.sort(cmp);
    for (const { id } of matches) {
      const row = ns.rows.get(id)!;
      if (!take(id, row)) continue;
      rows.push(project(id, row));
      if (rows.length >= wanted) break;
    }
    return {
      rows: rows.slice(offset),
      examined,
      plan: `${plan}, sorted by ${order.map((k) => `${k.attr} ${k.desc ? 'desc' : 'asc'}`).join(', ')}`,
    };
  }

  if (isTextRank(q.rank_by)) {
    // Full-text ranking: score the documents the expression reaches, keep those that pass the
    // filters with a score above zero, best first (ties by id).
    const expr = parseRank(ns, q.rank_by);
    const evaluated = evalRank(ns, expr);
    examined = evaluated.examined;
    const scored: { id: Id; d: number }[] = [];
    for (const [id, d] of evaluated.scores) {
      if (!(d > 0)) continue;
      if (filter && !filter.test(id, ns.rows.get(id)!)) continue;
      scored.push({ id, d });
    }
    scored.sort((a, b) => b.d - a.d || compareIds(a.id, b.id));
    for (const { id, d } of wanted > 0 ? scored : []) {
      const row = ns.rows.get(id)!;
      if (!take(id, row)) continue;
      rows.push({ id, $dist: d, ...project(id, row) });
      if (rows.length >= wanted) break;
    }
    return {
      rows: rows.slice(offset),
      examined,
      plan: `full-text ${describeRank(expr)} scored ${evaluated.scores.size} documents, ${scored.length} matched`,
    };
  }

  const [attr, op, target] = q.rank_by as unknown[];
  if ((op === 'ANN' || op === 'kNN') && typeof attr === 'string') {
    const entry = ns.schema.get(attr);
    if (!entry || !isVectorType(entry.type))
      throw badRequest(`rank_by: '${String(attr)}' is not a vector attribute`);
    const dims = vectorDims(entry.type)!;
    const vec = typeof target === 'string' ? decodeVector(target) : target;
    if (!Array.isArray(vec) || !vec.every((x) => typeof x === 'number')) {
      throw badRequest(`rank_by: ${String(op)} takes a query vector of ${dims} numbers`);
    }
    if (vec.length !== dims)
      throw badRequest(`rank_by: query vector has ${vec.length} dimensions; '${attr}' has ${dims}`);
    const metric = (q.distance_metric as string | undefined) ?? ns.meta.distanceMetric ?? 'cosine_distance';
    const dist = metric === 'euclidean_squared' ? euclideanSquared : cosineDistance;
    const threshold = opts.annThreshold ?? DEFAULT_ANN_THRESHOLD;
    const index =
      op === 'ANN' && !filter && !limit.per && ns.rows.size >= threshold
        ? ns.annIndex(attr, metric as 'cosine_distance' | 'euclidean_squared')
        : undefined;
    if (index) {
      // Approximate: the HNSW index proposes the nearest ids; $dist is recomputed exactly from
      // each row's vector, and the page is ordered by it.
      const hits = index.search(vec as number[], wanted, Math.max(ANN_EF, wanted));
      const scored: { id: Id; d: number; row: Row }[] = [];
      for (const h of hits) {
        const row = ns.rows.get(h.id);
        const v = row?.[attr];
        if (row && Array.isArray(v)) scored.push({ id: h.id, d: dist(vec as number[], v as number[]), row });
      }
      scored.sort((a, b) => a.d - b.d || compareIds(a.id, b.id));
      for (const { id, d, row } of scored) rows.push({ id, $dist: d, ...project(id, row) });
      return {
        rows: rows.slice(offset),
        examined: index.lastVisited,
        plan: `ANN (HNSW, ef ${Math.max(ANN_EF, wanted)}) ${metric} search over ${index.size} vectors, ${index.lastVisited} distances computed`,
      };
    }
    const scored: { id: Id; d: number }[] = [];
    for (const id of ns.candidates(filter, false).ids) {
      examined++;
      const row = ns.rows.get(id)!;
      if (filter && !filter.test(id, row)) continue;
      const v = row[attr];
      if (!Array.isArray(v)) continue;
      scored.push({ id, d: dist(vec as number[], v as number[]) });
    }
    scored.sort((a, b) => a.d - b.d || compareIds(a.id, b.id));
    for (const { id, d } of scored) {
      const row = ns.rows.get(id)!;
      if (!take(id, row)) continue;
      const out = project(id, row);
      rows.push({ id, $dist: d, ...out });
      if (rows.length >= wanted) break;
    }
    return { rows: rows.slice(offset), examined, plan: `exact ${metric} search over ${examined} vectors` };
  }
  throw badRequest(
    `rank_by ${JSON.stringify(q.rank_by).slice(0, 120)} is not supported by the embedded store; use [attribute, "asc"|"desc"], a list of those, or [vector_attribute, "ANN"|"kNN", vector]`,
  );
}

function decodeVector(s: string): number[] {
  const buf = Buffer.from(s, 'base64');
  const out: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readFloatLE(i));
  return out;
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

function euclideanSquared(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

type Agg = { label: string; kind: 'count' | 'countAttr' | 'sum'; attr?: string };

function aggregate(ns: NamespaceState, q: Obj, filter: FilterNode | undefined): QueryOutput {
  const spec = q.aggregate_by;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw unprocessable('aggregate_by: expected {"label": ["Count"] | ["Sum", "attribute"]}');
  }
  const aggs: Agg[] = Object.entries(spec as Obj).map(([label, a]) => {
    if (!Array.isArray(a) || (a[0] !== 'Count' && a[0] !== 'Sum')) {
      throw badRequest(
        `aggregate_by.${label}: expected ["Count"] or ["Sum", "attribute"], got ${JSON.stringify(a)}`,
      );
    }
    const attr = a[1] as unknown;
    if (attr !== undefined && (typeof attr !== 'string' || (attr !== 'id' && !ns.schema.has(attr)))) {
      throw badRequest(`aggregate_by.${label}: unknown attribute ${JSON.stringify(attr)}`);
    }
    if (a[0] === 'Sum') {
      if (typeof attr !== 'string') throw badRequest(`aggregate_by.${label}: Sum needs an attribute`);
      const t = ns.schema.get(attr)?.type;
      if (t !== 'int' && t !== 'uint' && t !== 'float')
        throw badRequest(`aggregate_by.${label}: Sum needs a numeric attribute; '${attr}' is ${t}`);
      return { label, kind: 'sum', attr };
    }
    return attr === undefined || attr === 'id'
      ? { label, kind: 'count' }
      : { label, kind: 'countAttr', attr };
  });
  const groupBy = (q.group_by ?? []) as unknown;
  if (!Array.isArray(groupBy)) throw unprocessable('group_by: expected an array of attribute names');
  const groups = groupBy.map((g, i) => {
    if (typeof g === 'string') {
      if (g !== 'id' && !ns.schema.has(g)) throw badRequest(`group_by[${i}]: unknown attribute '${g}'`);
      return { out: g, attr: g, each: false };
    }
    const entries = typeof g === 'object' && g !== null ? Object.entries(g as Obj) : [];
    const [out, fn] = entries[0] ?? [];
    if (
      entries.length !== 1 ||
      !Array.isArray(fn) ||
      fn[0] !== 'ForEachUnique' ||
      typeof fn[1] !== 'string'
    ) {
      throw badRequest(
        `group_by[${i}]: expected an attribute name or {"name": ["ForEachUnique", "array_attribute"]}`,
      );
    }
    return { out: out!, attr: fn[1], each: true };
  });

  const update = (acc: number[], id: Id, row: Row): void => {
    aggs.forEach((a, i) => {
      if (a.kind === 'count') acc[i]!++;
      else if (a.kind === 'countAttr') acc[i]! += (a.attr === 'id' ? id : row[a.attr!]) != null ? 1 : 0;
      else {
        const v = row[a.attr!];
        if (typeof v === 'number') acc[i]! += v;
      }
    });
  };
  let examined = 0;
  const { ids, plan } = ns.candidates(filter, false);
  if (groups.length === 0) {
    const acc = aggs.map(() => 0);
    if (!filter && aggs.every((a) => a.kind === 'count')) {
      acc.fill(ns.rows.size);
    } else {
      for (const id of ids) {
        examined++;
        const row = ns.rows.get(id)!;
        if (filter && !filter.test(id, row)) continue;
        update(acc, id, row);
      }
    }
    const aggregations: Obj = {};
    aggs.forEach((a, i) => (aggregations[a.label] = acc[i]));
    return { aggregations, examined, plan: `${plan}, aggregate` };
  }
  const table = new Map<string, { key: Value[]; acc: number[] }>();
  for (const id of ids) {
    examined++;
    const row = ns.rows.get(id)!;
    if (filter && !filter.test(id, row)) continue;
    let keys: Value[][] = [[]];
    for (const g of groups) {
      const v = g.attr === 'id' ? id : (row[g.attr] ?? null);
      const vals: Value[] = g.each ? (Array.isArray(v) ? [...new Set(v)] : []) : [v];
      keys = keys.flatMap((k) => vals.map((x) => [...k, x]));
    }
    for (const key of keys) {
      const ks = JSON.stringify(key);
      let g = table.get(ks);
      if (!g) table.set(ks, (g = { key, acc: aggs.map(() => 0) }));
      update(g.acc, id, row);
    }
  }
  const limit = parseLimit(q, MAX_TOP_K);
  const sorted = [...table.values()].sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const c = nullsFirstCompare(a.key[i], b.key[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
  const aggregation_groups = sorted.slice(0, limit.total).map((g) => {
    const out: Obj = {};
    groups.forEach((gr, i) => (out[gr.out] = outputValue(ns.schema.get(gr.attr), g.key[i] ?? null)));
    aggs.forEach((a, i) => (out[a.label] = g.acc[i]));
    return out;
  });
  return { aggregation_groups, examined, plan: `${plan}, group by ${groups.map((g) => g.out).join(', ')}` };
}

/** Reciprocal rank fusion of sub-query results into one list; `$dist` holds the fused score. */
export function fuseRrf(results: Obj[][], params: unknown, total: number): Obj[] {
  const p = (params ?? {}) as { rank_constant?: number; weights?: number[] };
  const k = p.rank_constant ?? 60;
  const scores = new Map<string, { row: Obj; score: number }>();
  results.forEach((rows, qi) => {
    const w = p.weights?.[qi] ?? 1;
    rows.forEach((row, rank) => {
      const key = JSON.stringify(row.id);
      const { $dist: _d, ...rest } = row;
      const entry = scores.get(key) ?? { row: rest, score: 0 };
      entry.score += w / (k + rank + 1);
      entry.row = { ...entry.row, ...rest };
      scores.set(key, entry);
    });
  });
  return [...scores.values()]
    .sort((a, b) => b.score - a.score || compareIds(a.row.id as Id, b.row.id as Id))
    .slice(0, total)
    .map(({ row, score }) => ({ id: row.id, $dist: score, ...row }));
}
