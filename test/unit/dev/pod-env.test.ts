// The pod runner's environment builder (src/dev/pod-env.ts) does what a kubelet does with a
// container's env: envFrom then env in order, $(VAR) expansion, Secret/ConfigMap/field references,
// and an error naming the variable and the missing object instead of a silently empty value.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerEnvironment, expandVars, PodEnvError, type EnvLookups } from '../../../src/dev/pod-env.js';

const pod: V1Pod = {
  metadata: { name: 'w-1', namespace: 'team-a', uid: 'u1', labels: { app: 'tag' } },
  spec: { nodeName: 'kwok-gpu-0', containers: [] },
  status: { podIP: '10.0.0.7' },
};
const lookups: EnvLookups = {
  secret: (_ns, name) => (name === 'creds' ? { key: 's3cret', other: 'x' } : undefined),
  configMap: (_ns, name) => (name === 'cfg' ? { MODE: 'fast' } : undefined),
};
const env = (c: Partial<V1Container>) => containerEnvironment(pod, { name: 'worker', ...c }, lookups);

describe('containerEnvironment', () => {
  it.each<[string, Partial<V1Container>, Record<string, string>]>([
    ['plain values as written', { env: [{ name: 'A', value: '1' }] }, { A: '1' }],
    // A later entry of the same name wins, as on a node.
    [
      'later name wins',
      {
        env: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      },
      { A: '2' },
    ],
    [
      'secretKeyRef resolved',
      { env: [{ name: 'KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'key' } } }] },
      { KEY: 's3cret' },
    ],
    [
      'optional secret that is missing is left out',
      { env: [{ name: 'KEY', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }] },
      {},
    ],
    [
      'envFrom with prefix, then env overrides',
      {
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'P_' }, { secretRef: { name: 'creds' } }],
        env: [{ name: 'key', value: 'override' }],
      },
      { P_MODE: 'fast', key: 'override', other: 'x' },
    ],
    [
      '$(VAR) expands earlier variables; $$ escapes',
      {
        env: [
          { name: 'HOST', value: 'h' },
          { name: 'URL', value: 'http://$(HOST):1/$(UNKNOWN)/$$(HOST)' },
        ],
      },
      { HOST: 'h', URL: 'http://h:1/$(UNKNOWN)/$(HOST)' },
    ],
    [
      'fieldRef of name, namespace, node, pod IP, label',
      {
        env: [
          { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
      { N: 'w-1', NS: 'team-a', NODE: 'kwok-gpu-0', IP: '10.0.0.7', APP: 'tag' },
    ],
  ])('%s', (_why, container, expected) => {
    expect(env(container)).toEqual(expected);
  });

  it.each<[string, Partial<V1Container>, RegExp]>([
    [
      'missing Secret names the variable and the Secret',
      { env: [{ name: 'LAYER_API_KEY', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
      /env LAYER_API_KEY: secret "nope" not found in namespace team-a/,
    ],
    [
      'missing key names the key',
      { env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing' } } }] },
      /secret "creds" has no key "missing"/,
    ],
    [
      'missing envFrom Secret',
      { envFrom: [{ secretRef: { name: 'nope' } }] },
      /envFrom secretRef: secret "nope" not found/,
    ],
  ])('%s', (_why, container, message) => {
    expect(() => env(container)).toThrow(PodEnvError);
    expect(() => env(container)).toThrow(message);
  });

  it('expandVars leaves text without references alone', () => {
    expect(expandVars('plain $HOME text', { HOME: 'x' })).toBe('plain $HOME text');
  });
});
