// HttpApiDeps over the real cluster and Temporal: Functions and Pipelines from their CRs, status
// from the Function and Pipeline engines' client APIs, inbound auth from the default VectorStore.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { GROUP, VERSION } from '../api/group.js';
import { WORKER_DEFAULTS } from '../api/workload.js';
import {
  discoverFunctionNow,
  functionHandle,
  getFunctionQueueDepth,
  getFunctionStatus,
  replayFunctionDeadLetters,
} from '../client/function-client.js';
import { getPipelineQueueDepth, getPipelineStatus, pipelineHandle } from '../client/pipeline-client.js';
import { readEngineSummary } from '../client/engine-summary.js';
import { createStatusCache } from '../client/status-cache.js';
import { processMetricsText } from '../observe/index.js';
import type { HttpApiDeps } from './http-api.js';
import { createKubeInboundAuthResolver, type ResolvedInboundAuth } from './inbound-auth.js';

interface RawWorkload {
  metadata?: { name?: string; namespace?: string };
  spec?: { worker?: { batchSize?: number } };
}

/**
 * @example
 * const api = createHttpApi(createOperatorApiDeps({ kubeConfig, client, vectorStore: { namespace: 'layer', name: 'default' }, ready: () => watcher.synced() }));
 */
export function createOperatorApiDeps(opts: {
  kubeConfig: KubeConfig;
  client: Client;
  /** The VectorStore whose inboundAuth guards the API; absent: open (development only). */
  vectorStore?: { namespace: string; name: string };
  ready: () => boolean;
  auth?: () => Promise<ResolvedInboundAuth>;
  log?: HttpApiDeps['log'];
  /** Appended to /metrics (default: this process's registry and the Temporal SDK's metrics). */
  processMetrics?: HttpApiDeps['processMetrics'];
}): HttpApiDeps {
  const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const get = async (plural: string, namespace: string, name: string): Promise<RawWorkload | undefined> => {
    try {
      return (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural,
        namespace,
        name,
      })) as RawWorkload;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const list = async (plural: string): Promise<RawWorkload[]> =>
    (
      (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as {
        items?: RawWorkload[];
      }
    ).items ?? [];
  const key = (w: RawWorkload) => ({
    namespace: w.metadata?.namespace ?? 'default',
    name: w.metadata?.name ?? '',
  });
  const batchSize = (w: RawWorkload) => w.spec?.worker?.batchSize ?? WORKER_DEFAULTS.batchSize;
  const ref = (namespace: string, name: string) => ({ k8sNamespace: namespace, name });

  // /metrics: an idle workload's last status while its memo summary is unchanged (ADR 0127).
  const functionMetricsStatus = createStatusCache({
    summary: (ns, name) => readEngineSummary(functionHandle(opts.client, ref(ns, name))),
    query: (ns, name) => getFunctionStatus(opts.client, ref(ns, name)),
  });
  const pipelineMetricsStatus = createStatusCache({
    summary: (ns, name) => readEngineSummary(pipelineHandle(opts.client, ref(ns, name))),
    query: (ns, name) => getPipelineStatus(opts.client, ref(ns, name)),
  });

  return {
    auth:
      opts.auth ??
      (opts.vectorStore
        ? createKubeInboundAuthResolver({ kubeConfig: opts.kubeConfig, vectorStore: opts.vectorStore })
        : async () => ({ mode: 'open' as const })),
    ready: opts.ready,
    processMetrics: opts.processMetrics ?? processMetricsText,
    ...(opts.log ? { log: opts.log } : {}),
    functions: {
      list: async () => (await list('functions')).map((f) => ({ ...key(f), batchSize: batchSize(f) })),
      lookup: async (ns, name) => {
        const f = await get('functions', ns, name);
        return f ? { batchSize: batchSize(f) } : undefined;
      },
      status: async (ns, name) => {
        try {
          return await getFunctionStatus(opts.client, ref(ns, name));
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }
      },
      queueDepth: (ns, name, size) => getFunctionQueueDepth(opts.client, ref(ns, name), size),
      metricsStatus: functionMetricsStatus,
      discoverNow: (ns, name) => discoverFunctionNow(opts.client, ref(ns, name)),
      replayDeadLetters: (ns, name) => replayFunctionDeadLetters(opts.client, ref(ns, name)),
    },
    pipelines: {
      list: async () => (await list('pipelines')).map(key),
      exists: async (ns, name) => (await get('pipelines', ns, name)) !== undefined,
      queueDepth: (ns, name) => getPipelineQueueDepth(opts.client, ref(ns, name)),
      metricsStatus: pipelineMetricsStatus,
      status: async (ns, name) => {
        try {
          return await getPipelineStatus(opts.client, ref(ns, name));
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }
      },
    },
  };
}
