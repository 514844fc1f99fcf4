// zod → CRD openAPIV3Schema. zod's own JSON Schema output is close but not structural
// (reference kubernetes.md §2.7, §5.2); this module post-processes it into what a kube-apiserver
// accepts. Pure: the same zod schema always yields the same JSON, which is what lets a test compare
// the checked-in CRDs with a fresh generation.
import { z } from 'zod';

/** A node of a CRD openAPIV3Schema (JSONSchemaProps); loose on purpose, it is plain JSON. */
export type JsonSchemaProps = { [key: string]: unknown };

/** The schema cannot be expressed as a structural CRD schema; the message names the node. */
export class CrdSchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'CrdSchemaError';
  }
}

const PRESERVE = 'x-kubernetes-preserve-unknown-fields';
const INT_OR_STRING = 'x-kubernetes-int-or-string';
/** Keywords the apiserver refuses in a CRD schema (§2.7). */
const FORBIDDEN = [
  'definitions',
  'dependencies',
  'deprecated',
  'discriminator',
  'id',
  'patternProperties',
  'readOnly',
  'writeOnly',
  'xml',
  '$ref',
];

/**
 * The structural openAPIV3Schema for one zod schema (a spec or status object).
 *
 * @example toCrdSchema(functionSpecSchema) // { type: 'object', properties: { ... } }
 */
export function toCrdSchema(schema: z.ZodType): JsonSchemaProps {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input', // input: defaulted fields are optional and no additionalProperties:false on z.object
    unrepresentable: 'throw',
    cycles: 'throw',
    reused: 'inline',
  }) as JsonSchemaProps;
  return structural(raw, '(root)');
}

/** Post-process one node (and its children) of zod's output; exported for tests. */
export function structural(input: JsonSchemaProps, path: string): JsonSchemaProps {
  const node: JsonSchemaProps = { ...input };
  for (const k of ['$schema', '$id', '$defs']) delete node[k];
  for (const k of FORBIDDEN) {
    if (k in node)
      throw new CrdSchemaError(
        path,
        `${k} is not allowed in a CRD schema (zod schemas for CRDs must not use ids or recursion)`,
      );
  }
  if (node[INT_OR_STRING] === true) return intOrString(node);
  if (isUntyped(node)) return { ...pick(node, ['description', 'default']), [PRESERVE]: true };
  for (const k of ['anyOf', 'oneOf', 'allOf', 'not']) {
    if (k in node)
      throw new CrdSchemaError(
        path,
        `${k} is not structural; model variants as optional fields plus a CEL rule`,
      );
  }
  if (node.uniqueItems === true) {
    // uniqueItems is forbidden; a set-typed list is the Kubernetes way to say the same thing.
    delete node.uniqueItems;
    node['x-kubernetes-list-type'] ??= 'set';
  }
  if (node.format === 'date-time' || node.format === 'uri') delete node.pattern; // zod's long regex; format already checks it
  dropSafeIntegerBounds(node);
  objectRules(node, path);
  if (node.items !== undefined) node.items = structural(node.items as JsonSchemaProps, `${path}[]`);
  if (node.type === undefined && node[PRESERVE] !== true) {
    throw new CrdSchemaError(path, 'every node needs a type (structural schema rule)');
  }
  return node;
}

function objectRules(node: JsonSchemaProps, path: string): void {
  if (node.additionalProperties === false) delete node.additionalProperties;
  const props = node.properties as Record<string, JsonSchemaProps> | undefined;
  const extra = node.additionalProperties as JsonSchemaProps | undefined;
  if (props !== undefined && extra !== undefined) {
    // A loose object: properties and additionalProperties are exclusive in CRDs, keep the fields.
    delete node.additionalProperties;
    node[PRESERVE] = true;
  } else if (extra !== undefined && isUntyped(extra)) {
    // record<string, unknown>: open JSON kept exactly as written (sourceRef, podSpec).
    delete node.additionalProperties;
    node[PRESERVE] = true;
  } else if (extra !== undefined) {
    node.additionalProperties = structural(extra, `${path}.*`);
  }
  if (props !== undefined) {
    node.properties = Object.fromEntries(
      Object.entries(props).map(([k, v]) => [k, structural(v, path === '(root)' ? k : `${path}.${k}`)]),
    );
  }
  if (Array.isArray(node.required) && node.required.length === 0) delete node.required;
  // zod adds propertyNames for records on draft targets; the apiserver does not know it.
  delete node.propertyNames;
}

/** The exact shape controller-gen emits for resource.Quantity / IntOrString. */
function intOrString(node: JsonSchemaProps): JsonSchemaProps {
  const branches = (node.anyOf ?? node.oneOf ?? []) as JsonSchemaProps[];
  const pattern = branches.find((b) => b.type === 'string')?.pattern;
  return {
    ...pick(node, ['description', 'default']),
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...(pattern !== undefined ? { pattern } : {}),
    [INT_OR_STRING]: true,
  };
}

function isUntyped(node: JsonSchemaProps): boolean {
  const meaningful = Object.keys(node).filter((k) => !['description', 'default', PRESERVE].includes(k));
  return meaningful.length === 0;
}

function dropSafeIntegerBounds(node: JsonSchemaProps): void {
  if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
  if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
}

function pick(node: JsonSchemaProps, keys: string[]): JsonSchemaProps {
  return Object.fromEntries(keys.filter((k) => node[k] !== undefined).map((k) => [k, node[k]]));
}

/**
 * Checks the structural-schema rules the apiserver enforces (§2.7) on a finished schema; returns
 * the violations (empty when structural). Used by tests and by gen-crds before writing.
 */
export function structuralViolations(node: JsonSchemaProps, path = '(root)'): string[] {
  const out: string[] = [];
  for (const k of FORBIDDEN) if (k in node) out.push(`${path}: forbidden keyword ${k}`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties: false`);
  if (node.uniqueItems === true) out.push(`${path}: uniqueItems: true`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    out.push(`${path}: properties and additionalProperties together`);
  }
  const ext = node[PRESERVE] === true || node[INT_OR_STRING] === true;
  if (node.type === undefined && !ext) out.push(`${path}: missing type`);
  if (node[INT_OR_STRING] !== true) {
    for (const k of ['anyOf', 'oneOf', 'allOf', 'not']) if (k in node) out.push(`${path}: ${k}`);
  }
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, JsonSchemaProps>)) {
    out.push(...structuralViolations(v, `${path}.${k}`));
  }
  if (typeof node.items === 'object' && node.items !== null)
    out.push(...structuralViolations(node.items as JsonSchemaProps, `${path}[]`));
  if (typeof node.additionalProperties === 'object' && node.additionalProperties !== null) {
    out.push(...structuralViolations(node.additionalProperties as JsonSchemaProps, `${path}.*`));
  }
  return out;
}
