// The filter grammar: `[attr, Op, value]` leaves combined with And / Or / Not. A filter is
// validated against the namespace schema once (unknown attributes, operand types, operators
// that need an index the attribute lacks) and compiled into a closure tree, so evaluating it
// per row does no parsing. `{"$ref_new": "attr"}` operands (conditional writes) are resolved
// at evaluation time from the document being written.
//
// Over 400 lines on purpose: compileCond is the one table of every operator's operand check and row
// test, read side by side with the service's filter reference; split by operator, the grammar would
// have no single place.
import { compareIds, canonicalUuid, isUuid, type Id } from './ids.js';
import { badRequest, unprocessable } from './errors.js';
import {
  elementType,
  isFilterable,
  isVectorType,
  operandKind,
  parseDatetime,
  type Row,
  type Schema,
} from './schema.js';
import { globToRegExp } from './glob.js';
import { Analyzer } from './fts/analyzer.js';
import type { FtsIndex } from './fts/bm25.js';
import { ftsConfig } from './fts/config.js';

/** The document a conditional write would produce; `null` row for delete conditions. */
export interface RefNew {
  id: Id;
  row: Row | null;
}

export type RowTest = (id: Id, row: Row, ref?: RefNew) => boolean;

export type FilterNode =
  | { kind: 'and'; children: FilterNode[]; test: RowTest }
  | { kind: 'or'; children: FilterNode[]; test: RowTest }
  | { kind: 'not'; child: FilterNode; test: RowTest }
  | { kind: 'cond'; attr: string; op: string; operand: unknown; isRef: boolean; test: RowTest };

export interface FilterContext {
  schema: Schema;
  /** Name of the request field, for error messages (`filters`, `upsert_condition`, …). */
  field: string;
  allowRefNew: boolean;
  /**
   * The namespace's full-text index of an attribute, when the caller has one: token filters
   * then read a document's terms from it instead of analyzing the text again.
   */
  fts?: (attr: string) => FtsIndex | undefined;
}

/** Every filter operator, exactly as spelled on the wire. */
export const FILTER_OPS: ReadonlySet<string> = new Set([
  'Eq',
  'NotEq',
  'In',
  'NotIn',
  'Lt',
  'Lte',
  'Gt',
  'Gte',
  'AnyLt',
  'AnyLte',
  'AnyGt',
  'AnyGte',
  'Contains',
  'NotContains',
  'ContainsAny',
  'NotContainsAny',
  'Glob',
  'NotGlob',
  'IGlob',
  'NotIGlob',
  'Regex',
  'ContainsAllTokens',
  'ContainsAnyToken',
  'ContainsTokenSequence',
  'Fuzzy',
]);

const SHAPE =
  'expected [attribute, operator, value], ["And", [filters…]], ["Or", [filters…]] or ["Not", filter]';

/**
 * How deep `And`/`Or`/`Not` may nest. Real filters are a few levels deep; the bound keeps a
 * hostile request from exhausting the stack (which would otherwise surface as a 500).
 */
export const MAX_FILTER_DEPTH = 64;

