// From a Pipeline CR to the Pipeline engine's spec, and the reconcile plan handing it to the engine.
import { describe, expect, it } from 'vitest';
import { seedPipeline } from '../../fixtures/seeds.js';
import { pipelineRuntimeSpecSchema } from '../../../src/contracts/pipeline.js';
import {
  pipelineRuntimeSpecProblems,
  toPipelineRuntimeSpec,
} from '../../../src/operator/pipeline-runtime-spec.js';
import { workloadPushUrl } from '../../../src/operator/runtime-spec.js';
import { planReconcilePass } from '../../../src/operator/reconcile/plan-pass.js';
import { operatorSettings } from '../../../src/operator/settings.js';

describe('toPipelineRuntimeSpec', () => {
  it('carries spec.worker.rateLimit to the engine as written (items count as rows)', () => {
    const p = seedPipeline();
    p.spec.worker.rateLimit = { key: 'openai', requestsPerSecond: 2, rowsPerMinute: 600 };
    const spec = toPipelineRuntimeSpec(p);
    expect(spec.worker.rateLimit).toEqual({ key: 'openai', requestsPerSecond: 2, rowsPerMinute: 600 });
    expect(pipelineRuntimeSpecProblems(spec)).toEqual([]);
  });
  it('the seed: target, sourceRef as written, pull task queue; the engine schema accepts it', () => {
    const p = seedPipeline();
    p.metadata.generation = 4;
    const spec = toPipelineRuntimeSpec(p);
    expect(spec).toEqual({
      k8sNamespace: 'layer',
      name: 'product-images',
      generation: 4,
      targetNamespace: 'products',
      sourceRef: { kind: 'sqs', queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789/product-images' },
      worker: {
        dispatch: 'pull',
        batchSize: 64,
        timeoutSeconds: 60,
        taskQueue: 'layer-pl.layer.product-images',
      },
      paused: false,
    });
    expect(pipelineRuntimeSpecProblems(spec)).toEqual([]);
    // Schedule and retry are the engine's defaults.
    expect(pipelineRuntimeSpecSchema.parse(spec).schedule).toEqual({
      leaseSeconds: 60,
      maxInFlightBatches: 8,
      maxPendingItems: 10_000,
    });
  });

  it('push workers get the planner Service URL; paused and no sourceRef pass through', () => {
    const p = seedPipeline();
    p.spec.worker.dispatch = 'push';
    p.spec.worker.port = 9000;
    p.spec.paused = true;
    delete p.spec.sourceRef;
    delete p.metadata.generation;
    const spec = toPipelineRuntimeSpec(p);
    expect(spec.worker).toEqual({
      dispatch: 'push',
      batchSize: 64,
      timeoutSeconds: 60,
      pushUrl: 'http://layer-pl-product-images.layer.svc:9000',
    });
    expect(workloadPushUrl('Pipeline', 'layer', 'product-images', 9000)).toBe(spec.worker.pushUrl);
    expect(spec).toMatchObject({ paused: true, generation: 0 });
    expect(spec).not.toHaveProperty('sourceRef');
  });

  it('the spec does not alias the CR (sourceRef is copied)', () => {
    const p = seedPipeline();
    const spec = toPipelineRuntimeSpec(p);
    spec.sourceRef!.kind = 'changed';
    expect(p.spec.sourceRef?.kind).toBe('sqs');
  });

  it('values the engine refuses become problems', () => {
    const spec = toPipelineRuntimeSpec(seedPipeline());
    spec.targetNamespace = '';
    expect(pipelineRuntimeSpecProblems(spec)[0]).toMatch(/^spec\.targetNamespace: /);
  });
});

describe('planReconcilePass for a Pipeline', () => {
  const settings = operatorSettings({ inboundAuth: { mode: 'open' } });
  const rules = {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'InfraRules',
    metadata: { name: 'default' },
    spec: { computePools: [{ name: 'cpu', kind: 'cpu', maxReplicasPerWorkload: 10 }] },
  };

  it('syncs the engine with the runtime spec of the CR', () => {
    const raw = {
      ...JSON.parse(JSON.stringify(seedPipeline())),
      metadata: {
        name: 'p',
        namespace: 'layer',
        generation: 2,
        uid: 'u',
        finalizers: ['hevlayer.com/finalizer'],
      },
    };
    const plan = planReconcilePass({
      settings,
      observed: {
        ref: { kind: 'Pipeline', namespace: 'layer', name: 'p' },
        object: raw,
        infraRules: rules,
        owned: [],
      },
    });
    expect(plan.outcome).toBe('applied');
    expect(plan.engine).toEqual({
      action: 'sync',
      kind: 'Pipeline',
      spec: toPipelineRuntimeSpec({ ...seedPipeline(), metadata: raw.metadata }),
    });
    expect(plan.engine).toMatchObject({
      spec: { name: 'p', generation: 2, worker: { taskQueue: 'layer-pl.layer.p' } },
    });
  });
});
