// `layer operator` hands its configuration to the operator's activities: the settings it renders
// into worker pods, the task queue its engines start workload workflows on (the one its Worker
// polls), and the VectorStore that decides the worker bearer. Before, none of these reached them.
import { describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { operatorWorkerDeps } from '../../../src/cli/roles.js';
import { loadConfig } from '../../../src/config.js';
import { inNamespaces } from '../../../src/cli/commands/operator.js';

describe('operatorWorkerDeps', () => {
  const kubeConfig = new KubeConfig();
  const client = {} as Client;

  it('passes the configured task queue, worker addresses and VectorStore', () => {
    const config = loadConfig(
      {
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_NAMESPACE: 'prod',
        LAYER_ORCHESTRATOR_TASK_QUEUE: 'layer-orchestrator-prod',
        LAYER_WORKER_STORE_URL: 'http://layer-gateway.prod.svc:8080',
        LAYER_VECTOR_STORE: 'layer/default',
      },
      { devState: null },
    );
    const deps = operatorWorkerDeps(config, kubeConfig, client);
    expect(deps.taskQueue).toBe('layer-orchestrator-prod');
    expect(deps.settings).toMatchObject({
      temporal: { address: 'temporal.internal:7233', namespace: 'prod' },
      storeUrl: 'http://layer-gateway.prod.svc:8080',
    });
    expect(deps.defaultVectorStore).toEqual({ namespace: 'layer', name: 'default' });
    expect(deps.kubeConfig).toBe(kubeConfig);
    expect(deps.client).toBe(client);
  });

  it('without LAYER_VECTOR_STORE names no default VectorStore', () => {
    const deps = operatorWorkerDeps(loadConfig({}, { devState: null }), kubeConfig, client);
    expect(deps).not.toHaveProperty('defaultVectorStore');
    expect(deps.taskQueue).toBe('layer-orchestrator');
  });
});

describe('inNamespaces (LAYER_WATCH_NAMESPACES)', () => {
  const only = inNamespaces(['layer', 'team-a']);
  it.each([
    // A resource in a listed namespace is reconciled.
    [{ namespace: 'layer' }, true],
    [{ namespace: 'team-a' }, true],
    // Another team's namespace is another operator's.
    [{ namespace: 'team-b' }, false],
    // Cluster-scoped (InfraRules/default) belongs to the cluster-wide operator.
    [{}, false],
  ])('%j → %s', (ref, want) => {
    expect(only(ref)).toBe(want);
  });
});
