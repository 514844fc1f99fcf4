// Operator settings from the operator's own configuration (issue 11 item 5): `layer operator`, a
// child process configured only through its environment, renders worker Deployments and
// ScaledObjects with settings that only `layer render` flags could change before — the workers'
// Temporal namespace and API key Secret, KEDA's polling interval and cooldown — and the worker SDK
// reads the rendered Deployment's environment back as the same settings.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintServiceAccountCredentials } from '../../../src/dev/kube-apiserver.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { loadWorkerEnv } from '../../../packages/worker/src/env.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { kubeConfig, temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  OPERATOR_ROLE,
  applyCr,
  eventually,
  installOperatorPrerequisites,
  testNamespace,
  startOperatorProcess,
  type OperatorProcess,
} from './harness.js';

const WORKER_NAMESPACE = 'workers-prod';
const API_KEY_SECRET = 'temporal-cloud';

let admin: KubeConfig;
let dir: string;
let operator: OperatorProcess | undefined;
let ns: string;

beforeAll(async () => {
  admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  // InfraRules/default is shared with other test files: apply the seed as they do.
  await applyCr(admin.makeApiClient(CustomObjectsApi), loadSeed('infraRules'));
  ns = await testNamespace(admin, 'settings');
  const minted = await mintServiceAccountCredentials(admin, {
    name: `operator-settings-${randomUUID().slice(0, 6)}`,
    namespace: 'layer-optest',
    clusterRole: OPERATOR_ROLE,
  });
  dir = mkdtempSync(join(tmpdir(), 'layer-operator-settings-'));
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, minted.kubeConfig.exportConfig());
  operator = await startOperatorProcess({
    KUBECONFIG: kubeconfigFile,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    LAYER_ORCHESTRATOR_TASK_QUEUE: `layer-orchestrator-settings-${randomUUID().slice(0, 8)}`,
    LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    LAYER_WATCH_NAMESPACES: ns,
    // The settings under test (defaults: TEMPORAL_NAMESPACE, no key, 15 s, 300 s).
    LAYER_WORKER_TEMPORAL_NAMESPACE: WORKER_NAMESPACE,
    LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME: API_KEY_SECRET,
    LAYER_KEDA_POLLING_INTERVAL_SECONDS: '7',
    LAYER_KEDA_COOLDOWN_PERIOD_SECONDS: '42',
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('layer operator settings from its environment', () => {
  it('reach the rendered Deployment and ScaledObject, and the SDK reads the Deployment env back', async () => {
    const custom = admin.makeApiClient(CustomObjectsApi);
    const apps = admin.makeApiClient(AppsV1Api);
    const name = 'tag-settings';
    const seed = loadSeed('function');
    await applyCr(custom, { ...seed, metadata: { name, namespace: ns } });
    const objectName = workloadObjectName('Function', name);
    const deployment = await eventually(
      'Deployment',
      () => apps.readNamespacedDeployment({ namespace: ns, name: objectName }).catch(() => undefined),
      60_000,
    );
    const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'LAYER_TEMPORAL_NAMESPACE')?.value).toBe(WORKER_NAMESPACE);
    expect(env.find((e) => e.name === 'LAYER_TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef).toEqual({
      name: API_KEY_SECRET,
      key: 'api-key',
    });
    // As the kubelet would resolve it, the worker SDK gets the operator's settings.
    const podEnv = Object.fromEntries(
      env.map((e) => [
        e.name,
        e.valueFrom?.secretKeyRef ? `secret:${e.valueFrom.secretKeyRef.name}` : e.value,
      ]),
    );
    expect(loadWorkerEnv(podEnv).temporal).toMatchObject({
      namespace: WORKER_NAMESPACE,
      apiKey: `secret:${API_KEY_SECRET}`,
    });

    const scaledObject = (await eventually(
      'ScaledObject',
      () =>
        custom
          .getNamespacedCustomObject({
            group: 'keda.sh',
            version: 'v1alpha1',
            namespace: ns,
            plural: 'scaledobjects',
            name: objectName,
          })
          .catch(() => undefined),
      30_000,
    )) as { spec: { pollingInterval: number; cooldownPeriod: number } };
    expect(scaledObject.spec.pollingInterval).toBe(7);
    expect(scaledObject.spec.cooldownPeriod).toBe(42);
  });
});
