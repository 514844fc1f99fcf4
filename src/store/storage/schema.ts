// Attribute schema: what each attribute holds and how it may be queried. Types are inferred
// from the first non-null value written (string, int, float, bool and their arrays; an
// attribute named `vector` holding numbers becomes `[N]f32`), or declared through `schema`
// (the only way to get uint, uuid, datetime, or a vector under another name). Values are
// converted to an internal form on write: datetimes become epoch milliseconds, UUIDs their
// canonical string, base64 vectors plain number arrays.
// Over 400 lines on purpose: inference, declaration and conversion of one set of types, each
// rule beside the type it is about.
import { canonicalUuid, isUuid, type Id } from './ids.js';
import { badRequest, unprocessable } from './errors.js';
import { normalizedFts, parseFtsSetting } from './fts/config.js';

export interface AttrSchema {
  type: string;
  filterable?: boolean;
  regex?: boolean;
  glob?: boolean;
  fuzzy?: boolean;
  full_text_search?: boolean | Record<string, unknown>;
  ann?: boolean | Record<string, unknown>;
}

export type Schema = Map<string, AttrSchema>;

export type Value = string | number | boolean | Value[] | null;

/** A row as the store holds it: attribute name → value (`id` included). */
export type Row = Record<string, Value>;

const SCALARS = new Set(['string', 'int', 'uint', 'float', 'uuid', 'datetime', 'bool']);
const VECTOR_RE = /^\[(\d+)\](f32|f16|i8)$/;

export function vectorDims(type: string): number | undefined {
  const m = VECTOR_RE.exec(type);
  return m ? Number(m[1]) : undefined;
}

export function isVectorType(type: string): boolean {
  return VECTOR_RE.test(type);
}

/** Element type of an array type (`[]string` → `string`), else undefined. */
export function elementType(type: string): string | undefined {
  return type.startsWith('[]') ? type.slice(2) : undefined;
}

function isKnownType(type: string): boolean {
  if (SCALARS.has(type) || isVectorType(type)) return true;
  const el = elementType(type);
  return el !== undefined && SCALARS.has(el);
}

/** The JS kind a filter operand must have to compare against values of a scalar type. */
export function operandKind(type: string): 'string' | 'number' | 'boolean' | undefined {
  switch (type) {
    case 'string':
    case 'uuid':
      return 'string';
    case 'int':
    case 'uint':
    case 'float':
    case 'datetime':
      return 'number';
    case 'bool':
      return 'boolean';
    default:
      return undefined;
  }
}

export function isFilterable(entry: AttrSchema): boolean {
  if (isVectorType(entry.type)) return false;
  if (entry.filterable !== undefined) return entry.filterable;
  return !(entry.full_text_search || entry.regex || entry.glob || entry.fuzzy);
}

/** Parses the `schema` object of a write or a schema update into entries (not yet merged). */
export function parseSchemaInput(input: unknown): Map<string, AttrSchema> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw unprocessable('schema: expected an object mapping attribute names to types');
  }
  const out = new Map<string, AttrSchema>();
  for (const [attr, raw] of Object.entries(input as Record<string, unknown>)) {
    validateAttributeName(attr);
    let entry: AttrSchema;
    if (typeof raw === 'string') entry = { type: raw };
    else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      const obj = raw as Record<string, unknown>;
      if (typeof obj.type !== 'string') throw unprocessable(`schema.${attr}: missing string field \`type\``);
      entry = { type: obj.type };
      for (const flag of ['filterable', 'regex', 'glob', 'fuzzy'] as const) {
        if (obj[flag] !== undefined && obj[flag] !== null) {
          if (typeof obj[flag] !== 'boolean')
            throw unprocessable(`schema.${attr}.${flag}: expected a boolean`);
          entry[flag] = obj[flag];
        }
      }
      const fts = parseFtsSetting(attr, entry.type, obj.full_text_search);
      if (fts !== undefined) entry.full_text_search = fts;
      else if (obj.full_text_search === false) entry.full_text_search = false;
      if (obj.ann !== undefined && obj.ann !== null && obj.ann !== false) {
        entry.ann = obj.ann as boolean | Record<string, unknown>;
      }
    } else throw unprocessable(`schema.${attr}: expected a type string or a config object`);
    if (!isKnownType(entry.type)) {
      throw badRequest(
        `schema.${attr}: unknown type '${entry.type}' (expected string, int, uint, float, uuid, datetime, bool, []<type> or [N]f32)`,
      );
    }
    if (attr === 'id' && !['uint', 'int', 'string', 'uuid'].includes(entry.type)) {
      throw badRequest(`schema.id: id type must be uint, string or uuid, got '${entry.type}'`);
    }
    out.set(attr, entry);
  }
  return out;
}

