// What kwok simulates in the local cluster: nodes shaped like the stock pools of InfraRules/default
// (their nodeSelector labels, a taint for every toleration a pool needs, NVIDIA GPU capacity on gpu
// pools) so kube-scheduler places a worker pod where the planner asked; and the project's own kwok
// Stages (standalone kwok ships none): nodes become Ready, a scheduled pod becomes Running and
// Ready, a pod whose image is CRASH_LOOP_IMAGE crash-loops, and a deleted pod goes away once no
// finalizer holds it (the pod runner holds one while its worker process drains). Pure data; see
// docs/adr/0085-kwok-pools-and-pod-runner.md.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { NVIDIA_GPU_RESOURCE } from '../api/defaults.js';
import type { ComputePool } from '../api/infra-rules.js';

/** Annotation that marks a node as kwok's (kwok runs with this annotation selector). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_SELECTOR = `${KWOK_NODE_ANNOTATION}=fake`;
/** A worker image that never starts: kwok's crash-loop stage matches it. */
export const CRASH_LOOP_IMAGE = 'layer.invalid/crash-loop:latest';
/** GPUs each simulated gpu node advertises. */
const GPUS_PER_NODE = 4;

/** One node group: the pools that share a nodeSelector land on the same nodes. */
export interface NodeGroup {
  /** Name prefix, from the first pool of the group. */
  name: string;
  labels: Record<string, string>;
  taints: V1Taint[];
  gpu: boolean;
}

/**
 * The node groups the pools need: one per distinct nodeSelector, tainted so that only pods with the
 * pool's tolerations land there (a toleration with a key and an effect becomes that taint).
 */
export function nodeGroupsFor(pools: ComputePool[]): NodeGroup[] {
  const groups = new Map<string, NodeGroup>();
  for (const pool of pools) {
    const labels = { ...(pool.nodeSelector ?? {}) };
    const key = JSON.stringify(Object.entries(labels).sort());
    const group = groups.get(key) ?? { name: pool.name, labels, taints: [], gpu: false };
    group.gpu ||= pool.kind === 'gpu';
    for (const t of pool.tolerations ?? []) {
      if (!t.key || !t.effect || t.effect === 'NoExecute') continue;
      if (group.taints.some((x) => x.key === t.key && x.effect === t.effect)) continue;
      group.taints.push({
        key: t.key,
        effect: t.effect,
        ...(t.operator === 'Equal' && t.value ? { value: t.value } : { value: 'present' }),
      });
    }
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** `perGroup` kwok nodes for each group, named `kwok-<group>-<i>`. */
export function poolNodes(pools: ComputePool[], perGroup = 2): V1Node[] {
  return nodeGroupsFor(pools).flatMap((g) =>
    Array.from({ length: perGroup }, (_, i) => {
      const capacity: Record<string, string> = {
        cpu: '32',
        memory: '128Gi',
        'ephemeral-storage': '1Ti',
        pods: '110',
        ...(g.gpu ? { [NVIDIA_GPU_RESOURCE]: String(GPUS_PER_NODE) } : {}),
      };
      const node: V1Node = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: `kwok-${g.name}-${i}`,
          annotations: { [KWOK_NODE_ANNOTATION]: 'fake' },
          labels: {
            ...g.labels,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/hostname': `kwok-${g.name}-${i}`,
            type: 'kwok',
          },
        },
        spec: g.taints.length > 0 ? { taints: g.taints.map((t) => ({ ...t })) } : {},
        status: { capacity, allocatable: { ...capacity } },
      };
      return node;
    }),
  );
}

const notDeleting = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };

/** The kwok Stage objects (kwok.x-k8s.io/v1alpha1), as a multi-document YAML for `kwok --config`. */
export function kwokStages(): Record<string, unknown>[] {
  const stage = (name: string, kind: 'Node' | 'Pod', spec: Record<string, unknown>) => ({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: { resourceRef: { apiGroup: 'v1', kind }, ...spec },
  });
  const nodeConditions = `conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}`;
  return [
    stage('node-initialize', 'Node', {
      selector: {
        matchExpressions: [
          {
            key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
            operator: 'NotIn',
            values: ['True'],
          },
        ],
      },
      next: {
        statusTemplate: `{{ $now := Now }}
${nodeConditions}
addresses:
{{ with NodeIP }}
- address: {{ . | Quote }}
  type: InternalIP
{{ end }}
{{ with NodeName }}
- address: {{ . | Quote }}
  type: Hostname
{{ end }}
allocatable:
{{ YAML .status.allocatable 1 }}
capacity:
{{ YAML .status.capacity 1 }}
nodeInfo:
  architecture: amd64
  kubeletVersion: kwok
  operatingSystem: linux
phase: Running
`,
      },
    }),
    stage('node-heartbeat', 'Node', {
      // kwok renews the node Lease itself; the Ready condition's heartbeat is refreshed here.
      selector: {
        matchExpressions: [
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          {
            key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
            operator: 'In',
            values: ['True'],
          },
        ],
      },
      delay: { durationMilliseconds: 20_000, jitterDurationMilliseconds: 25_000 },
      next: { statusTemplate: `{{ $now := Now }}\n${nodeConditions}\n` },
    }),
    stage('pod-crash-loop', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleting,
          { key: '.spec.containers.[].image', operator: 'In', values: [CRASH_LOOP_IMAGE] },
          {
            key: '.status.containerStatuses.[].state.waiting.reason',
            operator: 'NotIn',
            values: ['CrashLoopBackOff'],
          },
        ],
      },
      weight: 10,
      next: {
        statusTemplate: `{{ $now := Now }}
${podConditions(false)}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 5
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: back-off restarting failed container
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`,
      },
    }),
    stage('pod-ready', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleting,
          { key: '.status.phase', operator: 'In', values: ['Pending'] },
          { key: '.spec.containers.[].image', operator: 'NotIn', values: [CRASH_LOOP_IMAGE] },
        ],
      },
      weight: 1,
      next: {
        statusTemplate: `{{ $now := Now }}
${podConditions(true)}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ with NodeIPWith .spec.nodeName }}
hostIP: {{ . | Quote }}
{{ end }}
{{ with PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ . | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`,
      },
    }),
    stage('pod-delete', 'Pod', {
      // A pod whose worker process is still draining keeps the pod runner's finalizer; kwok deletes
      // it only once that is gone, as a kubelet does once the container has exited.
      selector: {
        matchExpressions: [
          { key: '.metadata.deletionTimestamp', operator: 'Exists' },
          { key: '.metadata.finalizers', operator: 'DoesNotExist' },
        ],
      },
      next: { delete: true },
    }),
  ];
}

/** The Pod conditions a kubelet writes: initialized and scheduled, Ready and ContainersReady as `ready` says. */
function podConditions(ready: boolean): string {
  const condition = (type: string, ok: boolean) =>
    `- lastTransitionTime: {{ $now | Quote }}\n  status: "${ok ? 'True' : 'False'}"\n` +
    `${ok ? '' : '  reason: ContainersNotReady\n'}  type: ${type}`;
  const types: [string, boolean][] = [
    ['Initialized', true],
    ['PodScheduled', true],
    ['Ready', ready],
    ['ContainersReady', ready],
  ];
  return ['conditions:', ...types.map(([type, ok]) => condition(type, ok))].join('\n');
}

/** kwokStages() as the YAML file kwok reads with --config. */
export function kwokStagesYaml(): string {
  return kwokStages()
    .map((s) => stringify(s))
    .join('---\n');
}
