// Keep-alive connections to the apiserver. @kubernetes/client-node 1.x builds a new https.Agent
// for every request (KubeConfig.createAgent), so every call pays a TLS handshake and parses the
// CA, client certificate and key into a new SecureContext: profiled at a quarter of the
// operator's CPU during a burst of reconciles (bench:operator --functions). One agent per distinct
// set of TLS options, with keep-alive, reuses connections; a rotated certificate (different
// bytes) gets a new agent. Proxies keep the library's own agents.
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

/** Agents kept at most (distinct TLS option sets); a process normally has one or two. */
const MAX_AGENTS = 16;

/**
 * Makes `kc` reuse keep-alive HTTPS agents for every API client made from it afterwards.
 * Returns the same KubeConfig.
 *
 * @example
 * const kc = withKeepAlive(loadedKubeConfig);
 * const core = kc.makeApiClient(CoreV1Api); // requests share connections
 */
export function withKeepAlive(kc: KubeConfig): KubeConfig {
  // createAgent is private in the library's types; test/unit/operator/kube-keep-alive.test.ts
  // fails if a release renames it, rather than connections silently going back to one per call.
  const patchable = kc as unknown as { createAgent?: CreateAgent };
  if (typeof patchable.createAgent !== 'function') return kc;
  const original = patchable.createAgent.bind(kc);
  const agents = new Map<string, HttpsAgent>();
  patchable.createAgent = (cluster, agentOptions) => {
    if (cluster?.proxyUrl || !cluster?.server?.startsWith('https:')) return original(cluster, agentOptions);
    const key = optionsKey(cluster.server, agentOptions);
    let agent = agents.get(key);
    if (!agent) {
      if (agents.size >= MAX_AGENTS) {
        for (const a of agents.values()) a.destroy();
        agents.clear();
      }
      agent = new HttpsAgent({ ...agentOptions, keepAlive: true, keepAliveMsecs: 15_000 });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

type CreateAgent = (
  cluster: { server?: string; proxyUrl?: string } | null,
  agentOptions: AgentOptions,
) => unknown;

function optionsKey(server: string, o: AgentOptions): string {
  const h = createHash('sha256');
  h.update(server);
  for (const field of [
    'ca',
    'cert',
    'key',
    'pfx',
    'passphrase',
    'servername',
    'rejectUnauthorized',
  ] as const) {
    const v = o[field as keyof AgentOptions];
    h.update(`\0${field}=`);
    if (v !== undefined) h.update(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v));
  }
  return h.digest('hex');
}
