// Tracing for the orchestrator's roles: the worker SDK's tracing module (one tracer provider per
// process, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set) plus the one-line start-up the long-running
// roles call. See docs/adr/0064-tracing.md.
import { OTLP_ENDPOINT_ENV, startTracing, stopTracing } from '../../packages/worker/src/observe/tracing.js';

/**
 * Starts tracing for a role when OTEL_EXPORTER_OTLP_ENDPOINT asks for it, logging where spans
 * go; returns the function that flushes them at shutdown (a no-op when tracing is off).
 */
export async function startRoleTracing(
  role: string,
  log: (line: string, fields?: Record<string, unknown>) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<() => Promise<void>> {
  if (!(await startTracing({ serviceName: `layer-${role}`, env }))) return async () => undefined;
  const endpoint = OTLP_ENDPOINT_ENV.map((name) => env[name]).find((v) => v);
  log('tracing on: OpenTelemetry spans go to the OTLP endpoint (http/protobuf)', { endpoint });
  return stopTracing;
}
