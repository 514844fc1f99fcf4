// Orchestrator-side activities of the Function engine, as a factory over injected
// dependencies: the worker wires the real store client and fetch, tests may wire others.
import { Context, heartbeat } from '@temporalio/activity';
import { claimProgressFrom, type ClaimReport } from '../contracts/claims.js';
import type {
  FunctionBatchInput,
  FunctionBatchResult,
  FunctionClaimInput,
  FunctionOutputSpec,
  RowId,
  RunBatchRequest,
} from '../contracts/function.js';
import { asV1BatchResult, runFunctionBatchWith, runFunctionClaimWith } from '../engine/function-batch.js';
import { deadLetterFilter, errorAttribute, workFilter } from '../engine/function-filters.js';
import type { StoreClient } from '../store/client.js';
import { StoreBadRequestError, StoreNotFoundError } from '../store/errors.js';
import { declareEngineAttributes } from '../engine/engine-attributes.js';
import { classified, WorkerCallError } from '../engine/failures.js';
import { postToPushWorker } from '../engine/push-call.js';

export interface FunctionActivityDeps {
  /** The store that holds a Turbopuffer namespace (one store, or routed per Index). */
  storeFor(namespace: string): StoreClient;
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface DiscoverRowsInput {
  namespace: string;
  output: FunctionOutputSpec;
  filter?: unknown;
  afterId: RowId | null;
  limit: number;
}

export interface DiscoverRowsResult {
  ids: RowId[];
  /** null: the scan reached the end of the namespace. */
  nextAfterId: RowId | null;
}

export interface CountPendingInput {
  namespaces: string[];
  output: FunctionOutputSpec;
  filter?: unknown;
}

export interface DeadLetterInput {
  namespace: string;
  ids: RowId[];
  output: FunctionOutputSpec;
  message: string;
  attempts: number;
  /** The failure's classification (src/contracts/failures.ts), kept on the row beside the message. */
  type?: string;
}

export interface ClearDeadLettersInput {
  namespaces: string[];
  output: FunctionOutputSpec;
  filter?: unknown;
}

async function postBatch(
  fetchFn: typeof fetch,
  baseUrl: string,
  request: RunBatchRequest,
  timeoutSeconds: number,
): Promise<unknown> {
  const url = `${baseUrl.replace(/\/+$/, '')}/run`;
  const answer = await postToPushWorker(fetchFn, url, request, timeoutSeconds);
  return (answer as { outputs?: unknown } | null)?.outputs;
}

export function createFunctionActivities(deps: FunctionActivityDeps) {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? (() => new Date());

  // Declared once per namespace and process (see declareEngineAttributes).
  const declared = new Set<string>();
  const ensureEngineAttributes = async (
    store: StoreClient,
    namespace: string,
    output: FunctionOutputSpec,
  ): Promise<boolean> => {
    const key = `${namespace}\u0000${output.attribute}`;
    if (declared.has(key)) return true;
    if (!(await declareEngineAttributes(store, namespace, output))) return false;
    declared.add(key);
    return true;
  };
  /** Forget a declaration the store no longer has (namespace deleted and recreated). */
  const forgetOnBadRequest = (err: unknown, namespace: string, output: FunctionOutputSpec) => {
    if (err instanceof StoreBadRequestError) declared.delete(`${namespace}\u0000${output.attribute}`);
  };

  return {
    /** One id-ordered page of rows that need work (ids only: inputs are read by the batch). */
    async discoverRows(input: DiscoverRowsInput): Promise<DiscoverRowsResult> {
      return classified(async () => {
        const store = deps.storeFor(input.namespace);
        try {
          // A namespace that does not exist (yet) has nothing to do.
          if (!(await ensureEngineAttributes(store, input.namespace, input.output)))
            return { ids: [], nextAfterId: null };
          const page = await store.scanPage({
            namespace: input.namespace,
            filter: workFilter(input.output, input.filter) as never,
            afterId: input.afterId,
            limit: input.limit,
            attributes: false,
          });
          return { ids: page.rows.map((r) => r.id as RowId), nextAfterId: page.nextAfterId as RowId | null };
        } catch (err) {
          if (err instanceof StoreNotFoundError) return { ids: [], nextAfterId: null };
          forgetOnBadRequest(err, input.namespace, input.output);
          throw err;
        }
      });
    },

    /** Exact count of rows still to do, per namespace (aggregate Count on the work filter). */
    async countPendingRows(input: CountPendingInput): Promise<Record<string, number>> {
      return classified(async () => {
        const counts: Record<string, number> = {};
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          try {
            counts[ns] = (await ensureEngineAttributes(store, ns, input.output))
              ? await store.countRows(ns, workFilter(input.output, input.filter) as never)
              : 0;
          } catch (err) {
            forgetOnBadRequest(err, ns, input.output);
            throw err;
          }
        }
        return counts;
      });
    },

    /** Push dispatch of a claim: each batch POSTed to the worker's /run and written back in turn. */
    async runPushClaim(input: FunctionClaimInput): Promise<ClaimReport> {
      return classified(async () => {
        const baseUrl = input.spec.worker.pushUrl;
        if (!baseUrl)
          throw new WorkerCallError('push dispatch needs worker.pushUrl (the worker Service URL)', false);
        const ctx = Context.current();
        return runFunctionClaimWith(
          (ns) => deps.storeFor(ns),
          input,
          (request) => postBatch(fetchFn, baseUrl, request, input.spec.worker.timeoutSeconds),
          {
            resumeFrom: claimProgressFrom(ctx.info.heartbeatDetails, input.claimId),
            attempt: ctx.info.attempt,
            heartbeat: (progress) => ctx.heartbeat(progress),
            signal: ctx.cancellationSignal,
          },
        );
      });
    },

    /** Push dispatch of one batch (workflows started before engine v2). */
    async runPushBatch(input: FunctionBatchInput): Promise<FunctionBatchResult> {
      return classified(async () => {
        const baseUrl = input.spec.worker.pushUrl;
        if (!baseUrl)
          throw new WorkerCallError('push dispatch needs worker.pushUrl (the worker Service URL)', false);
        return asV1BatchResult(
          await runFunctionBatchWith(
            deps.storeFor(input.namespace),
            input,
            (request) => postBatch(fetchFn, baseUrl, request, input.spec.worker.timeoutSeconds),
            { heartbeat: () => heartbeat() },
          ),
        );
      });
    },

    /** Marks rows that failed on their own as dead letters: `<attribute>_error` holds why. */
    async deadLetterRows(input: DeadLetterInput): Promise<number> {
      return classified(async () => {
        const error = JSON.stringify({
          ...(input.type ? { type: input.type } : {}),
          message: input.message.slice(0, 2000),
          attempts: input.attempts,
          version: input.output.version,
          at: now().toISOString(),
        });
        const res = await deps
          .storeFor(input.namespace)
          .patchRows(
            input.namespace,
            input.ids.map((id) => ({ id, [errorAttribute(input.output)]: error })) as never,
          );
        return Number((res as { rows_patched?: number }).rows_patched ?? res.rows_affected ?? 0);
      });
    },

    /** Clears dead letters so discovery finds those rows again (`layer function replay`). */
    async clearDeadLetters(input: ClearDeadLettersInput): Promise<number> {
      return classified(async () => {
        let cleared = 0;
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          if (!(await ensureEngineAttributes(store, ns, input.output))) continue;
          // patch_by_filter is bounded per request by the service; loop until nothing remains.
          for (;;) {
            const res = await store.write(ns, {
              patch_by_filter: {
                filters: deadLetterFilter(input.output, input.filter),
                patch: { [errorAttribute(input.output)]: null },
              },
              patch_by_filter_allow_partial: true,
            } as never);
            cleared += Number((res as { rows_patched?: number }).rows_patched ?? 0);
            if (!(res as { rows_remaining?: boolean }).rows_remaining) break;
          }
        }
        return cleared;
      });
    },
  };
}

export type FunctionActivities = ReturnType<typeof createFunctionActivities>;
