// Typed access to the Helm chart's files and the JSON-schema validators the chart tests share:
// values.schema.json (what `helm install` checks) and a CRD's openAPIV3Schema turned into a JSON
// schema that also refuses unknown fields (the apiserver would prune them silently).
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const CHART_DIR = new URL('../../../deploy/helm/layer/', import.meta.url);
export const CRD_DIR = new URL('../../../deploy/crds/', import.meta.url);
export const KEDA_CRD_DIR = new URL('../../fixtures/keda/', import.meta.url);
export const KARPENTER_CRD_DIR = new URL('../../fixtures/karpenter/', import.meta.url);

export function chartPath(): string {
  return CHART_DIR.pathname;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** The chart's values.yaml, parsed (a fresh copy each call). */
export function chartValues(): Json {
  return parse(readFileSync(new URL('values.yaml', CHART_DIR), 'utf8')) as Json;
}

export function valuesSchema(): Json {
  return JSON.parse(readFileSync(new URL('values.schema.json', CHART_DIR), 'utf8')) as Json;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Kubernetes' numeric formats are ranges the apiserver checks; JSON schema has no such format.
  for (const f of ['int32', 'int64', 'byte']) ajv.addFormat(f, true);
  return ajv;
}

/** Validates a values object the way `helm install` does with values.schema.json. */
export function valuesValidator(): ValidateFunction {
  return newAjv().compile(valuesSchema());
}

/** Every CRD (YAML) in a directory, by `<kind>` and `<group>/<version>`. */
export function crdsIn(dir: URL): Json[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(new URL(f, dir), 'utf8')) as Json);
}

/**
 * A CRD's openAPIV3Schema as JSON schema: objects with `properties` and no
 * x-kubernetes-preserve-unknown-fields refuse other keys, so a misspelt field fails here.
 */
export function strictCrdSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCrdSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'properties' ? mapValues(v as Json, strictCrdSchema) : strictCrdSchema(v);
  }
  const n = node as Json;
  if (n.properties && !n['x-kubernetes-preserve-unknown-fields'] && n.additionalProperties === undefined)
    out.additionalProperties = false;
  // metadata is the apiserver's ObjectMeta; the CRD schema only says `type: object`.
  return out;
}

function mapValues(o: Json, fn: (v: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)]));
}

/** Validators for every kind the given CRD directories define, keyed by `apiVersion/kind`. */
export function crValidators(...dirs: URL[]): Map<string, ValidateFunction> {
  const ajv = newAjv();
  const out = new Map<string, ValidateFunction>();
  for (const crd of dirs.flatMap(crdsIn)) {
    const spec = crd.spec as Json;
    for (const v of spec.versions as Json[]) {
      out.set(
        `${spec.group}/${v.name}/${(spec.names as Json).kind}`,
        ajv.compile(strictCrdSchema(v.schema.openAPIV3Schema) as Json),
      );
    }
  }
  return out;
}

/** One line per error, `path: message`, for assertion messages. */
export function errorsOf(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? ''}`);
}
