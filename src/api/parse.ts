// One entry point that turns untyped input (a YAML document, an object from the apiserver) into a
// typed, defaulted resource — or an error that names every bad field and how to fix it.
import type { z } from 'zod';
import { InvalidInputError } from '../../packages/worker/src/util/errors.js';
import { API_VERSION, KINDS, type LayerKind } from './group.js';
import { functionSchema, type LayerFunction } from './function.js';
import { indexSchema, type LayerIndex } from './index-resource.js';
import { infraRulesSchema, type InfraRules } from './infra-rules.js';
import { pipelineSchema, type LayerPipeline } from './pipeline.js';
import { vectorStoreSchema, type VectorStore } from './vector-store.js';

export type LayerResource = VectorStore | LayerIndex | InfraRules | LayerPipeline | LayerFunction;
export type Workload = LayerFunction | LayerPipeline;

/** Zod schema of each kind (the single source of types, CRDs and validation). */
export const resourceSchemas = {
  VectorStore: vectorStoreSchema,
  Index: indexSchema,
  InfraRules: infraRulesSchema,
  Pipeline: pipelineSchema,
  Function: functionSchema,
} as const satisfies Record<LayerKind, z.ZodType>;

/** One problem with one field. */
export interface FieldIssue {
  /** Dotted path from the document root, e.g. `spec.scaling.replicas.max`. */
  path: string;
  message: string;
  /** How to fix it. */
  hint: string;
}

/** A resource failed validation; `issues` lists every bad field, the message the first few. */
export class ResourceValidationError extends InvalidInputError {
  constructor(
    /** `Function layer/tag-products`, or what is known of the document. */
    readonly resource: string,
    readonly issues: FieldIssue[],
  ) {
    const first = issues[0] ?? { path: '(root)', message: 'invalid', hint: '' };
    super(
      first.path,
      `${resource}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues.map((i) => `${i.path}: ${i.hint}`).join('; '),
    );
    // InvalidInputError prefixes the first path; the resource label already names everything.
    this.message = `${resource}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  }
}

export type ParseResult<T = LayerResource> =
  { ok: true; resource: T } | { ok: false; error: ResourceValidationError };

/**
 * Validate and default one resource of any of the five kinds.
 *
 * @example
 * const r = parseResource(yaml.parse(text));
 * if (!r.ok) console.error(r.error.message, r.error.hint);
 */
export function parseResource(input: unknown): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('document', [
      {
        path: '(root)',
        message: 'not an object',
        hint: 'give a YAML mapping with apiVersion, kind, metadata and spec',
      },
    ]);
  }
  const obj = input as Record<string, unknown>;
  const label = describeDocument(obj);
  if (obj.apiVersion !== API_VERSION) {
    return fail(label, [
      {
        path: 'apiVersion',
        message: `expected ${API_VERSION}, got ${JSON.stringify(obj.apiVersion)}`,
        hint: `set apiVersion: ${API_VERSION}`,
      },
    ]);
  }
  if (!isLayerKind(obj.kind)) {
    return fail(label, [
      {
        path: 'kind',
        message: `unknown kind ${JSON.stringify(obj.kind)}`,
        hint: `use one of ${KINDS.join(', ')}`,
      },
    ]);
  }
  // reportInput: a value of the wrong type is reported as such, not as "required".
  const parsed = resourceSchemas[obj.kind].safeParse(obj, { reportInput: true });
  if (parsed.success) return { ok: true, resource: parsed.data };
  return fail(label, parsed.error.issues.map(toFieldIssue));
}

/** Parse a resource that must be of one kind (e.g. the operator reading Functions). */
export function parseKind<K extends LayerKind>(
  kind: K,
  input: unknown,
): ParseResult<z.infer<(typeof resourceSchemas)[K]>> {
  const r = parseResource(input);
  if (!r.ok) return r;
  if (r.resource.kind !== kind) {
    return fail(describeDocument(input as Record<string, unknown>), [
      { path: 'kind', message: `expected ${kind}, got ${r.resource.kind}`, hint: `give a ${kind}` },
    ]);
  }
  return r as ParseResult<z.infer<(typeof resourceSchemas)[K]>>;
}

export function isWorkload(r: LayerResource): r is Workload {
  return r.kind === 'Function' || r.kind === 'Pipeline';
}

function isLayerKind(k: unknown): k is LayerKind {
  return typeof k === 'string' && (KINDS as readonly string[]).includes(k);
}

function fail(resource: string, issues: FieldIssue[]): { ok: false; error: ResourceValidationError } {
  return { ok: false, error: new ResourceValidationError(resource, issues) };
}

function describeDocument(obj: Record<string, unknown>): string {
  const kind = typeof obj.kind === 'string' ? obj.kind : 'document';
  const meta = (typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}) as Record<
    string,
    unknown
  >;
  const name = typeof meta.name === 'string' ? meta.name : undefined;
  const ns = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  if (name === undefined) return kind;
  return `${kind} ${ns ? `${ns}/` : ''}${name}`;
}

/** `spec.computePools[0].name` from zod's `['spec', 'computePools', 0, 'name']`. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function toFieldIssue(issue: z.core.$ZodIssue): FieldIssue {
  const path = formatPath(issue.path);
  const field = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : 'the document';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) {
        return { path, message: 'required', hint: `add ${field} (${issue.expected})` };
      }
      return {
        path,
        message: `expected ${issue.expected}, got ${describeValue(issue.input)}`,
        hint: `set ${field} to a ${issue.expected}`,
      };
    case 'invalid_value':
      return {
        path,
        message: `${describeValue(issue.input)} is not allowed`,
        hint: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'unrecognized_keys':
      return {
        path: issue.keys.length === 1 ? joinPath(path, issue.keys[0] ?? '') : path,
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`,
        hint: 'remove it or fix its spelling (see kubectl explain or docs for the field names)',
      };
    case 'too_small':
      return { path, message: issue.message, hint: `use a value of at least ${String(issue.minimum)}` };
    case 'too_big':
      return { path, message: issue.message, hint: `use a value of at most ${String(issue.maximum)}` };
    case 'invalid_format':
      return { path, message: issue.message, hint: `fix the format of ${field}` };
    case 'invalid_union':
      return {
        path,
        message: 'matches no allowed form',
        hint: `check the type of ${field} (e.g. a quantity is "500m" or an integer)`,
      };
    case 'custom': {
      const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
      return {
        path,
        message: issue.message,
        hint: typeof hint === 'string' ? hint : `change ${field}: ${issue.message}`,
      };
    }
    default:
      return { path, message: issue.message, hint: `change ${field}: ${issue.message}` };
  }
}

function joinPath(base: string, key: string): string {
  return base === '(root)' ? key : `${base}.${key}`;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