/** Merges declared entries into `schema` (mutating it). Changing a type is an error. */
export function mergeSchema(
  schema: Schema,
  declared: Map<string, AttrSchema>,
  namespaceHasRows: boolean,
): void {
  for (const [attr, entry] of declared) {
    const prev = schema.get(attr);
    if (prev && prev.type !== entry.type) {
      const widening = prev.type === 'int' && entry.type === 'float';
      if (!widening || namespaceHasRows) {
        throw badRequest(`schema.${attr}: cannot change type from '${prev.type}' to '${entry.type}'`);
      }
    }
    if (attr === 'id' && !prev && namespaceHasRows) {
      throw badRequest('schema.id: the id type can only be declared on the first write');
    }
    schema.set(attr, { ...prev, ...entry });
  }
}

/** Attribute names a namespace may hold besides `id` (turbopuffer.md §10; older docs said 256). */
export const MAX_ATTRIBUTES_PER_NAMESPACE = 1024;
/** Largest attribute value, in bytes (turbopuffer.md §10: "attribute value 8 MiB"). */
const MAX_ATTRIBUTE_VALUE_BYTES = 8 * 1024 * 1024;
/**
 * Largest value of a filterable attribute, in bytes; for an array, of any one element (limits
 * page: "Max filterable value size 4 KiB"). Strings are filterable unless declared otherwise.
 */
const MAX_FILTERABLE_VALUE_BYTES = 4 * 1024;
/** Largest document: its id, attribute names and values (limits page: "Max document size 64 MiB"). */
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/**
 * Refuses a schema that grew past the service's attribute-name limit. A namespace already over
 * it (written before the limit existed) may still be written, as long as the write adds nothing.
 */
export function checkAttributeCount(schema: Schema, before: number, field: string): void {
  const count = attributeCount(schema);
  if (count > MAX_ATTRIBUTES_PER_NAMESPACE && count > before) {
    throw badRequest(
      `${field}: the namespace would have ${count} attribute names; the limit is ${MAX_ATTRIBUTES_PER_NAMESPACE} per namespace. ` +
        'Write fewer distinct attributes (nest rarely used ones into one string attribute) or use another namespace',
    );
  }
}

/** Attribute names in a schema, `id` excluded. */
export function attributeCount(schema: Schema): number {
  return schema.size - (schema.has('id') ? 1 : 0);
}

/** Bytes a written value occupies: UTF-8 strings, 8 bytes per number or boolean, arrays summed. */
export function valueBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += valueBytes(x);
    return n;
  }
  return 8;
}

export function validateAttributeName(attr: string): void {
  if (attr.length === 0) throw badRequest('attribute names must not be empty');
  if (attr.startsWith('$')) throw badRequest(`attribute name '${attr}' must not start with '$'`);
  if (Buffer.byteLength(attr, 'utf8') > 128)
    throw badRequest(`attribute name '${attr.slice(0, 40)}…' is longer than 128 bytes`);
}

