// Inbound auth of the orchestrator HTTP API, per the VectorStore's inboundAuth.mode (install.md):
// open; deriveFromStore (the bearer must equal the upstream store key); keys (gateway-only bearer
// keys with read / write / admin scopes). Comparisons are constant-time over SHA-256 digests, so
// neither the key's content nor its length leaks through timing. Failures say nothing about why.
import { createHash, timingSafeEqual } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/group.js';
import { parseKind } from '../api/parse.js';
import type { VectorStore } from '../api/vector-store.js';
import { DEFAULT_RELEASE_SECRET_NAME } from '../operator/settings.js';

export type Scope = 'read' | 'write' | 'admin';

/** Inbound auth with every key resolved (lives in the API process only, never in a workflow). */
export type ResolvedInboundAuth =
  | { mode: 'open' }
  /**
   * In a cluster with no VectorStore configured: reads (status, queue depth) are open, control
   * calls (discover, replay) are refused, until a VectorStore or LAYER_API_OPEN=true says otherwise.
   */
  | { mode: 'readOnly' }
  | { mode: 'deriveFromStore'; storeKey: string }
  | { mode: 'keys'; keys: { name: string; scopes: Scope[]; key: string }[] };

export type AuthDecision = { ok: true; principal: string } | { ok: false; status: 401 | 403 };

/** Scopes that satisfy a need: admin ⊇ write ⊇ read. */
const SATISFIES: Record<Scope, Scope[]> = {
  read: ['read', 'write', 'admin'],
  write: ['write', 'admin'],
  admin: ['admin'],
};

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time string equality. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Decide one request. Missing or unknown credentials → 401; a valid key without the scope → 403.
 *
 * @example authorize({ mode: 'keys', keys }, req.headers.authorization, 'write')
 */
export function authorize(auth: ResolvedInboundAuth, header: string | undefined, need: Scope): AuthDecision {
  if (auth.mode === 'open') return { ok: true, principal: 'anonymous' };
  if (auth.mode === 'readOnly')
    return need === 'read' ? { ok: true, principal: 'anonymous' } : { ok: false, status: 403 };
  const token = bearerOf(header);
  if (token === undefined) return { ok: false, status: 401 };
  if (auth.mode === 'deriveFromStore') {
    return safeEqual(token, auth.storeKey)
      ? { ok: true, principal: 'store-credential' }
      : { ok: false, status: 401 };
  }
  // Compare against every key (no early exit), then decide.
  let match: (typeof auth.keys)[number] | undefined;
  for (const k of auth.keys) if (safeEqual(token, k.key) && match === undefined) match = k;
  if (match === undefined) return { ok: false, status: 401 };
  return match.scopes.some((s) => SATISFIES[need].includes(s))
    ? { ok: true, principal: match.name }
    : { ok: false, status: 403 };
}

/**
 * Resolves a VectorStore's inbound auth from Kubernetes (its Secrets read here, cached for
 * `cacheMs`). Anything unresolvable fails closed: no key matches.
 */
export function createKubeInboundAuthResolver(opts: {
  kubeConfig: KubeConfig;
  vectorStore: { namespace: string; name: string };
  releaseSecretName?: string;
  cacheMs?: number;
  now?: () => number;
}): () => Promise<ResolvedInboundAuth> {
  const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const now = opts.now ?? Date.now;
  const { namespace, name } = opts.vectorStore;
  let cached: { at: number; value: ResolvedInboundAuth } | undefined;
  const closed: ResolvedInboundAuth = { mode: 'keys', keys: [] };

  async function secretValue(secretName: string, key: string): Promise<string | undefined> {
    try {
      const s = await core.readNamespacedSecret({ name: secretName, namespace });
      const v = s.data?.[key];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
    } catch {
      return undefined;
    }
  }

  async function resolve(): Promise<ResolvedInboundAuth> {
    let raw: unknown;
    try {
      raw = await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'vectorstores',
        name,
      });
    } catch {
      return closed;
    }
    const { status: _s, ...rest } = raw as Record<string, unknown>;
    const parsed = parseKind('VectorStore', rest);
    if (!parsed.ok) return closed;
    const store = parsed.resource as VectorStore;
    const auth = store.spec.inboundAuth;
    if (auth.mode === 'open') return { mode: 'open' };
    if (auth.mode === 'deriveFromStore') {
      const ref = store.spec.credential.secretRef;
      const storeKey = await secretValue(ref.name, ref.key);
      return storeKey ? { mode: 'deriveFromStore', storeKey } : closed;
    }
    const keys: { name: string; scopes: Scope[]; key: string }[] = [];
    for (const k of auth.keys ?? []) {
      const key = k.secretRef
        ? await secretValue(
            k.secretRef.name || opts.releaseSecretName || DEFAULT_RELEASE_SECRET_NAME,
            k.secretRef.key,
          )
        : k.apiKey;
      if (key) keys.push({ name: k.name, scopes: k.scopes, key });
    }
    return { mode: 'keys', keys };
  }

  return async () => {
    if (cached && now() - cached.at < (opts.cacheMs ?? 10_000)) return cached.value;
    const value = await resolve();
    cached = { at: now(), value };
    return value;
  };
}
