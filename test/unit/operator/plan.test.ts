// Table tests for every planner rule in issue 3. Each row says why it exists.
import { describe, expect, it } from 'vitest';
import { ScaledObject as KedaScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication as KedaTriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { ConditionReason, ConditionType, type InfraRules, type Workload } from '../../../src/api/index.js';
import {
  planWorkloadObjects,
  type PlannedDeployment,
  type PlannedObject,
  type WorkloadPlan,
} from '../../../src/operator/workload-objects.js';
import { replicasManagersOf } from '../../../src/activities/kube/observe.js';
import { autoscaledReplicas } from '../../../src/operator/replicas-handover.js';
import { operatorSettings, type OperatorSettings } from '../../../src/operator/settings.js';
import { fn, helmRules, pipeline, scaling, seedRules } from './builders.js';

const settings = operatorSettings();

/** Plan with the Helm pools unless rules are given; `null` means InfraRules/default does not exist. */
function plan(
  workload: Workload,
  rules: InfraRules | null = helmRules(),
  s: OperatorSettings = settings,
): WorkloadPlan {
  return planWorkloadObjects({ workload, infraRules: rules ?? undefined }, s);
}
function kinds(p: WorkloadPlan): string[] {
  return p.apply.map((o) => o.kind);
}
function find<K extends PlannedObject['kind']>(
  p: WorkloadPlan,
  kind: K,
): Extract<PlannedObject, { kind: K }> | undefined {
  return p.apply.find((o) => o.kind === kind) as Extract<PlannedObject, { kind: K }> | undefined;
}
function deployment(p: WorkloadPlan): PlannedDeployment {
  const d = find(p, 'Deployment');
  if (!d) throw new Error('no Deployment planned');
  return d;
}
function condition(p: WorkloadPlan, type: string) {
  return p.conditions.find((c) => c.type === type);
}
function podSpec(p: WorkloadPlan) {
  const spec = deployment(p).spec?.template.spec;
  if (!spec) throw new Error('no pod spec');
  return spec;
}
function env(p: WorkloadPlan): Record<string, unknown> {
  return Object.fromEntries(
    (podSpec(p).containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
  );
}

describe('pool resolution: scaling.pool must exist in InfraRules/default', () => {
  it.each([
    // The seed names pool cpu, which the seed InfraRules has: nothing blocks it.
    {
      row: 'seed pool exists',
      w: fn(),
      rules: seedRules(),
      blocked: false,
      reason: ConditionReason.PoolFound,
    },
    // A typo in the pool name must not create a worker anywhere: unready, no objects.
    {
      row: 'unknown pool',
      w: fn(scaling({ pool: 'cpu-xl' })),
      rules: seedRules(),
      blocked: true,
      reason: ConditionReason.ComputePoolNotFound,
    },
    // gpu is a stock pool, but the seed InfraRules only defines cpu: still missing.
    {
      row: 'stock pool absent from custom rules',
      w: fn(scaling({ pool: 'gpu' })),
      rules: seedRules(),
      blocked: true,
      reason: ConditionReason.ComputePoolNotFound,
    },
    // No InfraRules object at all is its own reason, so the fix (create it) is obvious.
    {
      row: 'no InfraRules/default',
      w: fn(),
      rules: null,
      blocked: true,
      reason: ConditionReason.InfraRulesNotFound,
    },
    // An InfraRules with no pools resolves nothing.
    {
      row: 'InfraRules with no pools',
      w: fn(),
      rules: { ...seedRules(), spec: { computePools: [] } },
      blocked: true,
      reason: ConditionReason.ComputePoolNotFound,
    },
  ])('$row', ({ w, rules, blocked, reason }) => {
    const p = plan(w, rules);
    expect(p.blocked).toBe(blocked);
    expect(condition(p, ConditionType.PoolResolved)?.reason).toBe(reason);
    if (blocked) {
      expect(p.apply).toEqual([]);
      expect(p.remove).toEqual([]);
      // Ready is not the planner's: the reconcile's summary takes this False condition (render.test).
      expect(condition(p, ConditionType.Ready)).toBeUndefined();
      expect(condition(p, ConditionType.PoolResolved)).toMatchObject({ status: 'False', reason });
    }
  });

  it('names the missing pool and the pools that exist', () => {
    const p = plan(fn(scaling({ pool: 'cpu-xl' })), helmRules());
    const msg = condition(p, ConditionType.PoolResolved)?.message ?? '';
    expect(msg).toContain('cpu-xl');
    expect(msg).toContain('cpu, cpu-large, gpu');
  });
});

describe('stock pool from worker.computeClass when scaling.pool is empty', () => {
  it.each([
    // computeClass gpu without a pool lands on the stock gpu pool.
    {
      row: 'computeClass gpu',
      patch: { spec: { scaling: { pool: null, replicas: { max: 2 } }, worker: { computeClass: 'gpu' } } },
      pool: 'gpu',
    },
    // computeClass cpu without a pool lands on the stock cpu pool.
    {
      row: 'computeClass cpu',
      patch: { spec: { scaling: { pool: null }, worker: { computeClass: 'cpu' } } },
      pool: 'cpu',
    },
    // Neither set: cpu, the cheapest general pool.
    { row: 'neither set', patch: { spec: { scaling: { pool: null } } }, pool: 'cpu' },
    // An explicit pool wins over computeClass.
    {
      row: 'explicit pool wins',
      patch: { spec: { scaling: { pool: 'cpu-large' }, worker: { computeClass: 'gpu' } } },
      pool: 'cpu-large',
    },
  ])('$row', ({ patch, pool }) => {
    const p = plan(fn(patch), helmRules());
    expect(p.blocked).toBe(false);
    expect(p.pool).toBe(pool);
  });
});

describe("replicas.max above the pool's maxReplicasPerWorkload is rejected in status", () => {
  it.each([
    // Exactly at the ceiling is allowed (the ceiling is inclusive).
    { row: 'max equals ceiling', max: 20, blocked: false },
    // One above the ceiling is rejected.
    { row: 'max one above ceiling', max: 21, blocked: true },
    // The rule applies in fixed mode too: the spec asks for more than the pool allows.
    { row: 'fixed mode above ceiling', max: 50, mode: 'fixed', blocked: true },
  ])('$row', ({ max, mode, blocked }) => {
    const p = plan(fn(scaling({ mode: mode ?? 'autoscale', replicas: { min: 0, max } })), seedRules());
    expect(p.blocked).toBe(blocked);
    const c = condition(p, ConditionType.ReplicasWithinLimit);
    expect(c?.status).toBe(blocked ? 'False' : 'True');
    if (blocked) {
      expect(p.apply).toEqual([]);
      expect(c?.reason).toBe(ConditionReason.ReplicasExceedPoolLimit);
      expect(c?.message).toContain('20');
    }
  });
});

describe('scaling modes', () => {
  it.each([
    // autoscale, once KEDA holds replicas: the Deployment must not send spec.replicas or they
    // fight (the hand-over before that: describe 'replicas of an autoscaled Deployment').
    {
      row: 'autoscale',
      patch: scaling({ mode: 'autoscale', replicas: { min: 1, max: 5 } }),
      replicas: undefined,
      scaled: true,
    },
    // fixed pins replicas to min and needs no KEDA object.
    {
      row: 'fixed',
      patch: scaling({ mode: 'fixed', replicas: { min: 3, max: 5 } }),
      replicas: 3,
      scaled: false,
    },
    // disabled scales to zero and removes the ScaledObject.
    { row: 'disabled', patch: scaling({ mode: 'disabled' }), replicas: 0, scaled: false },
    // paused wins over autoscale: zero replicas, no ScaledObject (it would scale back up).
    { row: 'paused autoscale', patch: { spec: { paused: true } }, replicas: 0, scaled: false },
    // paused wins over fixed too.
    {
      row: 'paused fixed',
      patch: { spec: { paused: true, scaling: { mode: 'fixed', replicas: { min: 2, max: 2 } } } },
      replicas: 0,
      scaled: false,
    },
  ])('$row', ({ patch, replicas, scaled }) => {
    const p = planWorkloadObjects(
      { workload: fn(patch), infraRules: helmRules(), deployment: { replicas: 3, managers: ['keda'] } },
      settings,
    );
    const d = deployment(p);
    if (replicas === undefined) expect(d.spec).not.toHaveProperty('replicas');
    else expect(d.spec?.replicas).toBe(replicas);
    expect(kinds(p).includes('ScaledObject')).toBe(scaled);
    expect(p.remove.some((r) => r.kind === 'ScaledObject')).toBe(!scaled);
  });

  it('autoscale carries min and max into the ScaledObject', () => {
    const so = find(plan(fn(scaling({ replicas: { min: 1, max: 5 } }))), 'ScaledObject');
    expect(so?.spec).toMatchObject({
      minReplicaCount: 1,
      maxReplicaCount: 5,
      scaleTargetRef: { kind: 'Deployment', name: 'layer-fn-tag-products' },
    });
  });

  it.each([
    // The pod's grace: batch timeout 30 s + 15 s; the window: KEDA's cooldown (settings default 300 s).
    { row: 'defaults', patch: {}, window: 300, period: 45 },
    // A long batch timeout: one replica per grace period, capped at the HPA's 1800 s.
    { row: 'long batches', patch: { spec: { worker: { timeoutSeconds: 3600 } } }, window: 300, period: 1800 },
    // worker.podSpec's own grace period is the one the pod gets.
    {
      row: 'podSpec grace',
      patch: { spec: { worker: { podSpec: { terminationGracePeriodSeconds: 90 } } } },
      window: 300,
      period: 90,
    },
  ])(
    'autoscale scales in one drained replica at a time, after a cooldown-long low ($row)',
    ({ patch, window, period }) => {
      const p = plan(fn(patch));
      const so = find(p, 'ScaledObject');
      expect(so?.spec.advanced?.horizontalPodAutoscalerConfig.behavior.scaleDown).toEqual({
        stabilizationWindowSeconds: window,
        policies: [{ type: 'Pods', value: 1, periodSeconds: period }],
      });
      expect(podSpec(p).terminationGracePeriodSeconds).toBe(period === 1800 ? 3615 : period);
      // The published KEDA types accept it.
      expect(() => new KedaScaledObject(so).validate()).not.toThrow();
    },
  );

  it.each([
    // Paused is a requested zero: the worker is available by definition, so Ready is True.
    { row: 'paused', patch: { spec: { paused: true } }, status: 'True', worker: 'Paused' },
    // Disabled likewise.
    { row: 'disabled', patch: scaling({ mode: 'disabled' }), status: 'True', worker: 'ScalingDisabled' },
    // An autoscaled min-0 workload's first pass creates its Deployment at zero: KEDA starts a
    // replica when rows come (ADR 0128), so the worker is available by definition.
    { row: 'autoscaled at min 0', patch: {}, status: 'True', worker: 'ScaledToZero' },
    // A fixed one's first pass creates its replicas: Unknown until one is available.
    {
      row: 'fixed',
      patch: scaling({ mode: 'fixed', replicas: { min: 2, max: 2 } }),
      status: 'Unknown',
      worker: 'ReplicasStarting',
    },
  ])('Ready for $row, as the operator writes it on its first pass', async ({ patch, status, worker }) => {
    const { renderResources } = await import('../../../src/operator/plan-render.js');
    const s = renderResources([fn(patch), helmRules()], operatorSettings(), '2025-01-01T00:00:00Z')
      .workloads[0]!.status!;
    const byType = (t: string) => s.conditions?.find((c) => c.type === t);
    expect(byType('WorkerAvailable')?.reason).toBe(worker);
    expect(byType(ConditionType.Ready)?.status).toBe(status);
    expect(byType('Degraded')?.status).toBe('False');
  });
});

describe('replicas of an autoscaled Deployment (ADR 0128)', () => {
  const autoscaled = (min: number) => fn(scaling({ mode: 'autoscale', replicas: { min, max: 4 } }));
  it.each([
    // Created now: at min, never at the apiserver's default of 1, and shared with the hand-over manager.
    { row: 'created, min 0', min: 0, seen: undefined, declare: 0, handover: 0 },
    { row: 'created, min 2', min: 2, seen: undefined, declare: 2, handover: 2 },
    // Paused (or fixed) until now: the operator alone holds the field; keep the value and share it.
    { row: 'unpaused', min: 0, seen: { replicas: 0, managers: ['layer-operator'] }, declare: 0, handover: 0 },
    // Shared since last pass: the operator lets go, the hand-over manager keeps the value.
    {
      row: 'shared',
      min: 0,
      seen: { replicas: 0, managers: ['layer-operator', 'layer-operator-replicas'] },
      declare: undefined,
      handover: undefined,
    },
    // KEDA or the HPA wrote it: theirs.
    {
      row: 'held by KEDA',
      min: 0,
      seen: { replicas: 3, managers: ['keda'] },
      declare: undefined,
      handover: undefined,
    },
    // Unknown owners (an observation from before managers were read): left out, as before.
    {
      row: 'owners unknown',
      min: 0,
      seen: { replicas: 1, managers: [] },
      declare: undefined,
      handover: undefined,
    },
  ])('$row', ({ min, seen, declare, handover }) => {
    expect(autoscaledReplicas(min, seen)).toEqual({
      ...(declare !== undefined ? { declare } : {}),
      ...(handover !== undefined ? { handover } : {}),
    });
    const p = planWorkloadObjects(
      { workload: autoscaled(min), infraRules: helmRules(), deployment: seen },
      settings,
    );
    expect(deployment(p).spec?.replicas).toBe(declare);
    expect(p.replicasHandover).toEqual(
      handover === undefined
        ? undefined
        : {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'layer-fn-tag-products', namespace: deployment(p).metadata.namespace },
            spec: { replicas: handover },
          },
    );
  });

  it('observe reads the owners of spec.replicas from managedFields', () => {
    expect(
      replicasManagersOf([
        { manager: 'layer-operator', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } },
        { manager: 'kube-controller-manager', fieldsV1: { 'f:status': { 'f:replicas': {} } } },
        { manager: 'keda', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
        { manager: 'layer-operator-replicas', fieldsV1: { 'f:spec': { 'f:selector': {} } } },
        { fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      ]),
    ).toEqual(['layer-operator', 'keda']);
    expect(replicasManagersOf(undefined)).toEqual([]);
  });

  it.each([
    { row: 'paused', patch: { spec: { paused: true } } },
    { row: 'fixed', patch: scaling({ mode: 'fixed', replicas: { min: 2, max: 2 } }) },
    { row: 'disabled', patch: scaling({ mode: 'disabled' }) },
  ])('$row: the operator declares replicas itself, no hand-over', ({ patch }) => {
    expect(
      planWorkloadObjects({ workload: fn(patch), infraRules: helmRules() }, settings).replicasHandover,
    ).toBeUndefined();
  });
});

describe('pool placement lands on the worker pod', () => {
  it('seed cpu pool: resources, nodeSelector, no tolerations', () => {
    const spec = podSpec(plan(fn(), seedRules()));
    expect(spec.containers[0]?.resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { memory: '1Gi' },
    });
    expect(spec.nodeSelector).toEqual({ 'karpenter.sh/nodepool': 'cpu' });
    expect(spec.tolerations).toBeUndefined();
  });

  it.each([
    // Stock gpu pool: one GPU requested and limited, NVIDIA toleration, worker-gpu nodes.
    { row: 'stock gpu pool', rules: helmRules(), gpus: '1' },
    // A custom gpu pool that forgot the GPU resource and toleration still gets both.
    {
      row: 'custom gpu pool without gpu resource',
      rules: {
        ...seedRules(),
        spec: { computePools: [{ name: 'gpu', kind: 'gpu', maxReplicasPerWorkload: 2 }] },
      } as InfraRules,
      gpus: '1',
    },
    // A pool that asks for 2 GPUs keeps its count (only the default is "1").
    {
      row: 'gpu pool asking for two',
      rules: {
        ...seedRules(),
        spec: {
          computePools: [
            {
              name: 'gpu',
              kind: 'gpu',
              maxReplicasPerWorkload: 2,
              resources: { limits: { 'nvidia.com/gpu': 2 } },
            },
          ],
        },
      } as InfraRules,
      gpus: '2',
    },
  ])('$row', ({ rules, gpus }) => {
    const spec = podSpec(plan(fn({ spec: { scaling: { pool: 'gpu', replicas: { max: 2 } } } }), rules));
    const res = spec.containers[0]?.resources;
    expect(res?.requests?.['nvidia.com/gpu']).toBe(gpus);
    expect(res?.limits?.['nvidia.com/gpu']).toBe(gpus);
    expect(spec.tolerations).toContainEqual({
      key: 'nvidia.com/gpu',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(spec.tolerations?.filter((t) => t.key === 'nvidia.com/gpu')).toHaveLength(1);
  });

  it('stock pools select the chart node roles', () => {
    expect(podSpec(plan(fn(scaling({ pool: 'cpu' })))).nodeSelector).toEqual({
      'layer.hev.dev/node-role': 'worker-cpu',
    });
    expect(podSpec(plan(fn(scaling({ pool: 'gpu', replicas: { max: 2 } })))).nodeSelector).toEqual({
      'layer.hev.dev/node-role': 'worker-gpu',
    });
  });
});

describe('worker.podSpec is a pod-level merge patch applied last', () => {
  it.each([
    // Adding a field the operator does not set.
    {
      row: 'adds serviceAccountName',
      patch: { serviceAccountName: 'tagger' },
      check: (s: Record<string, unknown>) => s.serviceAccountName === 'tagger',
    },
    // Overriding a pool value: the workload gets the last word.
    {
      row: 'overrides nodeSelector key',
      patch: { nodeSelector: { 'karpenter.sh/nodepool': 'spot' } },
      check: (s: Record<string, unknown>) =>
        (s.nodeSelector as Record<string, string>)['karpenter.sh/nodepool'] === 'spot',
    },
    // null deletes (RFC 7386), e.g. dropping the pool's nodeSelector.
    {
      row: 'null deletes nodeSelector',
      patch: { nodeSelector: null },
      check: (s: Record<string, unknown>) => !('nodeSelector' in s),
    },
    // Lists are replaced whole: the patch's tolerations replace the pool's.
    {
      row: 'tolerations replaced whole',
      patch: { tolerations: [{ key: 'x', operator: 'Exists' }] },
      check: (s: Record<string, unknown>) =>
        JSON.stringify(s.tolerations) === '[{"key":"x","operator":"Exists"}]',
    },
  ])('$row', ({ patch, check }) => {
    // Set on the parsed CR: the fn() builder itself merge-patches, which would eat the nulls.
    const w = fn();
    w.spec.worker.podSpec = patch;
    const spec = podSpec(plan(w, seedRules()));
    expect(check(spec as unknown as Record<string, unknown>)).toBe(true);
  });

  it('does not change the CR (open JSON is kept exactly as written)', () => {
    const w = fn();
    w.spec.worker.podSpec = { nodeSelector: null, volumes: [{ name: 'v', emptyDir: {} }] };
    const before = JSON.stringify(w);
    plan(w, seedRules());
    expect(JSON.stringify(w)).toBe(before);
    expect(w.spec.worker.podSpec).toEqual({ nodeSelector: null, volumes: [{ name: 'v', emptyDir: {} }] });
  });
});

describe('dispatch: one Deployment; push adds a Service and readiness probe', () => {
  it.each([
    // pull workers poll Temporal; nothing connects to them, so no Service.
    { row: 'pull', dispatch: 'pull', objects: ['Deployment', 'TriggerAuthentication', 'ScaledObject'] },
    // push workers serve /run: Service on worker.port plus readiness probe.
    {
      row: 'push',
      dispatch: 'push',
      objects: ['Deployment', 'Service', 'TriggerAuthentication', 'ScaledObject'],
    },
  ])('$row', ({ dispatch, objects }) => {
    const p = plan(fn({ spec: { worker: { dispatch, port: 9000 } } }));
    expect(kinds(p)).toEqual(objects);
    expect(kinds(p).filter((k) => k === 'Deployment')).toHaveLength(1);
    const container = podSpec(p).containers[0];
    if (dispatch === 'push') {
      expect(find(p, 'Service')?.spec?.ports).toEqual([
        { name: 'http', port: 9000, targetPort: 'http', protocol: 'TCP' },
      ]);
      expect(container?.ports).toEqual([{ name: 'http', containerPort: 9000, protocol: 'TCP' }]);
      expect(container?.readinessProbe?.tcpSocket?.port).toBe('http');
      expect(find(p, 'Service')?.spec?.selector).toEqual(deployment(p).spec?.selector.matchLabels);
    } else {
      expect(container?.readinessProbe).toBeUndefined();
      expect(p.remove).toContainEqual({ apiVersion: 'v1', kind: 'Service', name: 'layer-fn-tag-products' });
    }
  });

  it('a Pipeline also gets exactly one Deployment, with its target and sourceRef', () => {
    const p = plan(pipeline());
    expect(kinds(p)).toEqual(['Deployment', 'TriggerAuthentication', 'ScaledObject']);
    expect(env(p)).toMatchObject({
      LAYER_TARGET_NAMESPACE: 'products',
      LAYER_SOURCE_REF: JSON.stringify({
        kind: 'sqs',
        queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789/product-images',
      }),
      LAYER_TASK_QUEUE: 'layer-pl.layer.product-images',
      LAYER_BATCH_SIZE: '64',
    });
  });
});

describe('worker container environment', () => {
  it('has Temporal, task queue, batch size and timeout', () => {
    expect(env(plan(fn()))).toMatchObject({
      LAYER_TEMPORAL_ADDRESS: settings.temporal.address,
      LAYER_TEMPORAL_NAMESPACE: settings.temporal.namespace,
      LAYER_TASK_QUEUE: 'layer-fn.layer.tag-products',
      LAYER_BATCH_SIZE: '32',
      LAYER_TIMEOUT_SECONDS: '30',
    });
  });

  it.each([
    // The seed Function's maxInFlightBatches (8): one replica may hold every claim.
    { row: 'Function: its maxInFlightBatches', workload: () => fn(), want: '8' },
    // Pipelines carry no such field in the CRD: the workflow's default.
    { row: 'Pipeline: the default claims in flight', workload: () => pipeline(), want: '8' },
  ])('worker concurrency — $row', ({ workload, want }) => {
    expect(env(plan(workload()))).toMatchObject({ LAYER_WORKER_CONCURRENCY: want });
  });

  it.each([
    // keys mode: the worker key from the named Secret.
    {
      row: 'keys, named secret',
      auth: { mode: 'keys', workerSecretName: 'w', workerSecretKey: 'k' },
      ref: { name: 'w', key: 'k' },
    },
    // keys mode, blank name: the release Secret and the default key (install.md).
    {
      row: 'keys, blank name',
      auth: { mode: 'keys' },
      ref: { name: 'layer', key: 'layer-inbound-worker-api-key' },
    },
    // deriveFromStore: the store credential is the bearer.
    {
      row: 'deriveFromStore',
      auth: { mode: 'deriveFromStore', storeCredential: { name: 'tpuf', key: 'api-key' } },
      ref: { name: 'tpuf', key: 'api-key' },
    },
    // open: no bearer at all.
    { row: 'open', auth: { mode: 'open' }, ref: undefined },
  ] as const)('credentials only by Secret reference: $row', ({ auth, ref }) => {
    const p = plan(fn(), helmRules(), operatorSettings({ inboundAuth: auth }));
    const e = podSpec(p).containers[0]?.env ?? [];
    const key = e.find((v) => v.name === 'LAYER_API_KEY');
    // Pull workers read and write rows through the gateway with the same bearer.
    const storeKey = e.find((v) => v.name === 'LAYER_STORE_API_KEY');
    expect(e.find((v) => v.name === 'LAYER_STORE_URL')?.value).toBe('http://layer-gateway.layer.svc:8080');
    if (ref === undefined) expect([key, storeKey]).toEqual([undefined, undefined]);
    else {
      expect(key).toEqual({ name: 'LAYER_API_KEY', valueFrom: { secretKeyRef: ref } });
      expect(storeKey).toEqual({ name: 'LAYER_STORE_API_KEY', valueFrom: { secretKeyRef: ref } });
    }
    // No env var ever carries a literal credential.
    expect(e.filter((v) => /KEY|TOKEN|SECRET|PASSWORD/.test(v.name) && v.value !== undefined)).toEqual([]);
  });

  it('a Temporal API key comes from its Secret', () => {
    const p = plan(
      fn(),
      helmRules(),
      operatorSettings({ temporal: { apiKeySecretRef: { name: 't', key: 'k' } } }),
    );
    expect(env(p).LAYER_TEMPORAL_API_KEY).toEqual({ secretKeyRef: { name: 't', key: 'k' } });
  });
});

describe('KEDA external-push trigger when the operator serves the scaler (ADR 0131)', () => {
  const pushSettings = operatorSettings({ keda: { scalerAddress: 'layer-orchestrator.layer.svc:9090' } });
  it.each([
    { row: 'Function', w: fn(), metric: 'layer_udf_queue_depth', kind: 'Function', name: 'tag-products' },
    {
      row: 'Pipeline',
      w: pipeline(),
      metric: 'layer_pipeline_queue_depth',
      kind: 'Pipeline',
      name: 'product-images',
    },
  ])(
    '$row: the trigger names the workload for the scaler, and KEDA accepts it',
    ({ w, metric, kind, name }) => {
      const p = plan(w, helmRules(), pushSettings);
      const so = find(p, 'ScaledObject');
      const trigger = so?.spec.triggers[0];
      expect(trigger).toEqual({
        type: 'external-push',
        name: metric,
        metricType: 'AverageValue',
        metadata: {
          scalerAddress: 'layer-orchestrator.layer.svc:9090',
          kind,
          name,
          batchSize: String(w.spec.worker.batchSize),
          targetValue: '1',
        },
      });
      expect(() => new KedaScaledObject(so).validate()).not.toThrow();
    },
  );

  it('renders no TriggerAuthentication: the gRPC scaler takes no bearer', () => {
    const p = plan(
      fn(),
      helmRules(),
      operatorSettings({
        keda: { scalerAddress: 'op:9090' },
        inboundAuth: { mode: 'keys', workerSecretName: 'w' },
      }),
    );
    expect(kinds(p)).not.toContain('TriggerAuthentication');
    expect(find(p, 'ScaledObject')?.spec.triggers[0]).not.toHaveProperty('authenticationRef');
  });

  it('refuses a scaler address that is not host:port, naming the fix', () => {
    expect(() => operatorSettings({ keda: { scalerAddress: 'http://op:9090' } })).toThrow(/host:port/);
  });
});

describe('KEDA trigger reads queue depth from the orchestrator API', () => {
  it.each([
    // Functions scale on layer_udf_queue_depth from the functions URL.
    {
      row: 'Function',
      w: fn(),
      metric: 'layer_udf_queue_depth',
      path: '/v1/queue-depth/functions/layer/tag-products',
    },
    // Pipelines scale on the pipeline queue depth from the pipelines URL.
    {
      row: 'Pipeline',
      w: pipeline(),
      metric: 'layer_pipeline_queue_depth',
      path: '/v1/queue-depth/pipelines/layer/product-images',
    },
  ])('$row', ({ w, metric, path }) => {
    const p = plan(w, helmRules(), operatorSettings({ apiBaseUrl: 'http://api.layer:8080/' }));
    const trigger = find(p, 'ScaledObject')?.spec.triggers[0];
    expect(trigger).toMatchObject({ type: 'metrics-api', name: metric, metricType: 'AverageValue' });
    expect(trigger?.metadata).toMatchObject({
      url: `http://api.layer:8080${path}`,
      valueLocation: 'queueDepth',
      format: 'json',
    });
    expect(Object.values(trigger?.metadata ?? {}).every((v) => typeof v === 'string')).toBe(true);
  });

  // ADR 0003's numbers: one queued batch per replica (AverageValue), any queued batch wakes a
  // workload at zero, polled every 15 s, scaled down after 300 s; bounds from spec.scaling.replicas.
  it.each([
    { row: 'defaults', settings: {}, target: '1', polling: 15, cooldown: 300 },
    {
      row: 'operator settings',
      settings: {
        keda: { targetQueueDepthPerReplica: 4, pollingIntervalSeconds: 5, cooldownPeriodSeconds: 60 },
      },
      target: '4',
      polling: 5,
      cooldown: 60,
    },
  ])('scaling values of ADR 0003: $row', ({ settings, target, polling, cooldown }) => {
    const w = fn();
    const p = plan(w, helmRules(), operatorSettings(settings));
    const so = find(p, 'ScaledObject');
    expect(so?.spec).toMatchObject({
      minReplicaCount: w.spec.scaling.replicas.min,
      maxReplicaCount: w.spec.scaling.replicas.max,
      pollingInterval: polling,
      cooldownPeriod: cooldown,
    });
    expect(so?.spec.triggers[0]).toMatchObject({ metricType: 'AverageValue' });
    expect(so?.spec.triggers[0]?.metadata).toMatchObject({ targetValue: target, activationTargetValue: '0' });
  });

  it.each([
    // keys mode: a TriggerAuthentication with the worker bearer Secret.
    {
      row: 'keys',
      auth: { mode: 'keys', workerSecretName: 'workers' },
      ta: { name: 'workers', key: 'layer-inbound-worker-api-key' },
    },
    // deriveFromStore: the API takes the store credential as bearer, so KEDA sends it too.
    {
      row: 'deriveFromStore',
      auth: { mode: 'deriveFromStore' },
      ta: { name: 'layer', key: 'vector-store-api-key' },
    },
    // open: nothing to authenticate with.
    { row: 'open', auth: { mode: 'open' }, ta: undefined },
  ] as const)('TriggerAuthentication when inbound auth is $row', ({ auth, ta }) => {
    const p = plan(fn(), helmRules(), operatorSettings({ inboundAuth: auth }));
    const so = find(p, 'ScaledObject');
    const t = find(p, 'TriggerAuthentication');
    if (ta === undefined) {
      expect(t).toBeUndefined();
      expect(so?.spec.triggers[0]?.authenticationRef).toBeUndefined();
      expect(so?.spec.triggers[0]?.metadata.authMode).toBeUndefined();
    } else {
      expect(t?.spec.secretTargetRef).toEqual([{ parameter: 'bearerToken', ...ta }]);
      expect(so?.spec.triggers[0]?.authenticationRef).toEqual({
        name: t?.metadata.name,
        kind: 'TriggerAuthentication',
      });
      expect(so?.spec.triggers[0]?.metadata.authMode).toBe('bearer');
      // TriggerAuthentication is applied before the ScaledObject that refers to it.
      expect(kinds(p).indexOf('TriggerAuthentication')).toBeLessThan(kinds(p).indexOf('ScaledObject'));
    }
  });

  it.each([
    { row: 'Function keys', w: fn(), auth: { mode: 'keys' } as const },
    { row: 'Pipeline open', w: pipeline(), auth: { mode: 'open' } as const },
  ])('generated KEDA objects validate against published KEDA types: $row', ({ w, auth }) => {
    const p = plan(w, helmRules(), operatorSettings({ inboundAuth: auth }));
    const so = find(p, 'ScaledObject');
    expect(so).toBeDefined();
    expect(() => new KedaScaledObject(so).validate()).not.toThrow();
    const t = find(p, 'TriggerAuthentication');
    if (t) expect(() => new KedaTriggerAuthentication(t).validate()).not.toThrow();
  });
});

describe('Function output.kind embedding needs output.dim', () => {
  it.each([
    // Without dim consumers cannot validate vector shape: blocked as InvalidSpec.
    { row: 'embedding without dim', output: { kind: 'embedding' }, blocked: true },
    // With dim it plans normally.
    { row: 'embedding with dim', output: { kind: 'embedding', dim: 768 }, blocked: false },
    // Other kinds need no dim.
    { row: 'tags', output: { kind: 'tags' }, blocked: false },
  ])('$row', ({ output, blocked }) => {
    // Built by hand: the schema already refuses the first row, the planner must too.
    const w = fn();
    w.spec.output = { ...w.spec.output, ...output };
    const p = plan(w);
    expect(p.blocked).toBe(blocked);
    if (blocked)
      expect(condition(p, ConditionType.SpecValid)).toMatchObject({
        status: 'False',
        reason: ConditionReason.InvalidSpec,
      });
  });
});

describe('labels, owner references and names', () => {
  it('every object has the standard labels and a controller ownerReference', () => {
    const w = fn({
      metadata: { uid: '6d1c1f7e-0000-4000-8000-000000000001' },
      spec: { worker: { dispatch: 'push' } },
    });
    const p = plan(w);
    expect(p.apply).toHaveLength(4);
    for (const o of p.apply) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'layer-worker',
        'app.kubernetes.io/instance': 'tag-products',
        'app.kubernetes.io/managed-by': 'layer-operator',
        'app.kubernetes.io/part-of': 'hev-layer',
        'app.kubernetes.io/component': 'function-worker',
        'hevlayer.com/kind': 'Function',
        'hevlayer.com/name': 'tag-products',
      });
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'hevlayer.com/v1alpha1',
          kind: 'Function',
          name: 'tag-products',
          uid: w.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o.metadata.namespace).toBe('layer');
    }
  });

  it('a CR without a uid (read from a file) gets no ownerReference', () => {
    for (const o of plan(fn()).apply) expect(o.metadata.ownerReferences).toBeUndefined();
  });

  it.each([
    // A 253-char name: every derived name and label value stays within 63 chars.
    { row: 'very long name', name: 'a'.repeat(253) },
    // Dots are legal in CR names but not in Service names.
    { row: 'dotted name', name: 'tag.products.v2' },
    // A name that starts with a digit still yields a DNS-1035 Service name (prefix starts with a letter).
    { row: 'leading digit', name: '1tagger' },
  ])('names respect Kubernetes limits: $row', ({ name }) => {
    const p = plan(fn({ metadata: { name }, spec: { worker: { dispatch: 'push' } } }));
    for (const o of p.apply) {
      expect(o.metadata.name.length).toBeLessThanOrEqual(63);
      expect(o.metadata.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      for (const v of Object.values(o.metadata.labels)) {
        expect(v.length).toBeLessThanOrEqual(63);
        expect(v).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
      }
    }
  });
});