function decodeBase64Vector(s: string, attr: string): number[] {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 4 !== 0) throw badRequest(`${attr}: base64 vector length is not a multiple of 4 bytes`);
  const out = new Array<number>(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export function encodeBase64Vector(v: number[]): string {
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

function inferScalar(v: unknown): string | undefined {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return undefined;
}

function scalarMismatch(type: string, v: unknown, attr: string): never {
  throw badRequest(
    `attribute '${attr}': expected a value of type ${type}, got ${JSON.stringify(v)?.slice(0, 80)}`,
  );
}

function convertScalar(type: string, v: unknown, attr: string): string | number | boolean {
  switch (type) {
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      break;
    case 'float':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      break;
    case 'uint':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
      break;
    case 'uuid':
      if (typeof v === 'string' && isUuid(v)) return canonicalUuid(v);
      break;
    case 'datetime': {
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      const ms = typeof v === 'string' ? parseDatetime(v) : undefined;
      if (ms !== undefined) return ms;
      break;
    }
  }
  return scalarMismatch(type, v, attr);
}

export function parseDatetime(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined;
  // A date or date-time without a zone is UTC.
  const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(s.slice(10)) || s.length === 10 ? s : `${s}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Refuses a string over 4 KiB (for an array, any string element over it) in a filterable
 * attribute. A UTF-8 string is at most 3 bytes per UTF-16 unit, so short strings skip the count.
 */
function checkFilterableValue(entry: AttrSchema | undefined, attr: string, v: Value): void {
  if (entry === undefined || !isFilterable(entry)) return;
  const over = (s: unknown): number | undefined => {
    if (typeof s !== 'string' || s.length * 3 <= MAX_FILTERABLE_VALUE_BYTES) return undefined;
    const bytes = Buffer.byteLength(s);
    return bytes > MAX_FILTERABLE_VALUE_BYTES ? bytes : undefined;
  };
  let bytes = over(v);
  let what = 'the value';
  if (bytes === undefined && Array.isArray(v)) {
    for (const x of v) if ((bytes = over(x)) !== undefined) break;
    what = 'an element of the value';
  }
  if (bytes === undefined) return;
  throw badRequest(
    `attribute '${attr}': ${what} is ${bytes} bytes; a filterable attribute value is limited to 4 KiB (${MAX_FILTERABLE_VALUE_BYTES} bytes). ` +
      `Declare the attribute non-filterable to store longer values: "schema": {"${attr}": {"type": "${entry.type}", "filterable": false}}`,
  );
}

/**
 * Refuses a document over 64 MiB (id, attribute names and values). Counting is skipped when an
 * upper bound (3 bytes per UTF-16 unit, 8 per number) already fits.
 */
export function checkDocumentSize(id: Id, row: Row): void {
  let bound = typeof id === 'number' ? 8 : id.length * 3;
  for (const k in row) {
    const v = row[k];
    bound += k.length * 3;
    if (typeof v === 'string') bound += v.length * 3;
    else if (Array.isArray(v)) for (const x of v) bound += typeof x === 'string' ? x.length * 3 : 8;
    else bound += 8;
  }
  if (bound <= MAX_DOCUMENT_BYTES) return;
  let bytes = typeof id === 'number' ? 8 : Buffer.byteLength(id);
  for (const k in row) bytes += Buffer.byteLength(k) + valueBytes(row[k]);
  if (bytes > MAX_DOCUMENT_BYTES)
    throw badRequest(
      `document ${JSON.stringify(id)}: ${bytes} bytes (id, attribute names and values); the limit is 64 MiB (${MAX_DOCUMENT_BYTES} bytes) per document. ` +
        'Store large content elsewhere (object storage) and keep a reference in the row',
    );
}

/**
 * Converts one written value to its stored form against the working schema, inferring (and
 * recording) the type of an attribute seen for the first time. `null` clears the attribute.
 * A value past the attribute value or filterable value limit is refused (400).
 */
export function convertValue(schema: Schema, attr: string, v: unknown): Value {
  const out = convertUnchecked(schema, attr, v);
  if (out !== null) checkFilterableValue(schema.get(attr), attr, out);
  return out;
}

function convertUnchecked(schema: Schema, attr: string, v: unknown): Value {
  if (v === null || v === undefined) return null;
  if ((typeof v === 'string' && v.length > MAX_ATTRIBUTE_VALUE_BYTES / 3) || Array.isArray(v)) {
    const bytes = valueBytes(v);
    if (bytes > MAX_ATTRIBUTE_VALUE_BYTES)
      throw badRequest(
        `attribute '${attr}': the value is ${bytes} bytes; the limit is 8 MiB (${MAX_ATTRIBUTE_VALUE_BYTES} bytes) per attribute value. ` +
          'Store large content elsewhere (object storage) and keep a reference in the row',
      );
  }
  const entry = schema.get(attr);
  if (entry !== undefined && typeof v !== 'object') {
    const t = entry.type;
    if (
      (t === 'string' && typeof v === 'string') ||
      (t === 'float' && typeof v === 'number' && Number.isFinite(v)) ||
      (t === 'bool' && typeof v === 'boolean')
    )
      return v as Value;
  }
  const where = `attribute '${attr}'`;
  if (!entry) {
    if (attr === 'vector' && (Array.isArray(v) || typeof v === 'string')) {
      const vec = typeof v === 'string' ? decodeBase64Vector(v, where) : v;
      if (vec.length === 0 || !vec.every((x) => typeof x === 'number'))
        throw badRequest(`${where}: vectors are non-empty arrays of numbers`);
      schema.set(attr, { type: `[${vec.length}]f32`, ann: true });
      return vec as number[];
    }
    if (Array.isArray(v)) {
      const first = v.find((x) => x !== null);
      if (first === undefined) return [];
      const el = inferScalar(first);
      if (!el) throw badRequest(`${where}: unsupported array element ${JSON.stringify(first)?.slice(0, 80)}`);
      const elType =
        el === 'int' && v.some((x) => typeof x === 'number' && !Number.isInteger(x)) ? 'float' : el;
      schema.set(attr, { type: `[]${elType}` });
      return convertUnchecked(schema, attr, v);
    }
    const t = inferScalar(v);
    if (!t)
      throw badRequest(
        `${where}: unsupported value ${JSON.stringify(v)?.slice(0, 80)} (objects are not attribute values)`,
      );
    schema.set(attr, { type: t });
    return v as string | number | boolean;
  }
  const dims = vectorDims(entry.type);
  if (dims !== undefined) {
    const vec = typeof v === 'string' ? decodeBase64Vector(v, where) : v;
    if (!Array.isArray(vec) || !vec.every((x) => typeof x === 'number'))
      throw badRequest(`${where}: expected a vector of ${dims} numbers`);
    if (vec.length !== dims) throw badRequest(`${where}: expected ${dims} dimensions, got ${vec.length}`);
    return vec as number[];
  }
  const el = elementType(entry.type);
  if (el !== undefined) {
    if (!Array.isArray(v))
      throw badRequest(`${where}: expected an array of ${el}, got ${JSON.stringify(v)?.slice(0, 80)}`);
    if (el === 'int' && v.some((x) => typeof x === 'number' && !Number.isInteger(x))) {
      schema.set(attr, { ...entry, type: '[]float' });
      return convertUnchecked(schema, attr, v);
    }
    return v.map((x) => convertScalar(el, x, attr));
  }
  if (Array.isArray(v)) throw badRequest(`${where}: expected a value of type ${entry.type}, got an array`);
  if (entry.type === 'int' && typeof v === 'number' && !Number.isInteger(v)) {
    // Inferred integers widen to float when a fractional value arrives (prices written as 20
    // and then 19.99); declared ints are held to the same rule for simplicity.
    schema.set(attr, { ...entry, type: 'float' });
    return v;
  }
  return convertScalar(entry.type, v, attr);
}

/** Stored value → wire value (datetimes back to RFC 3339). */
export function outputValue(entry: AttrSchema | undefined, v: Value): unknown {
  if (!entry) return v;
  if (entry.type === 'datetime' && typeof v === 'number') return new Date(v).toISOString();
  if (entry.type === '[]datetime' && Array.isArray(v))
    return v.map((x) => (typeof x === 'number' ? new Date(x).toISOString() : x));
  return v;
}

/** The normalized form `GET /v1/namespaces/{ns}/schema` returns. */
export function normalizedSchema(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [attr, e] of schema) {
    const vector = isVectorType(e.type);
    const item: Record<string, unknown> = { type: e.type };
    if (vector) item.ann = true;
    if (e.regex) item.regex = true;
    if (e.glob) item.glob = true;
    if (e.fuzzy) item.fuzzy = true;
    item.filterable = attr === 'id' || vector ? null : isFilterable(e);
    item.full_text_search = e.full_text_search ? normalizedFts(e.full_text_search) : null;
    out[attr] = item;
  }
  return out;
}

/** The compact form in v2 metadata: null keys left out, vectors carry the distance metric. */
export function compactSchema(schema: Schema, distanceMetric: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [attr, e] of schema) {
    const item: Record<string, unknown> = { type: e.type };
    if (isVectorType(e.type)) item.ann = { distance_metric: distanceMetric ?? 'cosine_distance' };
    else if (attr !== 'id') item.filterable = isFilterable(e);
    if (e.regex) item.regex = true;
    if (e.glob) item.glob = true;
    if (e.full_text_search) item.full_text_search = normalizedFts(e.full_text_search);
    out[attr] = item;
  }
  return out;
}
