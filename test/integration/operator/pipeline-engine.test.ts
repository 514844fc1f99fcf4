// The operator's Temporal-backed engine driving real Pipeline workflows (start, update, pause,
// stop) from Pipeline CRs on the kube-apiserver, and the HTTP API serving a running pipeline's
// queue depth, status and metric from the Pipeline engine's client API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parseKind, type LayerPipeline } from '../../../src/api/index.js';
import {
  getPipelineQueueDepth,
  getPipelineStatus,
  pipelineHandle,
  submitPipelineItems,
} from '../../../src/client/pipeline-client.js';
import { toPipelineRuntimeSpec } from '../../../src/operator/pipeline-runtime-spec.js';
import {
  createTemporalWorkloadWorkflows,
  type WorkloadWorkflows,
} from '../../../src/operator/workload-workflows.js';
import { createHttpApi, type HttpApi } from '../../../src/server/http-api.js';
import { createOperatorApiDeps } from '../../../src/server/operator-api.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { kubeConfig } from '../../helpers/servers.js';
import { eventually, startPipelineHarness, type PipelineHarness } from '../pipeline/harness.js';
import { applyCr, installOperatorPrerequisites, readCr, testNamespace } from './harness.js';

let h: PipelineHarness;
let admin: KubeConfig;
let custom: CustomObjectsApi;
let engine: WorkloadWorkflows;
let api: HttpApi;
let base: string;
let ns: string;

beforeAll(async () => {
  admin = kubeConfig();
  await installOperatorPrerequisites(admin);
  custom = admin.makeApiClient(CustomObjectsApi);
  ns = await testNamespace(admin, 'oppl');
  h = await startPipelineHarness();
  engine = createTemporalWorkloadWorkflows(h.client, { taskQueue: h.taskQueue });
  api = createHttpApi(createOperatorApiDeps({ kubeConfig: admin, client: h.client, ready: () => true }));
  base = await api.listen();
});

afterAll(async () => {
  await api?.close();
  await h?.close();
});

/** Apply the seed Pipeline (no source: items are submitted) with `spec` merged in; returns the parsed CR. */
async function applyPipeline(name: string, spec: Record<string, unknown> = {}): Promise<LayerPipeline> {
  const seed = loadSeed('pipeline');
  delete seed.spec.sourceRef;
  await applyCr(custom, {
    ...seed,
    metadata: { name, namespace: ns },
    spec: { ...seed.spec, ...spec, worker: { ...seed.spec.worker, batchSize: 4, ...(spec.worker ?? {}) } },
  });
  const live = await readCr(custom, 'Pipeline', ns, name);
  const parsed = parseKind('Pipeline', { ...live, status: undefined });
  if (!parsed.ok) throw parsed.error;
  return parsed.resource as LayerPipeline;
}

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

