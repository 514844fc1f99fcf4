// The orchestrator HTTP API (node:http): health, readiness, Prometheus metrics, the queue-depth
// route KEDA's metrics-api trigger polls (docs/adr/0003-keda-metrics-api-contract.md), and
// Function / Pipeline status. Every /v1 route and /metrics is authenticated per the VectorStore's
// inbound auth; refusals are 401/403 with a fixed body that leaks nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listening } from '../../packages/worker/src/http-listen.js';
import type { FunctionStatus } from '../contracts/function.js';
import {
  functionStatusDepth,
  pipelineQueueDepth,
  queueDepthMetric,
  type QueueDepthResponse,
} from '../contracts/queue-depth.js';
import { type PipelineStatus } from '../contracts/pipeline.js';
import { type WorkloadKind } from '../../packages/worker/src/contracts/names.js';
import { renderFamilies, workloadFamilies } from '../observe/workload-metrics.js';
import { authorize, type ResolvedInboundAuth, type Scope } from './inbound-auth.js';

export interface WorkloadKey {
  namespace: string;
  name: string;
}

export interface HttpApiDeps {
  /** Current inbound auth (resolved from the VectorStore; see createKubeInboundAuthResolver). */
  auth: () => Promise<ResolvedInboundAuth>;
  /** Readiness: the watcher synced and Temporal reachable. */
  ready: () => boolean;
  functions: {
    /** Known Functions with their batch size (from the CRs). */
    list(): Promise<(WorkloadKey & { batchSize: number })[]>;
    /** The Function's batch size, or undefined when no such Function exists. */
    lookup(namespace: string, name: string): Promise<{ batchSize: number } | undefined>;
    /** The engine's status, or undefined when its workflow is not running. */
    status(namespace: string, name: string): Promise<FunctionStatus | undefined>;
    /**
     * Queue depth KEDA scales on (function-client `getFunctionQueueDepth`: the workflow's memo, no
     * workflow task; docs/adr/0127): 0 when no workflow runs.
     */
    queueDepth(namespace: string, name: string, batchSize: number): Promise<number>;
    /** The status /metrics reads: an idle workload's last one while its memo is unchanged (default: status). */
    metricsStatus?(namespace: string, name: string): Promise<FunctionStatus | undefined>;
    /** Write scope: start a discovery pass now. */
    discoverNow(namespace: string, name: string): Promise<void>;
    /** Admin scope: clear dead letters so their rows are retried. */
    replayDeadLetters(namespace: string, name: string): Promise<number>;
  };
  pipelines: {
    list(): Promise<WorkloadKey[]>;
    exists(namespace: string, name: string): Promise<boolean>;
    /** Queue depth KEDA scales on (pipeline-client `getPipelineQueueDepth`, as for Functions): 0 when no workflow runs. */
    queueDepth(namespace: string, name: string): Promise<number>;
    /** The engine's status, or undefined when its workflow is not running. */
    status(namespace: string, name: string): Promise<PipelineStatus | undefined>;
    /** As for Functions. */
    metricsStatus?(namespace: string, name: string): Promise<PipelineStatus | undefined>;
  };
  log?: (line: string, fields?: Record<string, unknown>) => void;
  /** This process's own metrics and the Temporal SDK's, appended to /metrics (src/observe). */
  processMetrics?: () => Promise<string>;
  /**
   * How long one workload's status query may take inside /metrics (default 2 s). A workflow with
   * no worker answering would otherwise hold the whole scrape; its sample is left out instead.
   */
  statusTimeoutMs?: number;
}

