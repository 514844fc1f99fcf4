// The InfraRules/default the Helm chart renders with operator.infraRules.create=true
// (install.md "Default InfraRules", operator-overview.md "Scheduling and node pools").
// `layer render` uses it when no InfraRules is given, so a render shows what a stock install does.
import { API_VERSION, INFRA_RULES_NAME } from './group.js';
import type { InfraRules, ComputePool } from './infra-rules.js';
import type { Toleration } from './common.js';

/** Node label the chart's workerKarpenter NodePools set; stock pools select on it. */
export const NODE_ROLE_LABEL = 'layer.hev.dev/node-role';
/** Extended resource the NVIDIA device plugin advertises. */
export const NVIDIA_GPU_RESOURCE = 'nvidia.com/gpu';
/** The standard NVIDIA toleration: GPU nodes carry a `nvidia.com/gpu:NoSchedule` taint. */
export const NVIDIA_TOLERATION: Toleration = {
  key: NVIDIA_GPU_RESOURCE,
  operator: 'Exists',
  effect: 'NoSchedule',
};

/** Pool names Helm installs; `worker.computeClass` maps to the first and last. */
export const STOCK_POOL = { cpu: 'cpu', cpuLarge: 'cpu-large', gpu: 'gpu' } as const;

/** The stock pools. Sizes are conservative starting points; installs tune them in Helm values. */
export function helmDefaultComputePools(): ComputePool[] {
  return [
    {
      name: STOCK_POOL.cpu,
      kind: 'cpu',
      maxReplicasPerWorkload: 20,
      nodeSelector: { [NODE_ROLE_LABEL]: 'worker-cpu' },
      tolerations: [],
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    },
    {
      // Same nodes as cpu, but with local ephemeral-storage headroom for per-pod source caches.
      name: STOCK_POOL.cpuLarge,
      kind: 'cpu',
      maxReplicasPerWorkload: 10,
      nodeSelector: { [NODE_ROLE_LABEL]: 'worker-cpu' },
      tolerations: [],
      resources: {
        requests: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '50Gi' },
        limits: { memory: '8Gi', 'ephemeral-storage': '100Gi' },
      },
    },
    {
      name: STOCK_POOL.gpu,
      kind: 'gpu',
      maxReplicasPerWorkload: 4,
      nodeSelector: { [NODE_ROLE_LABEL]: 'worker-gpu' },
      tolerations: [{ ...NVIDIA_TOLERATION }],
      resources: {
        requests: { cpu: '2', memory: '8Gi', [NVIDIA_GPU_RESOURCE]: '1' },
        limits: { memory: '16Gi', [NVIDIA_GPU_RESOURCE]: '1' },
      },
    },
  ];
}

/** InfraRules/default as Helm renders it (a fresh object each call). */
export function helmDefaultInfraRules(): InfraRules {
  return {
    apiVersion: API_VERSION,
    kind: 'InfraRules',
    metadata: { name: INFRA_RULES_NAME },
    spec: { computePools: helmDefaultComputePools() },
  };
}