describe('Temporal workload engine: Pipelines', () => {
  it('starts, updates, pauses and stops the Pipeline workflow; the HTTP API serves its queue depth', async () => {
    const name = 'docs';
    const ref = { k8sNamespace: ns, name };
    let cr = await applyPipeline(name);

    // Start.
    const started = await engine.sync({ action: 'sync', kind: 'Pipeline', spec: toPipelineRuntimeSpec(cr) });
    expect(started.condition).toMatchObject({
      type: 'WorkflowReady',
      status: 'True',
      reason: 'WorkflowRunning',
    });
    expect(started.condition.message).toContain(`generation ${cr.metadata.generation}`);
    expect(await getPipelineStatus(h.client, ref)).toMatchObject({
      name,
      k8sNamespace: ns,
      targetNamespace: 'products',
      batchSize: 4,
    });

    // No worker polls the pipeline's task queue: 10 submitted items stay queued as ceil(10 / 4) = 3 batches.
    expect(
      await submitPipelineItems(
        h.client,
        ref,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, payload: { i } })),
      ),
    ).toEqual({
      accepted: 10,
      duplicates: 0,
    });
    await eventually(
      () => getPipelineQueueDepth(h.client, ref),
      (d) => d === 3,
      20_000,
      'queue depth 3',
    );

    const depth = await getJson(`/v1/queue-depth/pipelines/${ns}/${name}`);
    expect(depth).toEqual({
      status: 200,
      body: { queueDepth: 3, metric: 'layer_pipeline_queue_depth', kind: 'Pipeline', namespace: ns, name },
    });
    const status = await getJson(`/v1/pipelines/${ns}/${name}/status`);
    expect(status.body).toMatchObject({
      kind: 'Pipeline',
      namespace: ns,
      name,
      workflow: 'running',
      queueDepth: 3,
      status: { targetNamespace: 'products', counters: { submitted: 10 } },
    });
    // /metrics lists every Pipeline CR cluster-wide: retried while the shared apiserver answers 429.
    const metrics = await eventually(
      () => getJson('/metrics'),
      (r) => r.status === 200,
      20_000,
      '/metrics 200',
    );
    expect(metrics.body).toContain(`layer_pipeline_queue_depth{namespace="${ns}",name="${name}"} 3`);

    // Update: a new generation reaches the running workflow (same workflow, not a second one).
    cr = await applyPipeline(name, { worker: { batchSize: 5 } });
    const updated = await engine.sync({ action: 'sync', kind: 'Pipeline', spec: toPipelineRuntimeSpec(cr) });
    expect(updated.condition).toMatchObject({ status: 'True', reason: 'WorkflowRunning' });
    expect(await getPipelineStatus(h.client, ref)).toMatchObject({
      generation: cr.metadata.generation,
      batchSize: 5,
    });

    // Pause and resume.
    cr = await applyPipeline(name, { worker: { batchSize: 5 }, paused: true });
    const paused = await engine.sync({ action: 'sync', kind: 'Pipeline', spec: toPipelineRuntimeSpec(cr) });
    expect(paused.condition).toMatchObject({ status: 'True', reason: 'WorkflowPaused' });
    await eventually(
      () => getPipelineStatus(h.client, ref),
      (s) => s.phase === 'paused',
      20_000,
      'phase paused',
    );
    cr = await applyPipeline(name, { worker: { batchSize: 5 }, paused: false });
    await engine.sync({ action: 'sync', kind: 'Pipeline', spec: toPipelineRuntimeSpec(cr) });
    await eventually(
      () => getPipelineStatus(h.client, ref),
      (s) => s.phase !== 'paused',
      20_000,
      'phase not paused',
    );

    // Stop (the Pipeline was deleted): the workflow ends; a second stop finds nothing running.
    expect(await engine.stop({ kind: 'Pipeline', namespace: ns, name })).toBe(true);
    await eventually(
      () => pipelineHandle(h.client, ref).describe(),
      (d) => d.status.name !== 'RUNNING',
      20_000,
      'workflow closed',
    );
    expect(await engine.stop({ kind: 'Pipeline', namespace: ns, name })).toBe(false);
  });

  it('a Pipeline CR whose workflow never started: queue depth 0, status absent; an unknown Pipeline is 404', async () => {
    await applyPipeline('idle');
    expect((await getJson(`/v1/queue-depth/pipelines/${ns}/idle`)).body).toMatchObject({ queueDepth: 0 });
    expect((await getJson(`/v1/pipelines/${ns}/idle/status`)).body).toEqual({
      kind: 'Pipeline',
      namespace: ns,
      name: 'idle',
      workflow: 'absent',
      queueDepth: 0,
    });
    expect((await getJson(`/metrics`)).body).toContain(
      `layer_pipeline_queue_depth{namespace="${ns}",name="idle"} 0`,
    );
    expect((await getJson(`/v1/queue-depth/pipelines/${ns}/missing`)).status).toBe(404);
    expect(await engine.stop({ kind: 'Pipeline', namespace: ns, name: 'idle' })).toBe(false);
  });

  it('a spec the engine refuses becomes EngineRejectedSpec (not a throw the reconcile would retry)', async () => {
    const cr = await applyPipeline('refused');
    const spec = toPipelineRuntimeSpec(cr);
    expect(await engine.sync({ action: 'sync', kind: 'Pipeline', spec })).toMatchObject({
      condition: { status: 'True', reason: 'WorkflowRunning' },
    });
    const res = await engine.sync({
      action: 'sync',
      kind: 'Pipeline',
      spec: { ...spec, targetNamespace: '' },
    });
    expect(res.condition).toMatchObject({
      type: 'WorkflowReady',
      status: 'False',
      reason: 'EngineRejectedSpec',
    });
    expect(res.condition.message).toContain('the Pipeline engine refuses this spec: spec.targetNamespace:');
    // The running workflow kept its spec.
    expect(await getPipelineStatus(h.client, { k8sNamespace: ns, name: 'refused' })).toMatchObject({
      targetNamespace: 'products',
    });
    expect(await engine.stop({ kind: 'Pipeline', namespace: ns, name: 'refused' })).toBe(true);
  });
});
