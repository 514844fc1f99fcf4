// Names of the objects the operator creates, from pure helpers that respect Kubernetes limits.
// A CR name is a DNS subdomain (up to 253 chars, may contain dots); the objects we derive from it
// must be DNS-1035 labels (Service names: 63 chars, a letter first, no dots) and label values
// (63 chars). Names that would break a limit are truncated and suffixed with a hash of the full
// input, so two long names that share a prefix still get different objects.
import { createHash } from 'node:crypto';
import type { WorkloadKind } from '../../packages/worker/src/contracts/names.js';

/** Longest DNS label / label value / Service name. */
const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 16;

/**
 * The first 64 bits of SHA-256 of a string, as 16 hex chars. It was 32-bit FNV-1a until a
 * colliding pair of Function names was found in under a second, giving two Functions one
 * Deployment name (ADR 0078); 64 bits of a cryptographic hash put a crafted collision at
 * ~2^32 SHA-256 evaluations per target. Operator-side only (never in the workflow sandbox).
 */
export function shortHash(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

/**
 * `s` if it fits in `max` chars, else a prefix plus `-<hash of s>`, never ending in `-` or `.`
 * before the hash. `hashOf` lets callers hash the original input when `s` was already rewritten.
 */
export function truncateWithHash(s: string, max = MAX_NAME_LENGTH, hashOf = s): string {
  if (s.length <= max && hashOf === s) return s;
  const keep = max - HASH_LENGTH - 1;
  const prefix = s.slice(0, keep).replace(/[-._]+$/, '');
  return `${prefix}-${shortHash(hashOf)}`;
}

const KIND_PREFIX: Record<WorkloadKind, string> = { Function: 'layer-fn-', Pipeline: 'layer-pl-' };

/**
 * Name of every object planned for one workload (Deployment, Service, ScaledObject,
 * TriggerAuthentication): one name per workload, distinct across kinds, always a valid Service name.
 * Dots (legal in CR names, not in Service names) become dashes, and the name then carries a hash
 * so `a.b` and `a-b` cannot collide.
 *
 * @example workloadObjectName('Function', 'tag-products') // 'layer-fn-tag-products'
 */
export function workloadObjectName(kind: WorkloadKind, name: string): string {
  const candidate = `${KIND_PREFIX[kind]}${name.replaceAll('.', '-')}`;
  return truncateWithHash(candidate, MAX_NAME_LENGTH, name.includes('.') ? `${kind}/${name}` : candidate);
}

/** A label value (63 chars max, alphanumeric at both ends) for an arbitrary CR name. */
export function labelValue(s: string): string {
  return truncateWithHash(s);
}