export function compileFilter(input: unknown, ctx: FilterContext): FilterNode {
  return compileNode(input, ctx, ctx.field, 0);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function compileNode(input: unknown, ctx: FilterContext, path: string, depth: number): FilterNode {
  if (depth > MAX_FILTER_DEPTH) {
    throw badRequest(
      `invalid filter at ${ctx.field}: nested more than ${MAX_FILTER_DEPTH} levels deep; flatten it (And/Or take many filters)`,
    );
  }
  if (!Array.isArray(input) || input.length < 2) {
    throw badRequest(`invalid filter at ${path}: ${SHAPE}; got ${show(input)}`);
  }
  const [head, second] = input as unknown[];
  if (head === 'And' || head === 'Or') {
    if (!Array.isArray(second) || input.length !== 2) {
      throw badRequest(
        `invalid filter at ${path}: ${String(head)} takes one array of filters, e.g. ["${String(head)}", [f1, f2]]; got ${show(input)}`,
      );
    }
    const children = second.map((c, i) => compileNode(c, ctx, `${path}[1][${i}]`, depth + 1));
    const tests = children.map((c) => c.test);
    const test: RowTest =
      head === 'And'
        ? (id, row, ref) => {
            for (const t of tests) if (!t(id, row, ref)) return false;
            return true;
          }
        : (id, row, ref) => {
            for (const t of tests) if (t(id, row, ref)) return true;
            return false;
          };
    return { kind: head === 'And' ? 'and' : 'or', children, test };
  }
  if (head === 'Not') {
    if (input.length !== 2)
      throw badRequest(`invalid filter at ${path}: Not takes exactly one filter; got ${show(input)}`);
    const child = compileNode(second, ctx, `${path}[1]`, depth + 1);
    const t = child.test;
    return { kind: 'not', child, test: (id, row, ref) => !t(id, row, ref) };
  }
  if (typeof head !== 'string' || typeof second !== 'string' || input.length < 3 || input.length > 4) {
    throw badRequest(`invalid filter at ${path}: ${SHAPE}; got ${show(input)}`);
  }
  if (!FILTER_OPS.has(second)) {
    throw badRequest(
      `invalid filter at ${path}: unknown operator '${second}' (operators are case-sensitive: ${[...FILTER_OPS].join(', ')})`,
    );
  }
  return compileCond(head, second, input[2], input[3], ctx, path);
}

type Kind = 'string' | 'number' | 'boolean';

interface AttrInfo {
  /** `id`, or the attribute's schema type. */
  type: string | undefined;
  isArray: boolean;
  kind: Kind | undefined;
}

function attrInfo(attr: string, ctx: FilterContext, op: string, path: string): AttrInfo {
  if (attr === 'id') {
    const t = ctx.schema.get('id')?.type;
    const kind: Kind | undefined = t === 'string' || t === 'uuid' ? 'string' : t ? 'number' : undefined;
    return { type: t ?? 'id', isArray: false, kind };
  }
  const entry = ctx.schema.get(attr);
  if (!entry) {
    const known = [...ctx.schema.keys()].slice(0, 20).join(', ');
    throw badRequest(
      `invalid filter at ${path}: unknown attribute '${attr}' (the namespace has: ${known || 'no attributes'})`,
    );
  }
  if (isVectorType(entry.type))
    throw badRequest(`invalid filter at ${path}: vector attribute '${attr}' cannot be filtered`);
  const needs = op === 'Regex' ? 'regex' : /Glob$/.test(op) ? 'glob' : null;
  const tokenOp = /Token/.test(op);
  if (tokenOp && !entry.full_text_search) {
    throw badRequest(`invalid filter at ${path}: ${op} needs full_text_search enabled on '${attr}'`);
  }
  if (needs === 'regex' && !entry.regex)
    throw badRequest(`invalid filter at ${path}: Regex needs regex: true in the schema of '${attr}'`);
  if (!tokenOp && needs !== 'regex' && !isFilterable(entry) && !(needs === 'glob' && entry.glob)) {
    throw badRequest(
      `invalid filter at ${path}: attribute '${attr}' is not filterable (set filterable: true in its schema)`,
    );
  }
  const el = elementType(entry.type);
  return { type: entry.type, isArray: el !== undefined, kind: operandKind(el ?? entry.type) };
}

function isRef(v: unknown): v is { $ref_new: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && '$ref_new' in v;
}

function typeMismatch(attr: string, op: string, expected: string, got: unknown, path: string): never {
  throw badRequest(
    `invalid filter at ${path}: filter error in key \`${attr}\`: type mismatch, ${op} expects ${expected}, but got ${show(got)}`,
  );
}

/** Normalizes a literal operand for `info` (datetimes → ms, UUIDs canonical) and checks its kind. */
function scalarOperand(
  attr: string,
  op: string,
  info: AttrInfo,
  v: unknown,
  path: string,
): string | number | boolean | null {
  if (v === null) return null;
  if (info.type === 'datetime' || info.type === '[]datetime') {
    if (typeof v === 'string') {
      const ms = parseDatetime(v);
      if (ms === undefined) typeMismatch(attr, op, 'datetime', v, path);
      return ms;
    }
  }
  if ((info.type === 'uuid' || info.type === '[]uuid') && typeof v === 'string') {
    if (!isUuid(v)) typeMismatch(attr, op, 'uuid', v, path);
    return canonicalUuid(v);
  }
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    typeMismatch(attr, op, info.kind ?? 'a scalar', v, path);
  }
  if (info.kind && typeof v !== info.kind) {
    const el = info.type?.startsWith('[]') ? info.type.slice(2) : info.type;
    typeMismatch(attr, op, el ?? info.kind, v, path);
  }
  return v;
}

function listOperand(attr: string, op: string, info: AttrInfo, v: unknown, path: string): Set<unknown> {
  if (!Array.isArray(v)) typeMismatch(attr, op, `[]${info.kind ?? 'value'}`, v, path);
  if (v.some((x) => x === null))
    throw unprocessable(`invalid filter at ${path}: ${op} lists must not contain null`);
  return new Set(v.map((x) => scalarOperand(attr, op, info, x, path)));
}

function compareValues(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  return false;
}

