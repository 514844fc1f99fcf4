// The operator's KubeConfig hands every request of a cluster the same keep-alive agent (the
// library makes a new agent, hence a new TLS handshake, per request), and a new one when the TLS
// material changes.
import { KubeConfig } from '@kubernetes/client-node';
import type { Agent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { withKeepAlive } from '../../../src/operator/kube-keep-alive.js';

function kubeConfig(server: string, token = 't'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: Buffer.from('not a real CA').toString('base64') }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function agentOf(kc: KubeConfig): Promise<Agent> {
  const opts: { agent?: Agent } = {};
  await kc.applyToHTTPSOptions(opts as never);
  return opts.agent!;
}

describe('withKeepAlive', () => {
  it('the library alone makes a new agent per request (why this exists)', async () => {
    const kc = kubeConfig('https://127.0.0.1:6443');
    expect(await agentOf(kc)).not.toBe(await agentOf(kc));
  });

  it('reuses one keep-alive agent per cluster and TLS material', async () => {
    const kc = withKeepAlive(kubeConfig('https://127.0.0.1:6443'));
    const a = await agentOf(kc);
    expect(await agentOf(kc)).toBe(a);
    expect((a as Agent & { keepAlive?: boolean }).keepAlive).toBe(true);
  });

  it('a rotated CA gets a new agent; tokens (headers) do not matter', async () => {
    const kc = withKeepAlive(kubeConfig('https://127.0.0.1:6443'));
    const a = await agentOf(kc);
    kc.clusters[0] = { ...kc.clusters[0]!, caData: Buffer.from('another CA').toString('base64') };
    expect(await agentOf(kc)).not.toBe(a);
  });
});
