// One place that turns any error into the line a person reads on the terminal. Typed errors
// that carry a field path and a fix print both; anything else prints its message.
import { LayerError } from '../../packages/worker/src/util/errors.js';

export function formatCliError(err: unknown): string {
  if (err instanceof LayerError) return `error: ${err.message}${err.hint ? `\n  fix: ${err.hint}` : ''}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}

/**
 * A call ran out of its deadline (`connection.withDeadline`): the SDK wraps gRPC's
 * DEADLINE_EXCEEDED in its own error ("Failed to query Workflow"), so the causes are read too.
 */
export function isDeadlineExceeded(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/deadline exceeded|timeout|deadline_exceeded/i.test(e.message)) return true;
    if ((e as { code?: unknown }).code === 4) return true; // gRPC status DEADLINE_EXCEEDED
  }
  return false;
}

/** The CLI's wait for an orchestrator answer: $LAYER_CLI_TIMEOUT_SECONDS, default 10 s. */
export function cliTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.LAYER_CLI_TIMEOUT_SECONDS?.trim();
  if (!raw) return 10_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new LayerError(
      `LAYER_CLI_TIMEOUT_SECONDS must be a positive number of seconds, got ${JSON.stringify(raw)}`,
      'e.g. LAYER_CLI_TIMEOUT_SECONDS=30, or unset it for the default 10',
    );
  return n * 1000;
}