function compileCond(
  attr: string,
  op: string,
  raw: unknown,
  params: unknown,
  ctx: FilterContext,
  path: string,
): FilterNode {
  const info = attrInfo(attr, ctx, op, path);
  const get = attr === 'id' ? (id: Id): unknown => id : (_id: Id, row: Row): unknown => row[attr];
  const node = (test: RowTest, operand: unknown, ref = false): FilterNode => ({
    kind: 'cond',
    attr,
    op,
    operand,
    isRef: ref,
    test,
  });

  if (isRef(raw)) {
    if (!ctx.allowRefNew)
      throw badRequest(`invalid filter at ${path}: $ref_new is only allowed in write conditions`);
    const refAttr = raw.$ref_new;
    if (typeof refAttr !== 'string')
      throw badRequest(`invalid filter at ${path}: $ref_new takes an attribute name`);
    const refGet = (ref: RefNew | undefined): unknown =>
      !ref ? null : refAttr === 'id' ? (ref.row ? ref.id : null) : (ref.row?.[refAttr] ?? null);
    const cmp = compareOp(op, path);
    return node((id, row, ref) => cmp(get(id, row) ?? null, refGet(ref)), raw, true);
  }

  switch (op) {
    case 'Eq':
    case 'NotEq': {
      let operand: unknown;
      if (Array.isArray(raw)) operand = raw.map((x) => scalarOperand(attr, op, info, x, path));
      else operand = scalarOperand(attr, op, info, raw, path);
      const eq =
        operand === null
          ? (id: Id, row: Row) => (get(id, row) ?? null) === null
          : Array.isArray(operand)
            ? (id: Id, row: Row) => deepEqual(get(id, row), operand)
            : attr === 'id'
              ? (id: Id) => compareIds(id, operand as Id) === 0
              : (_id: Id, row: Row) => row[attr] === operand;
      return node(op === 'Eq' ? eq : (id, row) => !eq(id, row), operand);
    }
    case 'In':
    case 'NotIn': {
      const set = listOperand(attr, op, info, raw, path);
      const inTest = (id: Id, row: Row): boolean => {
        const v = get(id, row);
        if (v === null || v === undefined) return false;
        if (Array.isArray(v)) return v.some((x) => set.has(x));
        return set.has(v);
      };
      return node(op === 'In' ? inTest : (id, row) => !inTest(id, row), [...set]);
    }
    case 'Lt':
    case 'Lte':
    case 'Gt':
    case 'Gte': {
      if (info.isArray)
        throw badRequest(
          `invalid filter at ${path}: ${op} does not apply to array attribute '${attr}'; use Any${op}`,
        );
      const operand = scalarOperand(attr, op, info, raw, path);
      const cmp = compareOp(op, path);
      return node((id, row) => cmp(get(id, row) ?? null, operand), operand);
    }
    case 'AnyLt':
    case 'AnyLte':
    case 'AnyGt':
    case 'AnyGte': {
      if (!info.isArray && info.type !== undefined)
        throw badRequest(
          `invalid filter at ${path}: ${op} needs an array attribute; '${attr}' is ${info.type}`,
        );
      const operand = scalarOperand(attr, op, info, raw, path);
      const cmp = compareOp(op.slice(3), path);
      return node((id, row) => {
        const v = get(id, row);
        return Array.isArray(v) && v.some((x) => x !== null && cmp(x, operand));
      }, operand);
    }
    case 'Contains':
    case 'NotContains':
    case 'ContainsAny':
    case 'NotContainsAny': {
      const any = op.endsWith('Any');
      if (!info.isArray)
        throw badRequest(
          `invalid filter at ${path}: ${op} needs an array attribute; '${attr}' is ${info.type}, use ${any ? 'In' : 'Eq'}`,
        );
      const operands = any
        ? [...listOperand(attr, op, info, raw, path)]
        : [scalarOperand(attr, op, info, raw, path)];
      const set = new Set<unknown>(operands);
      const has = (id: Id, row: Row): boolean => {
        const v = get(id, row);
        return Array.isArray(v) && v.some((x) => set.has(x));
      };
      return node(op.startsWith('Not') ? (id, row) => !has(id, row) : has, any ? operands : operands[0]);
    }
    case 'Glob':
    case 'NotGlob':
    case 'IGlob':
    case 'NotIGlob':
    case 'Regex': {
      if (typeof raw !== 'string') typeMismatch(attr, op, 'string', raw, path);
      if (info.kind !== undefined && info.kind !== 'string')
        throw badRequest(
          `invalid filter at ${path}: ${op} needs a string attribute; '${attr}' is ${info.type}`,
        );
      let re: RegExp;
      if (op === 'Regex') {
        try {
          re = new RegExp(raw, 'u');
        } catch (e) {
          throw badRequest(`invalid filter at ${path}: invalid regex ${show(raw)}: ${(e as Error).message}`);
        }
      } else re = globToRegExp(raw, op.includes('IGlob'));
      const match = (id: Id, row: Row): boolean => {
        const v = get(id, row);
        if (typeof v === 'string') return re.test(v);
        return Array.isArray(v) && v.some((x) => typeof x === 'string' && re.test(x));
      };
      return node(op.startsWith('Not') ? (id, row) => !match(id, row) : match, raw);
    }
    case 'ContainsAllTokens':
    case 'ContainsAnyToken':
    case 'ContainsTokenSequence':
      return node(tokenTest(attr, op, raw, params, ctx, path), raw);
    default:
      throw badRequest(`invalid filter at ${path}: operator '${op}' is not supported by the embedded store`);
  }
}

