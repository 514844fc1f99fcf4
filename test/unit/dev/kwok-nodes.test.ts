// The kwok nodes the local cluster gets from InfraRules pools (src/dev/kwok-nodes.ts): the
// scheduler can only put a worker pod where the planner asked if the nodes carry the pools'
// labels, the taints their tolerations answer, and the GPU capacity their requests need.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmDefaultComputePools, NODE_ROLE_LABEL, NVIDIA_GPU_RESOURCE } from '../../../src/api/defaults.js';
import type { ComputePool } from '../../../src/api/infra-rules.js';
import {
  CRASH_LOOP_IMAGE,
  KWOK_NODE_ANNOTATION,
  kwokStages,
  kwokStagesYaml,
  nodeGroupsFor,
  poolNodes,
} from '../../../src/dev/kwok-nodes.js';

describe('nodeGroupsFor', () => {
  it('the stock pools make two groups: cpu and cpu-large share worker-cpu nodes, gpu has tainted GPU nodes', () => {
    const groups = nodeGroupsFor(helmDefaultComputePools());
    expect(groups).toEqual([
      { name: 'cpu', labels: { [NODE_ROLE_LABEL]: 'worker-cpu' }, taints: [], gpu: false },
      {
        name: 'gpu',
        labels: { [NODE_ROLE_LABEL]: 'worker-gpu' },
        taints: [{ key: NVIDIA_GPU_RESOURCE, effect: 'NoSchedule', value: 'present' }],
        gpu: true,
      },
    ]);
  });

  it.each<[string, ComputePool['tolerations'], { key: string; effect: string; value: string }[]]>([
    // An Equal toleration with a value is answered by a taint with that value.
    [
      'Equal keeps its value',
      [{ key: 'team', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }],
      [{ key: 'team', effect: 'NoSchedule', value: 'ml' }],
    ],
    // A toleration without key or effect tolerates everything: no taint to derive.
    ['wildcard makes no taint', [{ operator: 'Exists' }], []],
    // NoExecute would evict what kwok runs there; never derived.
    ['NoExecute is skipped', [{ key: 'x', operator: 'Exists', effect: 'NoExecute' }], []],
  ])('%s', (_why, tolerations, taints) => {
    const pool: ComputePool = {
      name: 'p',
      kind: 'cpu',
      maxReplicasPerWorkload: 1,
      nodeSelector: { role: 'p' },
      tolerations,
    };
    expect(nodeGroupsFor([pool])[0]!.taints).toEqual(taints);
  });
});

describe('poolNodes', () => {
  it('n kwok-annotated nodes per group; gpu nodes advertise nvidia.com/gpu', () => {
    const nodes = poolNodes(helmDefaultComputePools(), 2);
    expect(nodes.map((n) => n.metadata!.name)).toEqual([
      'kwok-cpu-0',
      'kwok-cpu-1',
      'kwok-gpu-0',
      'kwok-gpu-1',
    ]);
    for (const n of nodes) expect(n.metadata!.annotations![KWOK_NODE_ANNOTATION]).toBe('fake');
    expect(nodes[2]!.status!.capacity![NVIDIA_GPU_RESOURCE]).toBe('4');
    expect(nodes[0]!.status!.capacity![NVIDIA_GPU_RESOURCE]).toBeUndefined();
    // cpu-large asks for 50Gi of ephemeral storage: the cpu nodes must have it.
    expect(nodes[0]!.status!.capacity!['ephemeral-storage']).toBe('1Ti');
  });
});

describe('kwokStages', () => {
  it('defines the node and pod stages kwok needs standalone, crash-loop before ready', () => {
    const names = kwokStages().map((s) => (s.metadata as { name: string }).name);
    expect(names).toEqual(['node-initialize', 'node-heartbeat', 'pod-crash-loop', 'pod-ready', 'pod-delete']);
    expect(kwokStagesYaml()).toContain(CRASH_LOOP_IMAGE);
    // kwok --config reads one multi-document file.
    expect(parseAllDocuments(kwokStagesYaml()).map((d) => d.toJS().kind)).toEqual(Array(5).fill('Stage'));
  });
});
