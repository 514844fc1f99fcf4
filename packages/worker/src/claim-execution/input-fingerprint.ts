// Input fingerprints (spec.output.inputFingerprint): a stable hash of the input attributes a
// value was computed from, written beside the value as `<attribute>_fp`. Discovery compares it
// with the hash of the row's current inputs, so a row whose inputs were edited is computed again
// without a version bump (docs/adr/0054-input-fingerprints.md). Computed by the orchestrator from
// the scan it already makes and by the batch that writes the value — never by the workflow.
import { createHash } from 'node:crypto';
import type { FunctionOutputSpec, RowId } from '../contracts/function.js';
import { versionAttribute } from './function-filters.js';

/** `<attribute>_fp`: the fingerprint of the inputs the current value was computed from. */
export function fingerprintAttribute(output: Pick<FunctionOutputSpec, 'attribute'>): string {
  return `${output.attribute}_fp`;
}

/**
 * JSON with object keys sorted, so equal values hash equally whatever order the store returned
 * their keys in. Arrays keep their order (it is part of the value).
 */
function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint of a row's inputs: SHA-256 over the canonical JSON of `[name, value]` pairs in
 * the Function's `inputs` order (the row id is left out: it never changes), base64url, 22
 * characters (132 bits — collisions are not a practical concern). A missing attribute hashes as
 * null, as the worker receives it.
 */
export function inputFingerprint(inputNames: readonly string[], row: Record<string, unknown>): string {
  const pairs = inputNames.filter((n) => n !== 'id').map((n) => [n, row[n] ?? null]);
  return createHash('sha256').update(canonicalJson(pairs)).digest('base64url').slice(0, 22);
}

/**
 * Whether a scanned row needs the Function to run: it lacks this output version, or (with
 * inputFingerprint) its inputs no longer hash to the fingerprint its value was written with.
 * A row at the version without a fingerprint (written before inputFingerprint was turned on)
 * needs work: nothing says its value matches its inputs.
 */
export function rowNeedsWork(
  output: FunctionOutputSpec,
  inputNames: readonly string[],
  row: Record<string, unknown>,
): boolean {
  if ((row[versionAttribute(output)] ?? null) !== output.version) return true;
  if (!output.inputFingerprint) return false;
  return row[fingerprintAttribute(output)] !== inputFingerprint(inputNames, row);
}

/** Attributes a scan must return for rowNeedsWork to decide. */
export function attributesToDecide(output: FunctionOutputSpec, inputNames: readonly string[]): string[] {
  return [
    ...new Set([
      ...inputNames.filter((n) => n !== 'id'),
      versionAttribute(output),
      ...(output.inputFingerprint ? [fingerprintAttribute(output)] : []),
    ]),
  ];
}

export type { RowId };