/**
 * `ContainsAllTokens` / `ContainsAnyToken` (optionally with the last query token as a prefix)
 * and `ContainsTokenSequence` (adjacent, in order). Query and document go through the
 * attribute's analyzer, so stemming, stopwords and case follow its schema.
 */
function tokenTest(
  attr: string,
  op: string,
  raw: unknown,
  params: unknown,
  ctx: FilterContext,
  path: string,
): RowTest {
  const setting = ctx.schema.get(attr)?.full_text_search;
  if (!setting)
    throw badRequest(`invalid filter at ${path}: ${op} needs full_text_search enabled on '${attr}'`);
  const index = ctx.fts?.(attr);
  const analyzer = index?.analyzer ?? new Analyzer(ftsConfig(setting));
  const tokens = analyzer.queryTokens(raw, `filter field "${attr}" (${op})`);
  if (params !== undefined && params !== null) {
    if (op === 'ContainsTokenSequence' || typeof params !== 'object' || Array.isArray(params))
      throw badRequest(
        `invalid filter at ${path}: ${op} takes no parameters besides {"last_as_prefix": bool}`,
      );
  }
  const prefix =
    op !== 'ContainsTokenSequence' &&
    (params as { last_as_prefix?: unknown } | undefined)?.last_as_prefix === true;
  if (tokens.length === 0) return () => false;
  if (op === 'ContainsTokenSequence') {
    return (_id, row) => {
      const have = analyzer.analyze(row[attr]);
      for (let s = 0; s + tokens.length <= have.length; s++) {
        if (tokens.every((t, i) => have[s + i] === t)) return true;
      }
      return false;
    };
  }
  const exact = prefix ? tokens.slice(0, -1) : tokens;
  const last = prefix ? tokens[tokens.length - 1]! : undefined;
  const termsOf = (id: Id, row: Row): Map<string, number> | Set<string> => {
    const d = index?.docs.get(id);
    if (d && d.row === row) return d.terms;
    return new Set(analyzer.analyze(row[attr]));
  };
  const hasPrefix = (terms: Map<string, number> | Set<string>, p: string): boolean => {
    for (const t of terms.keys()) if (t.startsWith(p)) return true;
    return false;
  };
  if (op === 'ContainsAnyToken') {
    return (id, row) => {
      const terms = termsOf(id, row);
      return exact.some((t) => terms.has(t)) || (last !== undefined && hasPrefix(terms, last));
    };
  }
  return (id, row) => {
    const terms = termsOf(id, row);
    return exact.every((t) => terms.has(t)) && (last === undefined || hasPrefix(terms, last));
  };
}

/** Comparison with Turbopuffer's null ordering: a missing value sorts below every value. */
function compareOp(op: string, path: string): (v: unknown, operand: unknown) => boolean {
  switch (op) {
    case 'Eq':
      return (v, o) => (o === null ? v === null : deepEqual(v, o));
    case 'NotEq':
      return (v, o) => !(o === null ? v === null : deepEqual(v, o));
    case 'Lt':
      return (v, o) => o !== null && (v === null || (compareValues(v, o) ?? 0) < 0);
    case 'Lte':
      return (v, o) => (o === null ? v === null : v === null || (compareValues(v, o) ?? 1) <= 0);
    case 'Gt':
      return (v, o) => v !== null && (o === null || (compareValues(v, o) ?? 0) > 0);
    case 'Gte':
      return (v, o) => o === null || (v !== null && (compareValues(v, o) ?? -1) >= 0);
    default:
      throw badRequest(`invalid filter at ${path}: $ref_new is not supported with ${op}`);
  }
}

/** Top-level conjuncts of a filter (the children of nested Ands, or the filter itself). */
export function conjuncts(node: FilterNode | undefined): FilterNode[] {
  if (!node) return [];
  if (node.kind === 'and') return node.children.flatMap(conjuncts);
  return [node];
}
