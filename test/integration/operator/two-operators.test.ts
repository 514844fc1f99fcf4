// Two `layer operator` processes at once, as the Helm chart's two replicas run them: one Lease,
// one watcher. Every reconcile signal comes from the replica holding the Lease (no duplicate
// passes from a second watcher), each Function settles with the passes one operator needs, the
// objects have one field manager and carry no conflict, and when the leader is SIGKILLed the
// standby takes the Lease and reconciles what is applied next.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileWorkflowId } from '../../../src/contracts/reconcile.js';
import { workloadObjectName } from '../../../src/operator/names.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { payloadsIn } from '../../helpers/history-payloads.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  applyCr,
  condition,
  eventually,
  apiBaseOf,
  leaderIdentity,
  roleSaid,
  readCr,
  startOperatorProcess,
  type OperatorProcess,
  operatorProcessSetup,
} from './harness.js';

const FUNCTIONS = 6;
const LEASE = `layer-operator-${randomUUID().slice(0, 6)}`;

let admin: KubeConfig;
let dir: string;
let storeServer: StoreServer;
let ns: string;
let env: Record<string, string>;
const operators: OperatorProcess[] = [];
let connection: Connection;
let client: Client;

beforeAll(async () => {
  let kubeconfigFile: string;
  ({ admin, ns, dir, kubeconfigFile } = await operatorProcessSetup('two'));
  storeServer = await startStoreServer({ memory: true });
  env = {
    KUBECONFIG: kubeconfigFile,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    LAYER_ORCHESTRATOR_TASK_QUEUE: `layer-orchestrator-two-${randomUUID().slice(0, 8)}`,
    LAYER_STORE_URL: storeServer.url,
    LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    LAYER_WATCH_NAMESPACES: ns,
    LAYER_LEADER_ELECT: 'true',
    LAYER_LEADER_ELECTION_NAMESPACE: ns,
    LAYER_LEADER_ELECTION_ID: LEASE,
  };
  const started = (log: string) =>
    apiBaseOf(log) !== undefined &&
    roleSaid(log, 'operator/watcher', /^(leading|standing by)/).length > 0 &&
    // The leader has listed before it counts as started.
    (!/leading:/.test(log) || log.includes('informers started'));
  operators.push(
    ...(await Promise.all([startOperatorProcess(env, started), startOperatorProcess(env, started)])),
  );
  connection = await Connection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
}, 180_000);

afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await connection?.close();
  await storeServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function functionCr(name: string) {
  const seed = loadSeed('function');
  return {
    ...seed,
    metadata: { name, namespace: ns },
    spec: { ...seed.spec, targetNamespaces: [`two-${name}`] },
  };
}

/** Objects exist, status is current and the workflow runs. */
async function settled(name: string): Promise<boolean> {
  const custom = admin.makeApiClient(CustomObjectsApi);
  const apps = admin.makeApiClient(AppsV1Api);
  const cr = await readCr(custom, 'Function', ns, name);
  if (!cr || cr.status?.observedGeneration !== cr.metadata.generation) return false;
  if (condition(cr, 'WorkflowReady')?.status !== 'True') return false;
  const objectName = workloadObjectName('Function', name);
  await apps.readNamespacedDeployment({ namespace: ns, name: objectName });
  await custom.getNamespacedCustomObject({
    group: 'keda.sh',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'scaledobjects',
    name: objectName,
  });
  return true;
}

/** Every signal and reconcilePass of a resource's reconcile workflow, across its runs. */
async function reconcileHistory(name: string): Promise<{ signalsBy: string[]; passes: number }> {
  const workflowId = reconcileWorkflowId('Function', ns, name);
  const signalsBy: string[] = [];
  let passes = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    for (const e of history.events ?? []) {
      if (e.workflowExecutionSignaledEventAttributes) {
        const [payload] = payloadsIn(e.workflowExecutionSignaledEventAttributes.input);
        const args = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as { by?: string };
        signalsBy.push(args.by ?? '(none)');
      }
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'reconcilePass') passes++;
    }
  }
  return { signalsBy, passes };
}

describe('two operator replicas', () => {
  it('one holds the Lease and signals; every Function settles with the passes one operator needs; the standby takes over after a SIGKILL', async () => {
    const [a, b] = operators as [OperatorProcess, OperatorProcess];
    const leaderOf = async () =>
      eventually('a leader', async () => {
        const ids = [a, b].map(leaderIdentity);
        const leaders = [a, b].filter(
          (_, i) => ids[i] !== undefined && operators[i]!.child.exitCode === null,
        );
        return leaders.length === 1 ? leaders[0] : undefined;
      });
    const leader = await leaderOf();
    const standby = leader === a ? b : a;
    const leaderId = leaderIdentity(leader)!;
    expect(standby.log()).not.toContain('informers started');

    const custom = admin.makeApiClient(CustomObjectsApi);
    const names = Array.from({ length: FUNCTIONS }, (_, i) => `fn-${i}`);
    await Promise.all(names.map((n) => applyCr(custom, functionCr(n))));
    await eventually(
      'every Function settled',
      async () => ((await Promise.all(names.map(settled))).every(Boolean) ? true : undefined),
      120_000,
    );

    // Signals only from the leader; passes as one operator needs them: the create, and the
    // finalizer the first pass added (an event collapsed into it may save that one).
    for (const n of names) {
      const { signalsBy, passes } = await reconcileHistory(n);
      expect(new Set(signalsBy), n).toEqual(new Set([leaderId]));
      expect(passes, n).toBeGreaterThanOrEqual(1);
      expect(passes, n).toBeLessThanOrEqual(2);
    }
    // One writer: the operator's field manager (with the replicas hand-over's, ADR 0128), and no
    // conflict in either replica's log.
    const apps = admin.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      namespace: ns,
      name: workloadObjectName('Function', names[0]!),
    });
    expect(new Set((deployment.metadata?.managedFields ?? []).map((m) => m.manager))).toEqual(
      new Set(['layer-operator', 'layer-operator-replicas']),
    );
    for (const op of [a, b]) expect(op.log()).not.toMatch(/conflict/i);

    // The leader dies without releasing the Lease: the standby takes it once it expires.
    leader.child.kill('SIGKILL');
    await eventually(
      'the standby leads and has listed',
      async () => (leaderIdentity(standby) && standby.log().includes('informers started') ? true : undefined),
      40_000,
    );
    const lease = await admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: ns, name: LEASE });
    expect(lease.spec?.holderIdentity).toBe(leaderIdentity(standby));
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);

    await applyCr(custom, functionCr('after-failover'));
    await eventually(
      'the Function applied after failover settled',
      async () => ((await settled('after-failover')) ? true : undefined),
      60_000,
    );
    const after = await reconcileHistory('after-failover');
    expect(new Set(after.signalsBy)).toEqual(new Set([leaderIdentity(standby)]));
  });
});
