// One POST to a push worker (Function `/run`, Pipeline `/process`), its failures classified the
// same way for both kinds: unreachable → WorkerUnavailable, a timeout → HandlerFailed (the
// handler may hang on a row), and the HTTP status per pushStatusFailureType.
import { pushStatusFailureType, WorkerCallError } from './failures.js';
import { retryAfterMsOf } from './rate-limit-gate.js';
import { traceHeaders } from '../observe/tracing.js';

/** POSTs `body` as JSON and returns the parsed JSON answer. */
export async function postToPushWorker(
  fetchFn: typeof fetch,
  url: string,
  body: unknown,
  timeoutSeconds: number,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      // Tracing on: the worker's handler span joins the calling activity's trace (W3C traceparent).
      headers: { 'content-type': 'application/json', ...traceHeaders() },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
  } catch (err) {
    throw new WorkerCallError(
      `push worker ${url} unreachable or too slow (timeout ${timeoutSeconds}s): ${(err as Error).message}`,
      (err as Error).name === 'TimeoutError' ? 'HandlerFailed' : 'WorkerUnavailable',
    );
  }
  const text = await res.text();
  if (!res.ok)
    throw new WorkerCallError(
      `push worker ${url} answered ${res.status}: ${text.slice(0, 500)}`,
      pushStatusFailureType(res.status),
      // A 429's Retry-After slows a shared rate limit down (docs/adr/0051).
      res.status === 429 ? retryAfterMsOf(res.headers) : undefined,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WorkerCallError(`push worker ${url} answered non-JSON: ${text.slice(0, 200)}`, false);
  }
}
