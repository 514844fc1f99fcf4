// The worker environment contract: what the operator's planner writes into a worker Deployment is
// exactly what the SDK's loader reads back (packages/worker/src/env.ts), and the Temporal SDKs'
// standard variables work for a worker run by hand.
import { describe, expect, it } from 'vitest';
import type { V1EnvVar } from '@kubernetes/client-node';
import { planWorkloadObjects, type PlannedDeployment } from '../../../src/operator/workload-objects.js';
import { operatorSettings, type OperatorSettingsInput } from '../../../src/operator/settings.js';
import {
  loadWorkerEnv,
  workerEnvSchema,
  WorkerEnvError,
  type WorkerSettings,
} from '../../../packages/worker/src/env.js';
import { fn, helmRules, pipeline } from '../operator/builders.js';
import type { Workload } from '../../../src/api/index.js';

/** The container env of the planned worker Deployment. */
function plannedEnv(workload: Workload, input: OperatorSettingsInput): V1EnvVar[] {
  const plan = planWorkloadObjects({ workload, infraRules: helmRules() }, operatorSettings(input));
  const d = plan.apply.find((o) => o.kind === 'Deployment') as PlannedDeployment | undefined;
  if (!d) throw new Error('no Deployment planned');
  return d.spec?.template.spec?.containers[0]?.env ?? [];
}

/** What the kubelet would give the container: values as written, Secret refs resolved by `secrets`. */
function resolve(env: V1EnvVar[], secrets: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    env.map((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return [e.name, ref ? secrets[`${ref.name}/${ref.key}`]! : e.value!];
    }),
  );
}

const secrets = { 'layer/vector-store-api-key': 'worker-bearer', 'temporal-cloud/api-key': 'tc-key' };

describe('planner → SDK round trip', () => {
  it('a pull Function gets back every planned setting', () => {
    const workload = fn({ metadata: { name: 'tag', namespace: 'team-a' } });
    const input: OperatorSettingsInput = {
      temporal: {
        address: 'tc.example.tmprl.cloud:7233',
        namespace: 'prod.abc12',
        apiKeySecretRef: { name: 'temporal-cloud', key: 'api-key' },
      },
      apiBaseUrl: 'http://layer.layer.svc:8080',
      storeUrl: 'http://gateway.layer.svc:8080',
      payloads: { bucket: 'layer-payloads-prod', prefix: 'p/', thresholdBytes: 65536 },
    };
    const settings = loadWorkerEnv(resolve(plannedEnv(workload, input), secrets));
    expect(settings).toEqual<WorkerSettings>({
      temporal: {
        address: 'tc.example.tmprl.cloud:7233',
        namespace: 'prod.abc12',
        apiKey: 'tc-key',
        tls: {}, // an API key means TLS, as in the Temporal SDKs
      },
      workload: { kind: 'Function', k8sNamespace: 'team-a', name: 'tag', taskQueue: 'layer-fn.team-a.tag' },
      dispatch: 'pull',
      port: 8080,
      concurrency: workload.spec.schedule.maxInFlightBatches,
      batchSize: workload.spec.worker.batchSize,
      timeoutSeconds: workload.spec.worker.timeoutSeconds,
      apiBaseUrl: 'http://layer.layer.svc:8080',
      store: { url: 'http://gateway.layer.svc:8080', apiKey: 'worker-bearer' },
      payloads: { bucket: 'layer-payloads-prod', prefix: 'p/', thresholdBytes: 65536 },
    });
  });

  it('a push Pipeline gets its port, target and source back; no payload codec when none is set', () => {
    const workload = pipeline({
      metadata: { name: 'chunks', namespace: 'team-b' },
      spec: { worker: { dispatch: 'push', port: 9090 } },
    });
    const settings = loadWorkerEnv(resolve(plannedEnv(workload, { inboundAuth: { mode: 'open' } }), secrets));
    expect(settings.dispatch).toBe('push');
    expect(settings.port).toBe(9090);
    expect(settings.workload).toEqual({
      kind: 'Pipeline',
      k8sNamespace: 'team-b',
      name: 'chunks',
      taskQueue: 'layer-pl.team-b.chunks',
    });
    expect(settings.targetNamespace).toBe(workload.spec.target.namespace);
    expect(settings.sourceRef).toEqual(workload.spec.sourceRef);
    expect(settings.payloads).toBeUndefined();
    expect(settings.temporal.tls).toBeUndefined();
    // open inbound auth: no bearer is rendered, so the worker sends none
    expect(settings.store).toEqual({ url: 'http://layer-gateway.layer.svc:8080' });
  });

  it('every planned variable is one the schema knows (no variable the SDK would ignore)', () => {
    const workload = pipeline({ spec: { worker: { dispatch: 'push', port: 9090 } } });
    const env = plannedEnv(workload, {
      temporal: { apiKeySecretRef: { name: 'temporal-cloud', key: 'api-key' }, tls: true },
      payloads: { bucket: 'b-b-b' },
    });
    const known = new Set(Object.keys(workerEnvSchema.shape));
    expect(env.map((e) => e.name).filter((n) => !known.has(n))).toEqual([]);
  });
});

describe('loadWorkerEnv', () => {
  it('defaults: local Temporal, pull, port 8080, nothing else', () => {
    expect(loadWorkerEnv({})).toEqual({
      temporal: { address: 'localhost:7233', namespace: 'default' },
      workload: {},
      dispatch: 'pull',
      port: 8080,
    });
  });

  it.each([
    // the Temporal SDKs' names, for a worker run by hand against Temporal Cloud
    [
      { TEMPORAL_ADDRESS: 'a:1', TEMPORAL_NAMESPACE: 'n', TEMPORAL_API_KEY: 'k' },
      { address: 'a:1', namespace: 'n', apiKey: 'k', tls: {} },
    ],
    // the operator's LAYER_* names win over the standard ones
    [
      { TEMPORAL_ADDRESS: 'a:1', LAYER_TEMPORAL_ADDRESS: 'b:2' },
      { address: 'b:2', namespace: 'default' },
    ],
    // TEMPORAL_TLS=false turns TLS off even with an API key (a local proxy)
    [
      { TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' },
      { address: 'localhost:7233', namespace: 'default', apiKey: 'k' },
    ],
    // mTLS files
    [
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/c',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/k',
        TEMPORAL_TLS_SERVER_NAME: 's',
      },
      {
        address: 'localhost:7233',
        namespace: 'default',
        tls: { clientCertPath: '/c', clientKeyPath: '/k', serverName: 's' },
      },
    ],
  ])('temporal from %o', (env, want) => {
    expect(loadWorkerEnv(env).temporal).toEqual(want);
  });

  it.each([
    ['LAYER_DISPATCH', 'pool'],
    ['LAYER_PORT', '80a'],
    ['LAYER_WORKER_CONCURRENCY', '5000'],
    ['TEMPORAL_TLS', 'yes'],
    ['LAYER_STORE_URL', 'gateway'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadWorkerEnv({ [name]: value })).toThrow(WorkerEnvError);
    expect(() => loadWorkerEnv({ [name]: value })).toThrow(new RegExp(`${name}=${value}`));
  });

  it('refuses a client certificate without its key', () => {
    expect(() => loadWorkerEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c' })).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
  });
});
