// The VectorStore probe: resolve its credential Secret (and in keys mode the worker bearer's),
// make one cheap store call with it, and return conditions only. The key never leaves this file:
// store errors are scrubbed of it before they become condition messages.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import type { VectorStore } from '../../api/vector-store.js';
import { parseKind } from '../../api/parse.js';
import type { ReconcileRef } from '../../contracts/reconcile.js';

import type { StoreProbe } from '../../operator/reconcile-types.js';
import type { OperatorSettings } from '../../operator/settings.js';
import { createStoreClient } from '../../../packages/worker/src/store/client.js';
import { StoreAuthError, toStoreError } from '../../../packages/worker/src/store/errors.js';
import { kubeCall, orNull, readCr, type KubeClients } from './kube-calls.js';

export interface StoreProbeDeps {
  settings: OperatorSettings;
  /** Timeout of the reachability call (default 5 s). */
  timeoutMs?: number | undefined;
}

export function createStoreProbe(clients: KubeClients, deps: StoreProbeDeps) {
  const { custom, core } = clients;
  const readSecret = (name: string, k8sNamespace: string) =>
    kubeCall(() => orNull(() => core.readNamespacedSecret({ name, namespace: k8sNamespace })));

  /**
   * keys mode: workers and KEDA send the bearer in `inboundAuth.workerSecretName` (blank: the
   * release Secret) key `workerSecretKey`; without it every worker pod fails to start or is refused,
   * so the VectorStore is not Ready. Other modes: undefined (no such key). Never reads the value out.
   */
  async function probeWorkerKey(store: VectorStore): Promise<StoreProbe['workerKey']> {
    const auth = store.spec.inboundAuth;
    if (auth.mode !== 'keys') return undefined;
    const ns = store.metadata.namespace ?? 'default';
    const name = auth.workerSecretName || deps.settings.releaseSecretName;
    const key = auth.workerSecretKey;
    const type = ConditionType.WorkerKeyResolved;
    const secret = await readSecret(name, ns);
    if (secret === null)
      return {
        type,
        status: 'False',
        reason: ConditionReason.SecretNotFound,
        message: `keys mode: the worker bearer Secret ${ns}/${name} does not exist; create it with key ${key} (or set inboundAuth.workerSecretName)`,
      };
    if (secret.data?.[key] === undefined)
      return {
        type,
        status: 'False',
        reason: ConditionReason.SecretKeyMissing,
        message: `keys mode: Secret ${ns}/${name} has no key ${key}, the bearer workers and KEDA send; add it (or set inboundAuth.workerSecretKey)`,
      };
    return {
      type,
      status: 'True',
      reason: ConditionReason.SecretFound,
      message: `Secret ${ns}/${name} key ${key}`,
    };
  }

  /**
   * Resolve a VectorStore's credential Secret and make one cheap store call with it. Returns
   * conditions only: the key never leaves this function.
   */
  async function probeVectorStore(ref: ReconcileRef): Promise<StoreProbe> {
    const raw = await kubeCall(() => readCr(custom, 'VectorStore', ref.namespace, ref.name));
    const parsed = raw ? parseKind('VectorStore', { ...raw, status: undefined }) : undefined;
    if (!parsed?.ok) {
      const skipped = (type: string) => ({
        type,
        status: 'Unknown' as const,
        reason: ConditionReason.NotChecked,
        message: 'spec is not valid',
      });
      return {
        credential: skipped(ConditionType.CredentialResolved),
        endpoint: skipped(ConditionType.EndpointReachable),
      };
    }
    const store = parsed.resource as VectorStore;
    const ns = store.metadata.namespace ?? 'default';
    const secretRef = store.spec.credential.secretRef;
    const notChecked = {
      type: ConditionType.EndpointReachable,
      status: 'Unknown' as const,
      reason: ConditionReason.NotChecked,
      message: 'the credential is not resolved',
    };
    const credentialProblem = (reason: string, message: string): StoreProbe => ({
      credential: { type: ConditionType.CredentialResolved, status: 'False', reason, message },
      endpoint: notChecked,
    });
    const secret = await readSecret(secretRef.name, ns);
    if (secret === null)
      return credentialProblem(
        ConditionReason.SecretNotFound,
        `Secret ${ns}/${secretRef.name} does not exist; create it with key ${secretRef.key}`,
      );
    const encoded = secret.data?.[secretRef.key];
    if (encoded === undefined)
      return credentialProblem(
        ConditionReason.SecretKeyMissing,
        `Secret ${ns}/${secretRef.name} has no key ${secretRef.key}`,
      );
    const apiKey = Buffer.from(encoded, 'base64').toString('utf8');
    const workerKey = await probeWorkerKey(store);
    const credential = {
      type: ConditionType.CredentialResolved,
      status: 'True' as const,
      reason: ConditionReason.SecretFound,
      message: `Secret ${ns}/${secretRef.name} key ${secretRef.key}`,
    };
    const client = createStoreClient({
      baseUrl: store.spec.endpoint.url,
      apiKey,
      maxRetries: 0,
      timeoutMs: deps.timeoutMs ?? 5000,
    });
    const answered = (endpoint: StoreProbe['endpoint']): StoreProbe => ({
      credential,
      ...(workerKey ? { workerKey } : {}),
      endpoint,
    });
    try {
      await client.raw.namespaces({ page_size: 1 });
      return answered({
        type: ConditionType.EndpointReachable,
        status: 'True',
        reason: ConditionReason.Reachable,
        message: `${store.spec.endpoint.url} answered`,
      });
    } catch (err) {
      const e = toStoreError(err);
      return answered({
        type: ConditionType.EndpointReachable,
        status: 'False',
        reason:
          e instanceof StoreAuthError ? ConditionReason.CredentialRejected : ConditionReason.Unreachable,
        message: scrub(`${store.spec.endpoint.url}: ${e.message}`, apiKey),
      });
    }
  }

  return probeVectorStore;
}

function scrub(text: string, secret: string): string {
  return secret.length > 0 ? text.split(secret).join('***') : text;
}
