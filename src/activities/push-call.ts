// One POST to a push worker (Function `/run`, Pipeline `/process`), its failures classified the
// same way for both kinds: unreachable → WorkerUnavailable, a timeout → HandlerFailed (the
// handler may hang on a row), and the HTTP status per pushStatusFailureType. The worker is
// another tenant's code, so its answer is read defensively (docs/adr/0073): redirects are never
// followed (a 3xx would re-send the rows, inputs included, to whatever host it names), the body
// is streamed and refused past a size limit (one answer must not OOM the shared orchestrator),
// and a 200 that is not JSON (an ingress's HTML error page) is the environment's fault, not the
// rows'.
import {
  pushStatusFailureType,
  WorkerCallError,
} from '../../packages/worker/src/claim-execution/failures.js';
import { retryAfterMsOf } from '../../packages/worker/src/claim-execution/rate-limit-gate.js';
import { traceHeaders } from '../../packages/worker/src/observe/tracing.js';
import { truncateErrorText } from '../../packages/worker/src/contracts/error-text.js';
// One row's output fits the store's largest attribute value (the service's limit).
import { STORE_MAX_ATTRIBUTE_VALUE_BYTES } from '../../packages/worker/src/contracts/store-limits.js';

/** Room for the answer's JSON around the values (ids, keys, errors). */
const ANSWER_OVERHEAD_BYTES = 64 * 1024;
/** Default ceiling of one push answer, whatever the batch size (LAYER_PUSH_MAX_ANSWER_BYTES). */
export const DEFAULT_PUSH_MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** The variable that raises the ceiling (named in the refusal). */
export const PUSH_MAX_ANSWER_BYTES_ENV = 'LAYER_PUSH_MAX_ANSWER_BYTES';

/**
 * The most a push worker may answer for `rows` rows: each row's output fits one store attribute
 * value (8 MiB), so more than that is never a valid answer; and no answer may exceed `ceiling`
 * (default 64 MiB), so a few concurrent claims cannot exhaust the orchestrator's memory.
 *
 * @example pushAnswerLimitBytes(2) // 2 × 8 MiB + 64 KiB
 */
export function pushAnswerLimitBytes(rows: number, ceiling = DEFAULT_PUSH_MAX_ANSWER_BYTES): number {
  return Math.min(ceiling, Math.max(1, rows) * STORE_MAX_ATTRIBUTE_VALUE_BYTES + ANSWER_OVERHEAD_BYTES);
}

export interface PushCallOptions {
  /** Refuse an answer longer than this many bytes (see pushAnswerLimitBytes). */
  maxAnswerBytes: number;
}

/** An answer's body up to `limit` bytes; null once it is longer (the rest is never read). */
async function readCapped(res: Response, limit: number): Promise<string | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Stop reading: the connection is closed and nothing past the limit is buffered.
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** POSTs `body` as JSON and returns the parsed JSON answer. */
export async function postToPushWorker(
  fetchFn: typeof fetch,
  url: string,
  body: unknown,
  timeoutSeconds: number,
  options: PushCallOptions = { maxAnswerBytes: DEFAULT_PUSH_MAX_ANSWER_BYTES },
): Promise<unknown> {
  let res: Response;
  let text: string | null;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      // Tracing on: the worker's handler span joins the calling activity's trace (W3C traceparent).
      headers: { 'content-type': 'application/json', ...traceHeaders() },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
      // Never follow: a redirect would re-POST the batch, row inputs included, to another host.
      redirect: 'manual',
    });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get('location');
      throw new WorkerCallError(
        `push worker ${url} answered ${res.status} redirecting to ${location ?? '(no Location header)'}; ` +
          'redirects are never followed (the batch would be re-sent elsewhere): set spec.worker.pushUrl to the address that serves it',
        'WorkerUnavailable',
      );
    }
    text = await readCapped(res, options.maxAnswerBytes);
  } catch (err) {
    if (err instanceof WorkerCallError) throw err;
    throw new WorkerCallError(
      `push worker ${url} unreachable or too slow (timeout ${timeoutSeconds}s): ${truncateErrorText((err as Error).message)}`,
      (err as Error).name === 'TimeoutError' ? 'HandlerFailed' : 'WorkerUnavailable',
    );
  }
  if (text === null)
    throw new WorkerCallError(
      `push worker ${url} answered more than ${options.maxAnswerBytes} bytes (status ${res.status}); the rest was not read. ` +
        `The limit is the batch's rows × the store's 8 MiB attribute-value limit, at most ${PUSH_MAX_ANSWER_BYTES_ENV} ` +
        `(default ${DEFAULT_PUSH_MAX_ANSWER_BYTES}): make the worker answer less, lower spec.worker.batchSize, ` +
        `or raise ${PUSH_MAX_ANSWER_BYTES_ENV} on the orchestrator`,
      'HandlerFailed',
    );
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
    // Not the rows' fault: an ingress or proxy answering with its own page, a wrong pushUrl, a
    // worker that is not a Layer push server. Systemic, like an unreachable worker.
    throw new WorkerCallError(
      `push worker ${url} answered ${res.status} with a body that is not JSON ` +
        `(content-type ${res.headers.get('content-type') ?? 'none'}): ${text.slice(0, 200)}`,
      'WorkerUnavailable',
    );
  }
}
