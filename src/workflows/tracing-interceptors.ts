// Workflow interceptors (bundled with every orchestrator bundle, not a workflow): the
// OpenTelemetry interceptors, but only for runs that were started traced. A run is traced when
// its start carried a trace context (the client had tracing on); that fact is in the run's first
// event, so every replay of the run decides the same way whether or not the replaying process
// has tracing on. Turning tracing on or off therefore never changes how a running workflow
// replays: the plain OpenTelemetry interceptors, added to a bundle, change the order in which
// recorded runs make their commands (a recorded pipeline run fails to replay with them). An
// untraced run goes straight to `next` (no await, so no extra microtask turn). See
// docs/adr/0064-tracing.md.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the OpenTelemetry client interceptor puts the caller's trace context in. */
export const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  // One closure per workflow run: the decision and the OpenTelemetry interceptors are its own.
  let traced = false;
  let otel:
    | {
        inbound: OpenTelemetryInboundInterceptor;
        outbound: OpenTelemetryOutboundInterceptor;
        internals: OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  // Built on first use in a traced run: an untraced run never starts a tracer.
  const o = () =>
    (otel ??= {
      inbound: new OpenTelemetryInboundInterceptor(),
      outbound: new OpenTelemetryOutboundInterceptor(),
      internals: new OpenTelemetryInternalsInterceptor(),
    });

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