export interface HttpApi {
  server: Server;
  /** Listen (port 0: any free port); resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

const NOT_FOUND = new HttpError(404, 'not found');

type Handler = (
  m: string[],
  deps: HttpApiDeps,
) => Promise<{ status?: number; json?: unknown; text?: string }>;
interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  scope: Scope | 'none';
  handle: Handler;
}

const SEG = '([^/]+)';

async function functionQueueDepth(deps: HttpApiDeps, ns: string, name: string): Promise<number> {
  const fn = await deps.functions.lookup(ns, name);
  if (fn === undefined) throw NOT_FOUND;
  return deps.functions.queueDepth(ns, name, fn.batchSize);
}

function depthBody(
  kind: WorkloadKind,
  namespace: string,
  name: string,
  queueDepth: number,
): QueueDepthResponse {
  return { queueDepth, metric: queueDepthMetric(kind), kind, namespace, name };
}

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/healthz$/, scope: 'none', handle: async () => ({ text: 'ok\n' }) },
  {
    method: 'GET',
    pattern: /^\/readyz$/,
    scope: 'none',
    handle: async (_m, deps) => (deps.ready() ? { text: 'ready\n' } : { status: 503, text: 'not ready\n' }),
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    scope: 'read',
    handle: async (_m, deps) => ({ text: await metricsText(deps) }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/queue-depth/functions/${SEG}/${SEG}$`),
    scope: 'read',
    handle: async ([ns, name], deps) => ({
      json: depthBody('Function', ns!, name!, await functionQueueDepth(deps, ns!, name!)),
    }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/queue-depth/pipelines/${SEG}/${SEG}$`),
    scope: 'read',
    handle: async ([ns, name], deps) => {
      if (!(await deps.pipelines.exists(ns!, name!))) throw NOT_FOUND;
      return { json: depthBody('Pipeline', ns!, name!, await deps.pipelines.queueDepth(ns!, name!)) };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/functions/${SEG}/${SEG}/status$`),
    scope: 'read',
    handle: async ([ns, name], deps) => {
      const fn = await deps.functions.lookup(ns!, name!);
      if (fn === undefined) throw NOT_FOUND;
      const status = await deps.functions.status(ns!, name!);
      return {
        json: {
          kind: 'Function',
          namespace: ns,
          name,
          workflow: status ? 'running' : 'absent',
          queueDepth: status ? functionStatusDepth(status, fn.batchSize) : 0,
          ...(status ? { status } : {}),
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/pipelines/${SEG}/${SEG}/status$`),
    scope: 'read',
    handle: async ([ns, name], deps) => {
      if (!(await deps.pipelines.exists(ns!, name!))) throw NOT_FOUND;
      const status = await deps.pipelines.status(ns!, name!);
      return {
        json: {
          kind: 'Pipeline',
          namespace: ns,
          name,
          workflow: status ? 'running' : 'absent',
          // The same pure computation getPipelineQueueDepth applies, on the status already read.
          queueDepth: status ? pipelineQueueDepth(status) : 0,
          ...(status ? { status } : {}),
        },
      };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/functions/${SEG}/${SEG}/discover$`),
    scope: 'write',
    handle: async ([ns, name], deps) => {
      if ((await deps.functions.lookup(ns!, name!)) === undefined) throw NOT_FOUND;
      await deps.functions.discoverNow(ns!, name!);
      return { status: 202, json: { accepted: true } };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/functions/${SEG}/${SEG}/replay-dead-letters$`),
    scope: 'admin',
    handle: async ([ns, name], deps) => {
      if ((await deps.functions.lookup(ns!, name!)) === undefined) throw NOT_FOUND;
      return { json: { cleared: await deps.functions.replayDeadLetters(ns!, name!) } };
    },
  },
];

/**
 * Prometheus text exposition (format 0.0.4): the workload families read from each workflow's status
 * (queue depth, rows processed, failures…; src/observe/workload-metrics.ts), then this process's
 * own metrics and the Temporal SDK's (deps.processMetrics).
 */
async function metricsText(deps: HttpApiDeps): Promise<string> {
  const timeoutMs = deps.statusTimeoutMs ?? 2_000;
  const [functions, pipelines] = await Promise.all([deps.functions.list(), deps.pipelines.list()]);
  // Every workload at once (a bounded number in flight), each query bounded: one workflow whose
  // worker is gone cannot stall the scrape for all the others. An idle workload's status comes
  // from the last scrape while its memo summary is unchanged (src/client/status-cache.ts).
  const functionStatuses = await mapLimited(functions, 16, async (f) => ({
    ...f,
    status: await withTimeout(
      (deps.functions.metricsStatus ?? deps.functions.status)(f.namespace, f.name),
      timeoutMs,
    ).then(
      (s) => s ?? null,
      () => undefined,
    ),
  }));
  const pipelineStatuses = await mapLimited(pipelines, 16, async (p) => ({
    ...p,
    status: await withTimeout(
      (deps.pipelines.metricsStatus ?? deps.pipelines.status)(p.namespace, p.name),
      timeoutMs,
    ).then(
      (s) => s ?? null,
      () => undefined,
    ),
  }));
  const own = await (deps.processMetrics?.() ?? Promise.resolve('')).catch(() => '');
  return renderFamilies(workloadFamilies(functionStatuses, pipelineStatuses)) + own;
}

/** The promise's value, or a rejection after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function send(
  res: ServerResponse,
  status: number,
  body: { json?: unknown; text?: string },
  headers: Record<string, string> = {},
): void {
  const isJson = body.json !== undefined;
  const payload = isJson ? JSON.stringify(body.json) : (body.text ?? '');
  res.writeHead(status, {
    'content-type': isJson
      ? 'application/json'
      : status === 200 && body.text?.startsWith('# HELP')
        ? 'text/plain; version=0.0.4'
        : 'text/plain',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** A malformed `%`-escape in a path parameter is the caller's mistake: 400, not a 500. */
function decodePathParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(
      400,
      `malformed percent-escape in path segment ${JSON.stringify(segment.slice(0, 80))}; encode names with encodeURIComponent`,
    );
  }
}

async function handle(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const candidates = ROUTES.filter((r) => r.pattern.test(path));
  if (candidates.length === 0) return send(res, 404, { json: { error: 'not found' } });
  const route = candidates.find((r) => r.method === req.method);
  if (route === undefined)
    return send(
      res,
      405,
      { json: { error: 'method not allowed' } },
      { allow: candidates.map((r) => r.method).join(', ') },
    );
  if (route.scope !== 'none') {
    const decision = authorize(await deps.auth(), req.headers.authorization, route.scope);
    if (!decision.ok) {
      return decision.status === 401
        ? send(res, 401, { json: { error: 'unauthorized' } }, { 'www-authenticate': 'Bearer' })
        : send(res, 403, { json: { error: 'forbidden' } });
    }
  }
  const m = (route.pattern.exec(path) ?? []).slice(1).map(decodePathParam);
  const out = await route.handle(m, deps);
  send(res, out.status ?? 200, out);
}

/**
 * @example
 * const api = createHttpApi(deps);
 * const url = await api.listen(8080, '0.0.0.0');
 */
export function createHttpApi(deps: HttpApiDeps): HttpApi {
  const log = deps.log ?? (() => undefined);
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { json: { error: err.body } });
      log('http api request failed', { path: req.url, error: String(err) });
      if (!res.headersSent) send(res, 500, { json: { error: 'internal error' } });
      else res.end();
    });
  });
  const { listen } = listening(server);
  return {
    server,
    listen: async (port = 0, host = '127.0.0.1') =>
      `http://${host.includes(':') ? `[${host}]` : host}:${await listen(port, host)}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
