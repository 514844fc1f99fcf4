// Full-text `rank_by` expressions: `[attr, "BM25", query, {last_as_prefix}?]` leaves combined
// with `["Sum", [...]]`, `["Max", [...]]` and `["Product", weight, expr]` (or
// `["Product", expr, weight]`), and filters used as 0/1 scores. Parsed and validated once
// against the schema, then evaluated to a score per document; documents scoring zero are left
// out, as the service does.
import type { Id } from '../ids.js';
import { badRequest } from '../errors.js';
import { compileFilter, FILTER_OPS, type FilterNode } from '../filter.js';
import type { NamespaceState } from '../namespace.js';
import type { FtsIndex } from './bm25.js';

export type RankNode =
  | { kind: 'bm25'; attr: string; index: FtsIndex; tokens: string[]; prefix: boolean }
  | { kind: 'sum' | 'max'; children: RankNode[] }
  | { kind: 'product'; weight: number; child: RankNode }
  | { kind: 'filter'; filter: FilterNode };

const UNSUPPORTED = new Set(['Attribute', 'Saturate', 'Decay', 'Dist']);
const NOT_TEXT = new Set(['asc', 'desc', 'ANN', 'kNN', 'SparseKNN']);

/** Whether `rank_by` is a full-text expression (a BM25 leaf or a combinator). */
export function isTextRank(rankBy: unknown[]): boolean {
  const [head, op] = rankBy;
  if (head === 'Sum' || head === 'Max' || head === 'Product') return true;
  if (typeof head === 'string' && UNSUPPORTED.has(head)) return true;
  // A bare filter ranks too: 1 where it matches (the docs' "rank by filter").
  if (head === 'And' || head === 'Or' || head === 'Not') return true;
  return op === 'BM25' || (typeof op === 'string' && FILTER_OPS.has(op));
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

export function parseRank(ns: NamespaceState, input: unknown, path = 'rank_by', depth = 0): RankNode {
  if (depth > 32) throw badRequest(`${path}: rank_by expressions nest at most 32 levels deep`);
  if (!Array.isArray(input) || input.length < 2)
    throw badRequest(
      `${path}: expected a rank expression such as ["text", "BM25", "query"], got ${show(input)}`,
    );
  const [head, second, third, fourth] = input as unknown[];
  if (head === 'Sum' || head === 'Max') {
    if (input.length !== 2 || !Array.isArray(second) || second.length === 0)
      throw badRequest(
        `${path}: ${head} takes one non-empty array of expressions, e.g. ["${head}", [e1, e2]]`,
      );
    return {
      kind: head === 'Sum' ? 'sum' : 'max',
      children: second.map((c, i) => parseRank(ns, c, `${path}[1][${i}]`, depth + 1)),
    };
  }
  if (head === 'Product') {
    // ["Product", w, e] | ["Product", e, w] | the older ["Product", [w, e]].
    let args: unknown[] = input.slice(1);
    if (input.length === 2 && Array.isArray(second) && second.length === 2) args = second;
    if (args.length !== 2)
      throw badRequest(`${path}: Product takes a weight and an expression, e.g. ["Product", 2, expr]`);
    const [a, b] = args;
    const weight = typeof a === 'number' ? a : b;
    const expr = typeof a === 'number' ? b : a;
    if (typeof weight !== 'number' || !Number.isFinite(weight))
      throw badRequest(`${path}: Product needs a numeric weight, got ${show(input)}`);
    if (weight < 0) throw badRequest(`${path}: the Product weight must be non-negative, got ${weight}`);
    return {
      kind: 'product',
      weight,
      child: parseRank(ns, expr, `${path}[${typeof a === 'number' ? 2 : 1}]`, depth + 1),
    };
  }
  if (typeof head === 'string' && UNSUPPORTED.has(head))
    throw badRequest(`${path}: the ${head} operator is not supported by the embedded store`);
  if (second === 'BM25') {
    if (typeof head !== 'string') throw badRequest(`${path}: expected [attribute, "BM25", query]`);
    if (input.length > 4) throw badRequest(`${path}: expected [attribute, "BM25", query, {last_as_prefix}?]`);
    const entry = ns.schema.get(head);
    if (!entry) throw badRequest(`${path}: unknown attribute '${head}'`);
    if (!entry.full_text_search)
      throw badRequest(
        `${path}: attribute '${head}' is not configured for full-text search (set full_text_search in its schema)`,
      );
    const index = ns.ftsIndex(head)!;
    const tokens = index.analyzer.queryTokens(third, `rank_by field "${head}"`);
    let prefix = false;
    if (fourth !== undefined && fourth !== null) {
      if (typeof fourth !== 'object' || Array.isArray(fourth))
        throw badRequest(`${path}[3]: expected {"last_as_prefix": bool}`);
      const lap = (fourth as { last_as_prefix?: unknown }).last_as_prefix;
      if (lap !== undefined && typeof lap !== 'boolean')
        throw badRequest(`${path}[3].last_as_prefix: expected a boolean`);
      prefix = lap === true && tokens.length > 0;
    }
    return { kind: 'bm25', attr: head, index, tokens, prefix };
  }
  if (typeof second === 'string' && NOT_TEXT.has(second))
    throw badRequest(`${path}: ${show(input)} cannot be combined inside a full-text rank expression`);
  // Anything else must be a filter, which scores 1 where it matches.
  return {
    kind: 'filter',
    filter: compileFilter(input, {
      schema: ns.schema,
      field: path,
      allowRefNew: false,
      fts: (a) => ns.ftsIndex(a),
    }),
  };
}

/** Scores per document (absent = 0), and how many documents were looked at. */
export function evalRank(ns: NamespaceState, node: RankNode): { scores: Map<Id, number>; examined: number } {
  let examined = 0;
  const walk = (n: RankNode): Map<Id, number> => {
    switch (n.kind) {
      case 'bm25': {
        const s = n.index.score(n.tokens, n.prefix);
        examined += s.size;
        return s;
      }
      case 'product': {
        const s = walk(n.child);
        for (const [id, v] of s) s.set(id, v * n.weight);
        return s;
      }
      case 'sum':
      case 'max': {
        const [first, ...rest] = n.children.map(walk);
        const out = first!;
        for (const m of rest) {
          for (const [id, v] of m) {
            const cur = out.get(id);
            out.set(id, cur === undefined ? v : n.kind === 'sum' ? cur + v : Math.max(cur, v));
          }
        }
        return out;
      }
      case 'filter': {
        const s = new Map<Id, number>();
        for (const [id, row] of ns.rows) {
          examined++;
          if (n.filter.test(id, row)) s.set(id, 1);
        }
        return s;
      }
    }
  };
  return { scores: walk(node), examined };
}

export function describeRank(n: RankNode): string {
  switch (n.kind) {
    case 'bm25':
      return `BM25(${n.attr}: ${n.tokens.join(' ')}${n.prefix ? '*' : ''})`;
    case 'product':
      return `${n.weight}×${describeRank(n.child)}`;
    case 'sum':
    case 'max':
      return `${n.kind === 'sum' ? 'Sum' : 'Max'}(${n.children.map(describeRank).join(', ')})`;
    case 'filter':
      return 'filter';
  }
}
