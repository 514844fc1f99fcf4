// Workflow interceptors (bundled with every orchestrator bundle, not a workflow): the
// OpenTelemetry interceptors, but only for runs that were started traced. A run is traced when
// its start carried a trace context (the client had tracing on); that fact is in the run's first
// event, so every replay of the run decides the same way whether or not the replaying process
// has tracing on. Turning tracing on or off therefore never changes how a running workflow
// replays: the plain OpenTelemetry interceptors, added to a bundle, change the order in which
// recorded runs make their commands (a recorded pipeline run fails to replay with them). An
// untraced run goes straight to `next` (no await, so no extra microtask turn). See
// docs/adr/0064-tracing.md.
//
// The OpenTelemetry modules (some 120 of them) are loaded by the first traced call of a run, not
// imported: a Worker gives every cached workflow its own instance of each module the bundle loads
// after start-up, and most runs are untraced (docs/adr/0114).
// Loading them is what patches the sandbox for OpenTelemetry (its runtime module defines
// `performance` and `window`); no Layer workflow reads either, so an untraced run behaves alike.
import type * as OtelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the OpenTelemetry client interceptor puts the caller's trace context in. */
export const TRACE_HEADER = '_tracer-data';

/**
 * The OpenTelemetry workflow interceptors' module, evaluated on the first call in this workflow.
 * A CommonJS require on purpose: webpack puts the module in the bundle and evaluates it only
 * here, synchronously (an `import()` would resolve a microtask later and change when a traced
 * run's first command is made).
 */
function loadOpenTelemetry(): typeof OtelWorkflow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
  return require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof OtelWorkflow;
}

export const interceptors = (): WorkflowInterceptors => {
  // One closure per workflow run: the decision and the OpenTelemetry interceptors are its own.
  let traced = false;
  let otel:
    | {
        inbound: OtelWorkflow.OpenTelemetryInboundInterceptor;
        outbound: OtelWorkflow.OpenTelemetryOutboundInterceptor;
        internals: OtelWorkflow.OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  // Built on first use in a traced run: an untraced run never loads OpenTelemetry.
  const o = () => {
    if (otel) return otel;
    const m = loadOpenTelemetry();
    otel = {
      inbound: new m.OpenTelemetryInboundInterceptor(),
      outbound: new m.OpenTelemetryOutboundInterceptor(),
      internals: new m.OpenTelemetryInternalsInterceptor(),
    };
    return otel;
  };

  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      // The first call of a run: signals, updates and queries are handled only after it.
      traced = input.headers[TRACE_HEADER] !== undefined;
      return traced ? o().inbound.execute(input, next) : next(input);
    },
    handleSignal: (input, next) => (traced ? o().inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (traced ? o().inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) => (traced ? o().inbound.validateUpdate(input, next) : next(input)),
    handleQuery: (input, next) => (traced ? o().inbound.handleQuery(input, next) : next(input)),
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (traced ? o().outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) =>
      traced ? o().outbound.scheduleLocalActivity(input, next) : next(input),
    startChildWorkflowExecution: (input, next) =>
      traced ? o().outbound.startChildWorkflowExecution(input, next) : next(input),
    continueAsNew: (input, next) => (traced ? o().outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (traced ? o().outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (traced ? o().outbound.getLogAttributes(input, next) : next(input)),
  };
  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => (otel ? otel.internals.dispose(input, next) : next(input)),
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
