// Names a Function hands to the store: target namespaces, input attributes and the output
// attribute with the companions the engine derives from it (docs/adr/0070-output-ownership.md).
// Sandbox-safe (no Node built-ins): the workflow bundle and the operator both import it.

/** The store's namespace names: `[A-Za-z0-9-_.]{1,128}`, never `.` or `..` (src/store/storage/store.ts). */
const STORE_NAMESPACE_RE = /^[A-Za-z0-9_.-]{1,128}$/;

/** The store's attribute names: at most 128 UTF-8 bytes (src/store/storage/schema.ts). */
const STORE_ATTRIBUTE_MAX_BYTES = 128;

/**
 * What the engine writes beside `<attribute>`: its version, its error, its input fingerprint and
 * the canary's side attribute with the canary's own version and error.
 */
export const OUTPUT_COMPANION_SUFFIXES = [
  '_v',
  '_error',
  '_fp',
  '__canary',
  '__canary_v',
  '__canary_error',
] as const;

/** Longest output attribute whose every companion still fits the store's 128 bytes. */
const OUTPUT_ATTRIBUTE_MAX_LENGTH =
  STORE_ATTRIBUTE_MAX_BYTES - Math.max(...OUTPUT_COMPANION_SUFFIXES.map((s) => s.length));

/**
 * Output attributes are names the engine creates (and derives companions from), so they keep to
 * ASCII letters, digits, `_` and `-`, starting with a letter or `_`: no `$` (the store's
 * reserved prefix, e.g. `$dist`), no `/`, no unicode.
 */
const OUTPUT_ATTRIBUTE_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Every attribute a Function with this output attribute writes: the attribute and its companions. */
export function ownedAttributes(attribute: string): string[] {
  return [attribute, ...OUTPUT_COMPANION_SUFFIXES.map((s) => `${attribute}${s}`)];
}

/** Why the store refuses `name` as a namespace, or undefined. */
export function namespaceNameProblem(name: string): string | undefined {
  if (!STORE_NAMESPACE_RE.test(name) || name === '.' || name === '..')
    return 'is not a store namespace name: use 1-128 characters from A-Z, a-z, 0-9, -, _ and . (not . or ..)';
  return undefined;
}

/** Why the store refuses `name` as an attribute (what a Function reads), or undefined. */
export function attributeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.startsWith('$')) return "must not start with '$' (the store reserves it, e.g. $dist)";
  if (new TextEncoder().encode(name).length > STORE_ATTRIBUTE_MAX_BYTES)
    return `is longer than the store's ${STORE_ATTRIBUTE_MAX_BYTES} bytes`;
  return undefined;
}

/** Why `name` cannot be an output attribute, or undefined. */
export function outputAttributeProblem(name: string): string | undefined {
  if (!OUTPUT_ATTRIBUTE_RE.test(name))
    return 'must be ASCII letters, digits, _ and -, starting with a letter or _ (no $, / or unicode)';
  if (name.length > OUTPUT_ATTRIBUTE_MAX_LENGTH)
    return `is longer than ${OUTPUT_ATTRIBUTE_MAX_LENGTH} characters (its companion ${name}__canary_error must fit the store's ${STORE_ATTRIBUTE_MAX_BYTES} bytes)`;
  if (name === 'id') return 'must not be id (the row key)';
  return undefined;
}
