// loadConfig: defaults, the dev env as the default for local commands, and every bad value
// failing with the variable's name and a fix.
import { processStartMarker } from '../../src/dev/process.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { operatorSettings } from '../../src/operator/settings.js';
import {
  apiAuthMode,
  loadConfig,
  operatorSettingsInput,
  DEFAULT_PAYLOAD_THRESHOLD_BYTES,
  DEFAULT_STORE_URL,
  DEFAULT_TEMPORAL_ADDRESS,
} from '../../src/config.js';
import { loadCliConfig } from '../../src/cli/config.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../../packages/worker/src/contracts/function.js';
import { DEFAULT_RECONCILE_CONCURRENCY } from '../../src/contracts/reconcile.js';
import type { DevState } from '../../src/dev/environment.js';
import { InvalidInputError } from '../../packages/worker/src/util/errors.js';

const devState: DevState = {
  temporal: {
    address: '127.0.0.1:17233',
    namespace: 'dev',
    uiUrl: 'http://127.0.0.1:18233',
    pid: 1,
    logFile: '/tmp/t.log',
  },
  store: { url: 'http://127.0.0.1:18787', pid: 1, dataDir: '/tmp/store', logFile: '/tmp/s.log' },
  kube: {
    serverUrl: 'https://127.0.0.1:6443',
    kubeconfigPath: '/tmp/dev-kubeconfig',
    pids: { etcd: 1, apiserver: 1 },
  },
};

/** No dev env unless a test gives one. */
const load = (env: Record<string, string>, dev: DevState | null = null) => loadConfig(env, { devState: dev });

