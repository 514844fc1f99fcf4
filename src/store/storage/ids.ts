// Document ids: unsigned integers (as JS numbers; the official client types them as
// `string | number`, so values above 2^53 - 1 cannot reach us intact: they are refused rather
// than silently rounded onto another document's id), UUIDs, or strings of
// at most 64 bytes. One total order over both kinds: numbers first (numerically), then strings
// (by UTF-16 code unit, which equals byte order for the ASCII ids used in practice).
import { badRequest } from './errors.js';

export type Id = number | string;

export function compareIds(a: Id, b: Id): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a === 'number' ? -1 : 1;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Canonical hyphenated lower-case form, so a UUID written two ways is one document. */
export function canonicalUuid(s: string): string {
  const hex = s.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Validates one id from a request. `idType` is the namespace's declared id type, if any.
 * Throws a 400 that names the offending value.
 */
export function parseId(value: unknown, idType: string | undefined): Id {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      throw badRequest(
        `invalid document id ${JSON.stringify(value)}: ids are unsigned integers, UUIDs or strings`,
      );
    }
    if (value > Number.MAX_SAFE_INTEGER) {
      throw badRequest(
        `invalid document id ${value}: integer ids above 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) cannot be kept exactly ` +
          'by JSON numbers and would be rounded onto another id; send large ids as strings',
      );
    }
    if (idType === 'string' || idType === 'uuid') {
      throw badRequest(`invalid document id ${value}: this namespace has ${idType} ids`);
    }
    return value;
  }
  if (typeof value === 'string') {
    if (idType === 'uuid') {
      if (!isUuid(value)) throw badRequest(`invalid document id ${JSON.stringify(value)}: expected a UUID`);
      return canonicalUuid(value);
    }
    if (idType === 'uint' || idType === 'int') {
      throw badRequest(`invalid document id ${JSON.stringify(value)}: this namespace has integer ids`);
    }
    if (Buffer.byteLength(value, 'utf8') > 64) {
      throw badRequest(
        `invalid document id ${JSON.stringify(value.slice(0, 80))}: string ids are at most 64 bytes`,
      );
    }
    return value;
  }
  throw badRequest(
    `invalid document id ${JSON.stringify(value)}: ids are unsigned integers, UUIDs or strings`,
  );
}
