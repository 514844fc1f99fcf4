// OpenTelemetry tracing for the orchestrator and for workers, off unless asked for: with neither
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set nor a span processor passed in (tests), startTracing
// loads no SDK, the Temporal clients and workers get no interceptors and withSpan calls its
// function directly — nothing is paid for tracing nobody collects. When on, one tracer provider
// per process (AsyncLocalStorage context, W3C trace context propagation) receives the spans of
// the Temporal interceptors (client, workflow via sinks, activity) and our own: the operator's
// reaction to a CR change, a Function handler call (pull: inside the claim activity; push:
// under the traceparent header of the /run POST). See docs/adr/0064-tracing.md.
import { context, propagation, trace, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** What the Temporal interceptor package gives a client and a worker, built once tracing is on. */
interface TracingState {
  serviceName: string;
  shutdown(): Promise<void>;
  clientInterceptors: { workflow: object[] };
  activityInterceptors: ((ctx: never) => object)[];
  /** The workflow sandbox's span sink: workflow spans cross the isolate boundary through it. */
  sinks: Record<string, unknown>;
}

let state: TracingState | undefined;

/** The OTLP endpoint variables the OpenTelemetry exporters read (the traces one wins). */
export const OTLP_ENDPOINT_ENV = [
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

/** Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none') return false;
  return OTLP_ENDPOINT_ENV.some((name) => (env[name] ?? '').trim() !== '');
}

/**
 * Where spans are POSTed, per the OTLP exporter spec: the traces endpoint as given, else the
 * base endpoint + /v1/traces.
 */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

export interface StartTracingOptions {
  /** service.name of every span this process exports (OTEL_SERVICE_NAME wins). */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  /** Tests: collect spans here (e.g. a SimpleSpanProcessor over an InMemorySpanExporter). */
  spanProcessor?: SpanProcessor;
}

/**
 * Turns tracing on for this process when the environment (or a test) asks for it; returns
 * whether it is on. Call once, before creating Temporal clients, bundles and workers. The OTLP
 * exporter (http/protobuf) reads the standard OTEL_EXPORTER_OTLP_* variables itself.
 */
export async function startTracing(opts: StartTracingOptions): Promise<boolean> {
  if (state) return true;
  const env = opts.env ?? process.env;
  if (!opts.spanProcessor && !tracingRequested(env)) return false;
  const [sdk, resources, asyncHooks, temporalOtel] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  let processor = opts.spanProcessor;
  if (!processor) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    processor = new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(env) }));
  }
  const serviceName = env.OTEL_SERVICE_NAME || opts.serviceName;
  const resource = resources.Resource.default().merge(
    new resources.Resource({ 'service.name': serviceName }),
  );
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [processor] });
  // Sets the global tracer provider, the AsyncLocalStorage context (spans follow awaits) and the
  // W3C traceparent propagator the Temporal headers and the push POST carry.
  provider.register({ contextManager: new asyncHooks.AsyncLocalStorageContextManager() });
  state = {
    serviceName,
    shutdown: () => provider.shutdown(),
    clientInterceptors: { workflow: [new temporalOtel.OpenTelemetryWorkflowClientInterceptor()] },
    activityInterceptors: [
      (ctx: never) => ({
        inbound: new temporalOtel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new temporalOtel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: temporalOtel.makeWorkflowExporter(processor, resource) },
  };
  return true;
}

export function tracingEnabled(): boolean {
  return state !== undefined;
}

/** Flushes and stops the exporter (on shutdown, so the last spans are not lost). */
export async function stopTracing(): Promise<void> {
  const s = state;
  state = undefined;
  await s?.shutdown();
  // A later startTracing (tests) registers a fresh provider.
  trace.disable();
  context.disable();
  propagation.disable();
}

/** Client options: the interceptor that opens a span per call and passes it in the headers. */
export function tracingClientOptions(): { interceptors?: { workflow: never[] } } {
  return state ? { interceptors: { workflow: state.clientInterceptors.workflow as never[] } } : {};
}

/**
 * Worker options: with tracing on, each activity runs in a span under the workflow span that
 * scheduled it; a worker that runs workflows also gets the sink workflow spans leave the sandbox
 * through (the bundle carries the workflow interceptors).
 */
export function tracingWorkerOptions(opts: { workflows: boolean }): {
  interceptors?: { activity: never[] };
  sinks?: never;
} {
  // Workflow runs started traced export their spans through this sink even in a process with
  // tracing off (they decide once per run, docs/adr/0064): there the spans are dropped.
  const sinks = opts.workflows ? { sinks: (state?.sinks ?? DROP_WORKFLOW_SPANS) as never } : {};
  if (!state) return sinks;
  return { interceptors: { activity: state.activityInterceptors as never[] }, ...sinks };
}

const DROP_WORKFLOW_SPANS = { exporter: { export: { fn: () => undefined } } };

/**
 * Runs `fn` inside a new span (a child of the active one, or of `parentHeaders` when they carry
 * a traceparent); the span records a thrown error. Without tracing: just `fn()`.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  parentHeaders?: Record<string, string | string[] | undefined>,
): Promise<T> {
  if (!state) return fn();
  const parent = parentHeaders ? propagation.extract(context.active(), parentHeaders) : context.active();
  return trace.getTracer('@hevlayer/worker').startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      const result = await fn();
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      if (err instanceof Error) span.recordException(err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C trace headers (traceparent, tracestate) of the active span; {} without tracing. */
export function traceHeaders(): Record<string, string> {
  if (!state) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