describe('status', () => {
  it('status reports pool, task queue and managed objects (the operator pass, as render shows it)', async () => {
    const { renderResources } = await import('../../../src/operator/plan-render.js');
    const w = fn({ metadata: { generation: 3 } });
    const s = renderResources([w, helmRules()], operatorSettings(), '2025-01-01T00:00:00Z').workloads[0]!
      .status!;
    expect(s).toMatchObject({ observedGeneration: 3, pool: 'cpu', taskQueue: 'layer-fn.layer.tag-products' });
    expect(s.managedObjects?.map((m) => m.kind)).toEqual([
      'Deployment',
      'TriggerAuthentication',
      'ScaledObject',
    ]);
    expect(
      s.conditions?.every(
        (c) => c.observedGeneration === 3 && c.lastTransitionTime === '2025-01-01T00:00:00Z',
      ),
    ).toBe(true);
  });

  it.each([
    // Same status: lastTransitionTime stays, so an unchanged plan means no status write.
    { row: 'unchanged status keeps time', prev: 'False', next: 'False', time: '2024-01-01T00:00:00Z' },
    // Flipped status: the transition time moves to now.
    { row: 'flipped status moves time', prev: 'True', next: 'False', time: '2025-01-01T00:00:00Z' },
  ] as const)('setCondition: $row', async ({ prev, next, time }) => {
    const { setCondition } = await import('../../../src/operator/plan-status.js');
    const out = setCondition(
      [{ type: 'Ready', status: prev, reason: 'A', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }],
      { type: 'Ready', status: next, reason: 'B', message: 'm', lastTransitionTime: '2025-01-01T00:00:00Z' },
    );
    expect(out).toEqual([
      { type: 'Ready', status: next, reason: 'B', message: 'm', lastTransitionTime: time },
    ]);
  });
});