describe('loadConfig defaults', () => {
  it('uses the documented defaults with an empty environment and no dev env', () => {
    expect(load({})).toEqual({
      temporal: {
        address: DEFAULT_TEMPORAL_ADDRESS,
        namespace: 'default',
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        workflowWatchdog: false,
      },
      store: { url: DEFAULT_STORE_URL },
      api: { port: 8080, host: '127.0.0.1', open: false },
      payloads: { prefix: 'layer-payloads/', thresholdBytes: DEFAULT_PAYLOAD_THRESHOLD_BYTES },
      push: { maxAnswerBytes: 64 * 1024 * 1024 },
      // Worker pods reach Temporal where this process does unless told otherwise.
      // Outside a pod one process watches; in a pod replicas elect a leader (below).
      operator: {
        workerTemporalAddress: DEFAULT_TEMPORAL_ADDRESS,
        leaderElection: { enabled: false, namespace: 'default', name: 'layer-operator' },
        indexDiscovery: { enabled: false, namespace: 'default', intervalSeconds: 60, gc: false },
        reconcileConcurrency: DEFAULT_RECONCILE_CONCURRENCY,
        keda: {},
      },
      kube: { inCluster: false, serviceHostWithoutToken: false },
    });
  });

  it("reads the Temporal SDKs' standard API key and TLS variables (TLS on with a key, off when told)", () => {
    expect(load({ TEMPORAL_API_KEY: 'k' }).temporal).toMatchObject({ apiKey: 'k', tls: {} });
    expect(load({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).temporal.tls).toBeUndefined();
    expect(load({}).temporal.tls).toBeUndefined();
    expect(
      load({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/layer/temporal-tls/tls.crt',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/etc/layer/temporal-tls/tls.key',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/etc/layer/temporal-tls/ca.crt',
        TEMPORAL_TLS_SERVER_NAME: 'frontend',
      }).temporal.tls,
    ).toEqual({
      clientCertPath: '/etc/layer/temporal-tls/tls.crt',
      clientKeyPath: '/etc/layer/temporal-tls/tls.key',
      serverCaCertPath: '/etc/layer/temporal-tls/ca.crt',
      serverName: 'frontend',
    });
    expect(() => load({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS.*expected true or false/s);
    expect(() => load({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c' })).toThrow(/TEMPORAL_TLS_CLIENT_CERT_PATH/);
  });

  it("gives the operator's settings what only `layer render` could set before: worker Temporal, KEDA, payloads", () => {
    const config = load({
      TEMPORAL_NAMESPACE: 'orchestrator-ns',
      LAYER_WORKER_TEMPORAL_NAMESPACE: 'workers-ns',
      LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME: 'temporal-cloud',
      LAYER_WORKER_TEMPORAL_TLS: 'true',
      LAYER_KEDA_POLLING_INTERVAL_SECONDS: '5',
      LAYER_KEDA_COOLDOWN_PERIOD_SECONDS: '60',
      LAYER_KEDA_TARGET_QUEUE_DEPTH_PER_REPLICA: '3',
      LAYER_PAYLOAD_BUCKET: 'layer-payloads',
    });
    expect(operatorSettings(operatorSettingsInput(config))).toMatchObject({
      temporal: {
        namespace: 'workers-ns',
        apiKeySecretRef: { name: 'temporal-cloud', key: 'api-key' },
        tls: true,
      },
      keda: { pollingIntervalSeconds: 5, cooldownPeriodSeconds: 60, targetQueueDepthPerReplica: 3 },
      payloads: {
        bucket: 'layer-payloads',
        prefix: 'layer-payloads/',
        thresholdBytes: DEFAULT_PAYLOAD_THRESHOLD_BYTES,
      },
    });
    expect(() => load({ LAYER_KEDA_COOLDOWN_PERIOD_SECONDS: 'soon' })).toThrow(
      /LAYER_KEDA_COOLDOWN_PERIOD_SECONDS/,
    );
    expect(() => load({ LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME: 'Bad_Name' })).toThrow(
      /LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME/,
    );
  });

  it('configures index discovery from LAYER_INDEX_* (namespace follows the Lease namespace)', () => {
    expect(load({}).operator.indexDiscovery).toEqual({
      enabled: false,
      namespace: 'default',
      intervalSeconds: 60,
      gc: false,
    });
    expect(
      load({
        LAYER_INDEX_DISCOVERY: 'true',
        LAYER_LEADER_ELECTION_NAMESPACE: 'layer',
        LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS: '30',
        LAYER_INDEX_GC: 'true',
      }).operator.indexDiscovery,
    ).toEqual({ enabled: true, namespace: 'layer', intervalSeconds: 30, gc: true });
    expect(() => load({ LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS: '1' })).toThrow(
      /LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS.*at least 5/s,
    );
  });

  it('bounds the reconcile passes a replica runs at once (LAYER_RECONCILE_CONCURRENCY)', () => {
    expect(load({}).operator.reconcileConcurrency).toBe(DEFAULT_RECONCILE_CONCURRENCY);
    expect(load({ LAYER_RECONCILE_CONCURRENCY: '4' }).operator.reconcileConcurrency).toBe(4);
    expect(() => load({ LAYER_RECONCILE_CONCURRENCY: '0' })).toThrow(
      /LAYER_RECONCILE_CONCURRENCY.*at least 1/s,
    );
    expect(() => load({ LAYER_RECONCILE_CONCURRENCY: 'many' })).toThrow(/LAYER_RECONCILE_CONCURRENCY/);
  });

  it('configures leader election from LAYER_LEADER_ELECT* and names the variable of a bad value', () => {
    expect(
      load({
        LAYER_LEADER_ELECT: 'true',
        LAYER_LEADER_ELECTION_NAMESPACE: 'layer',
        LAYER_LEADER_ELECTION_ID: 'layer-operator-prod',
      }).operator.leaderElection,
    ).toEqual({ enabled: true, namespace: 'layer', name: 'layer-operator-prod' });
    expect(() => load({ LAYER_LEADER_ELECT: 'yes' })).toThrow(/LAYER_LEADER_ELECT.*expected true or false/s);
    expect(() => load({ LAYER_LEADER_ELECTION_NAMESPACE: 'Bad_NS' })).toThrow(
      /LAYER_LEADER_ELECTION_NAMESPACE/,
    );
  });

  it('takes Temporal, its UI, the store and the kubeconfig from a running `layer dev up`', () => {
    const c = load({}, devState);
    expect(c.temporal).toMatchObject({
      address: '127.0.0.1:17233',
      namespace: 'dev',
      uiUrl: 'http://127.0.0.1:18233',
    });
    expect(c.store.url).toBe('http://127.0.0.1:18787');
    expect(c.kube.kubeconfig).toBe('/tmp/dev-kubeconfig');
  });

  it('lets explicit variables win over the dev env, without mixing in its namespace or UI', () => {
    const c = load(
      {
        TEMPORAL_ADDRESS: 'temporal.example:7233',
        LAYER_STORE_URL: 'https://store.example',
        KUBECONFIG: '/k',
      },
      devState,
    );
    expect(c.temporal).toEqual({
      address: 'temporal.example:7233',
      namespace: 'default',
      taskQueue: ORCHESTRATOR_TASK_QUEUE,
      workflowWatchdog: false,
    });
    expect(c.store.url).toBe('https://store.example');
    expect(c.kube.kubeconfig).toBe('/k');
  });

  it('reads the dev env from $LAYER_STATE_DIR for a command a person runs (loadCliConfig); loadConfig reads no dev state', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-config-'));
    writeFileSync(
      join(dir, 'state.json'),
      // The pid with its start marker, as `dev up` records it (a pid alone is not trusted).
      JSON.stringify({
        ...devState,
        temporal: { ...devState.temporal, pid: process.pid },
        startMarkers: { [String(process.pid)]: processStartMarker(process.pid) },
      }),
    );
    expect(loadCliConfig({ LAYER_STATE_DIR: dir }).temporal.address).toBe('127.0.0.1:17233');
    expect(loadConfig({ LAYER_STATE_DIR: dir }).temporal.address).toBe(DEFAULT_TEMPORAL_ADDRESS);
    expect(loadCliConfig({ LAYER_STATE_DIR: join(dir, 'missing') }).temporal.address).toBe(
      DEFAULT_TEMPORAL_ADDRESS,
    );
  });
});

describe('loadConfig values', () => {
  it.each([
    // Every variable in its ordinary form.
    [{ TEMPORAL_ADDRESS: 'temporal:7233' }, 'temporal.address', 'temporal:7233'],
    // IPv6 literals need brackets to separate the port.
    [{ TEMPORAL_ADDRESS: '[::1]:7233' }, 'temporal.address', '[::1]:7233'],
    [{ TEMPORAL_NAMESPACE: 'prod' }, 'temporal.namespace', 'prod'],
    // Tests and parallel environments use their own orchestrator queue.
    [{ LAYER_ORCHESTRATOR_TASK_QUEUE: 'q-1' }, 'temporal.taskQueue', 'q-1'],
    [{ LAYER_WORKFLOW_WATCHDOG: 'true' }, 'temporal.workflowWatchdog', true],
    [{ LAYER_STORE_URL: 'http://gw:8080' }, 'store.url', 'http://gw:8080'],
    [{ LAYER_STORE_API_KEY: 'k' }, 'store.apiKey', 'k'],
    // Env strings become numbers for the port.
    [{ LAYER_API_PORT: '9090' }, 'api.port', 9090],
    // 0 asks the OS for a free port (tests).
    [{ LAYER_API_PORT: '0' }, 'api.port', 0],
    [{ LAYER_API_HOST: '0.0.0.0' }, 'api.host', '0.0.0.0'],
    // KUBERNETES_SERVICE_HOST without a mounted token (as here) is not a pod: the API, open
    // outside a cluster, must not listen on every interface (issue 28, item 13).
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, 'api.host', '127.0.0.1'],
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, 'kube.serviceHostWithoutToken', true],
    [{}, 'kube.serviceHostWithoutToken', false],
    [{ LAYER_VECTOR_STORE: 'layer/default' }, 'api.vectorStore', { namespace: 'layer', name: 'default' }],
    // Kubernetes renders an unset optional env value as "": that means unset, not invalid.
    [{ TEMPORAL_ADDRESS: '', LAYER_API_PORT: '  ' }, 'api.port', 8080],
    [{ KUBECONFIG: '/home/me/.kube/config' }, 'kube.kubeconfig', '/home/me/.kube/config'],
    // KUBERNETES_SERVICE_HOST alone (no mounted token, as here) is not in-cluster.
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, 'kube.inCluster', false],
    // No bucket: no payload codec, everything stays in history (the embedded default).
    [{}, 'payloads.bucket', undefined],
    [{ LAYER_PAYLOAD_BUCKET: 'layer-payloads' }, 'payloads.bucket', 'layer-payloads'],
    [{ LAYER_PAYLOAD_PREFIX: 'prod/' }, 'payloads.prefix', 'prod/'],
    [{ LAYER_PAYLOAD_THRESHOLD_BYTES: '4096' }, 'payloads.thresholdBytes', 4096],
    // A push worker's answer may be raised above the 64 MiB default.
    [{ LAYER_PUSH_MAX_ANSWER_BYTES: '268435456' }, 'push.maxAnswerBytes', 268435456],
    // Unset: Temporal's heap-based default; set: the workflows a Worker keeps in memory.
    [{}, 'temporal.maxCachedWorkflows', undefined],
    [{ LAYER_MAX_CACHED_WORKFLOWS: '300' }, 'temporal.maxCachedWorkflows', 300],
  ])('%j sets %s', (env, path, expected) => {
    const c = load(env) as unknown as Record<string, Record<string, unknown>>;
    const [section, key] = path.split('.') as [string, string];
    expect(c[section]![key]).toEqual(expected);
  });

  it.each([
    // No port: the SDK would fail later with a confusing gRPC error.
    [{ TEMPORAL_ADDRESS: 'localhost' }, 'TEMPORAL_ADDRESS', 'host:port'],
    // A URL is not an address.
    [{ TEMPORAL_ADDRESS: 'http://localhost:7233' }, 'TEMPORAL_ADDRESS', 'host:port'],
    [{ TEMPORAL_ADDRESS: 'localhost:99999' }, 'TEMPORAL_ADDRESS', '65535'],
    [{ LAYER_STORE_URL: 'localhost:8787' }, 'LAYER_STORE_URL', 'http'],
    [{ LAYER_STORE_URL: 'ftp://store' }, 'LAYER_STORE_URL', 'http'],
    [{ LAYER_TEMPORAL_UI_URL: 'not a url' }, 'LAYER_TEMPORAL_UI_URL', 'http'],
    [{ LAYER_API_PORT: 'eighty' }, 'LAYER_API_PORT', 'number'],
    [{ LAYER_API_PORT: '80.5' }, 'LAYER_API_PORT', 'integer'],
    [{ LAYER_API_PORT: '70000' }, 'LAYER_API_PORT', '65535'],
    [{ LAYER_API_PORT: '-1' }, 'LAYER_API_PORT', '0'],
    // namespace/name, both Kubernetes names.
    [{ LAYER_VECTOR_STORE: 'default' }, 'LAYER_VECTOR_STORE', 'namespace/name'],
    [{ LAYER_VECTOR_STORE: 'a/b/c' }, 'LAYER_VECTOR_STORE', 'namespace/name'],
    [{ LAYER_VECTOR_STORE: 'Layer/Default' }, 'LAYER_VECTOR_STORE', 'namespace/name'],
    // S3 bucket names are lowercase.
    [{ LAYER_PAYLOAD_BUCKET: 'My_Bucket' }, 'LAYER_PAYLOAD_BUCKET', 'bucket'],
    [{ LAYER_PAYLOAD_THRESHOLD_BYTES: 'big' }, 'LAYER_PAYLOAD_THRESHOLD_BYTES', 'number'],
    // Below 1 MiB no batch of real outputs fits.
    [{ LAYER_PUSH_MAX_ANSWER_BYTES: '100' }, 'LAYER_PUSH_MAX_ANSWER_BYTES', '1 MiB'],
    [{ LAYER_MAX_CACHED_WORKFLOWS: '1' }, 'LAYER_MAX_CACHED_WORKFLOWS', 'at least 2'],
  ])('%j fails naming %s', (env, variable, fragment) => {
    let err: unknown;
    try {
      load(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    const e = err as InvalidInputError;
    expect(e.path).toBe(variable);
    expect(e.message).toContain(fragment);
    expect(e.hint).toContain(variable);
  });
});

describe('operator settings from the configuration', () => {
  it('gives worker pods this Temporal namespace and the addresses configured for them', () => {
    const c = load({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      LAYER_WORKER_TEMPORAL_ADDRESS: 'temporal-frontend.temporal.svc:7233',
      LAYER_OPERATOR_API_URL: 'http://layer-orchestrator.prod.svc:8080',
      LAYER_WORKER_STORE_URL: 'http://layer-gateway.prod.svc:8080',
      LAYER_RELEASE_SECRET_NAME: 'layer-prod',
    });
    expect(operatorSettings(operatorSettingsInput(c))).toMatchObject({
      temporal: { address: 'temporal-frontend.temporal.svc:7233', namespace: 'prod' },
      apiBaseUrl: 'http://layer-orchestrator.prod.svc:8080',
      storeUrl: 'http://layer-gateway.prod.svc:8080',
      releaseSecretName: 'layer-prod',
    });
  });

  it("defaults the workers' Temporal address to TEMPORAL_ADDRESS, the rest to the settings defaults", () => {
    const s = operatorSettings(operatorSettingsInput(load({ TEMPORAL_ADDRESS: 'temporal.internal:7233' })));
    expect(s.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'default' });
    expect(s.storeUrl).toBe(operatorSettings().storeUrl);
  });

  it.each([
    ['LAYER_WORKER_TEMPORAL_ADDRESS', 'no-port', /host:port/],
    ['LAYER_OPERATOR_API_URL', 'ftp://x', /http\(s\) URL/],
    ['LAYER_WORKER_STORE_URL', 'not a url', /URL/],
    ['LAYER_RELEASE_SECRET_NAME', 'Bad_Name', /Secret name/],
    ['LAYER_WATCH_NAMESPACES', 'layer,Team_A', /namespace names/],
    ['LAYER_WATCH_NAMESPACES', ' , ', /expected array to have >=1|too small|>=1/i],
  ])('%s=%s is refused naming the variable and the fix', (name, value, says) => {
    const err = (() => {
      try {
        load({ [name]: value });
      } catch (e) {
        return e as InvalidInputError;
      }
      throw new Error('expected an error');
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.path).toBe(name);
    expect(err.message).toMatch(says);
    expect(err.hint).toContain(`set ${name}`);
  });
});

describe('LAYER_WATCH_NAMESPACES', () => {
  it('lists the namespaces the operator reconciles', () => {
    expect(load({ LAYER_WATCH_NAMESPACES: 'layer, team-a' }).operator.watchNamespaces).toEqual([
      'layer',
      'team-a',
    ]);
    expect(load({}).operator.watchNamespaces).toBeUndefined();
  });
});

describe('apiAuthMode: who may call the HTTP API', () => {
  const inCluster = (env: Record<string, string>) => ({
    ...load(env),
    kube: { inCluster: true, serviceHostWithoutToken: false },
  });
  it.each([
    // A VectorStore's inboundAuth decides, wherever the process runs.
    {
      row: 'VectorStore configured',
      config: () => inCluster({ LAYER_VECTOR_STORE: 'layer/default' }),
      want: 'vectorStore',
    },
    // In a pod with nothing configured: reads only, control calls refused.
    { row: 'in a cluster, nothing configured', config: () => inCluster({}), want: 'readOnly' },
    // Asked for explicitly (logged loudly by the operator).
    {
      row: 'in a cluster, LAYER_API_OPEN=true',
      config: () => inCluster({ LAYER_API_OPEN: 'true' }),
      want: 'open',
    },
    // A developer's machine (API bound to 127.0.0.1 by default).
    { row: 'outside a cluster', config: () => load({}), want: 'open' },
  ])('$row → $want', ({ config, want }) => {
    expect(apiAuthMode(config())).toBe(want);
  });
  it('LAYER_API_OPEN accepts only true or false', () => {
    expect(() => load({ LAYER_API_OPEN: 'yes' })).toThrow(/LAYER_API_OPEN/);
    expect(load({ LAYER_API_OPEN: 'false' }).api.open).toBe(false);
  });
});
