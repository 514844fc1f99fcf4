// One entry point for a worker image: reads the environment the operator sets (src/env.ts) and
// runs the right kind of worker — a pull worker on the task queue, or a push server on the port.
import { loadWorkerEnv, type WorkerSettings } from './env.js';
import { createPushServer, runFunctionWorker, type FunctionHandler } from './function-worker.js';
import { createPipelinePushServer, runPipelineWorker, type ProcessFn } from './pipeline-worker.js';
import { startTracing, stopTracing } from './observe/tracing.js';

export interface RunWorkerOptions {
  /** A Function's handler (LAYER_WORKLOAD_KIND=Function, the default). */
  handler?: FunctionHandler;
  /** A Pipeline's process function (LAYER_WORKLOAD_KIND=Pipeline). */
  process?: ProcessFn;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Stops the worker (default: SIGINT / SIGTERM). */
  signal?: AbortSignal;
  /** Called once the worker runs (push: with the port it listens on). */
  onReady?: (info: { dispatch: 'pull' | 'push'; port?: number; settings: WorkerSettings }) => void;
}

function processSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

/**
 * Runs the worker the environment describes until the signal aborts. Pull: polls the workload's
 * task queue with LAYER_WORKER_CONCURRENCY claims; push: serves `/run` (Functions) or `/process`
 * (Pipelines) on LAYER_PORT.
 *
 * @example
 * await runWorker({ handler: async (rows) => rows.map((r) => ({ id: r.id, value: tag(r.inputs.title) })) });
 */
export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const settings = loadWorkerEnv(env);
  const kind = settings.workload.kind ?? (opts.handler ? 'Function' : 'Pipeline');
  const signal = opts.signal ?? processSignal();
  if (kind === 'Function' && !opts.handler) throw new Error('a Function worker needs options.handler');
  if (kind === 'Pipeline' && !opts.process) throw new Error('a Pipeline worker needs options.process');
  // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed when the worker stops.
  const traced = await startTracing({ serviceName: 'layer-worker', env });
  try {
    await runKind(opts, kind, settings, env, signal);
  } finally {
    if (traced) await stopTracing();
  }
}

async function runKind(
  opts: RunWorkerOptions,
  kind: 'Function' | 'Pipeline',
  settings: WorkerSettings,
  env: Record<string, string | undefined>,
  signal: AbortSignal,
): Promise<void> {
  if (settings.dispatch === 'push') {
    const server =
      kind === 'Function'
        ? createPushServer(
            opts.handler!,
            settings.timeoutSeconds ? { timeoutSeconds: settings.timeoutSeconds } : {},
          )
        : createPipelinePushServer(opts.process!);
    const port = await server.listen(settings.port, '0.0.0.0');
    opts.onReady?.({ dispatch: 'push', port, settings });
    if (!signal.aborted)
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await server.close();
    return;
  }
  opts.onReady?.({ dispatch: 'pull', settings });
  if (kind === 'Function') await runFunctionWorker({ handler: opts.handler!, env, signal });
  else await runPipelineWorker({ process: opts.process!, env, signal });
}
