// Orchestrator-side activities of the Function engine, as a factory over injected
// dependencies: the worker wires the real store client and fetch, tests may wire others.
// Over 400 lines on purpose: one factory whose activities share the injected clients, the
// claim-spec cache and the push limits it closes over.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import {
  claimProgressFrom,
  packClaimReport,
  type ClaimReport,
  type PackedClaimReport,
} from '../../packages/worker/src/contracts/claims.js';
import { ClaimSpecCache, claimSpecLookupVia } from '../../packages/worker/src/claim-execution/claim-spec.js';
import {
  claimBatches,
  type FunctionClaimInput,
  type FunctionOutputSpec,
  type RowId,
  type RunBatchRequest,
  type WrittenSpan,
} from '../../packages/worker/src/contracts/function.js';
import { type CanaryComparison } from '../contracts/function.js';
import { runFunctionClaimWith } from '../../packages/worker/src/claim-execution/function-batch.js';
import { MAX_DISCOVERY_PAGE, cutRanges, type DiscoveryPage } from '../envelope/function-discovery.js';
import {
  candidateFilter,
  deadLetterFilter,
  errorAttribute,
  outsideSpans,
  versionAttribute,
  workFilter,
} from '../../packages/worker/src/claim-execution/function-filters.js';
import { compareRowIds, spanCoversAfter, spanHolds } from '../envelope/unindexed-writes.js';
import {
  attributesToDecide,
  rowNeedsWork,
} from '../../packages/worker/src/claim-execution/input-fingerprint.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { StoreBadRequestError, StoreNotFoundError } from '../../packages/worker/src/store/errors.js';
import { declareEngineAttributes } from './output-attributes.js';
import { classified, WorkerCallError } from '../../packages/worker/src/claim-execution/failures.js';
import { postToPushWorker, pushAnswerLimitBytes } from './push-call.js';
import { deadLetterValue, deadLetterRowsPerWrite } from './dead-letter-value.js';
import type { Client } from '@temporalio/client';
import { functionRateLimitGate } from '../../packages/worker/src/function-worker.js';

export interface FunctionActivityDeps {
  /** The store that holds a Turbopuffer namespace (one store, or routed per Index). */
  storeFor(namespace: string): StoreClient;
  fetch?: typeof fetch;
  /** Ceiling of one push worker's answer in bytes (LAYER_PUSH_MAX_ANSWER_BYTES; see push-call.ts). */
  pushMaxAnswerBytes?: number | undefined;
  now?: () => Date;
  /** Reaches the limiter workflow of a Function's shared rate limit (spec.worker.rateLimit). */
  rateLimitClient?: Client;
}

export interface DiscoverRowsInput {
  namespace: string;
  output: FunctionOutputSpec;
  filter?: unknown;
  afterId: RowId | null;
  limit: number;
  /** The Function's inputs: with output.inputFingerprint the scan hashes them (runs before it lack it). */
  inputs?: string[];
  /**
   * Answer with range cuts of this many rows instead of ids (docs/adr/0100). Functions with
   * inputFingerprint still get ids: their work is decided per row from its inputs.
   */
  batchSize?: number;
  /**
   * Spans of rows the Function wrote that the store may not show yet (docs/adr/0110): left out,
   * and no range cut spans one (the worker resolves a range from what the store shows).
   */
  skip?: WrittenSpan[];
}

/** A page of discovery; null nextAfterId: the scan reached the end of the namespace. */
export type DiscoverRowsResult = DiscoveryPage;

export interface CountPendingInput {
  namespaces: string[];
  output: FunctionOutputSpec;
  filter?: unknown;
  /**
   * Per namespace, spans of rows the Function wrote that the store may not show yet
   * (docs/adr/0110): not counted, and the answer says which of these namespaces are indexed.
   */
  skip?: Record<string, WrittenSpan[]>;
}

/** The count with `skip`: which of its namespaces the store has indexed every write of. */
export interface PendingCounts {
  counts: Record<string, number>;
  /** `index.status` up-to-date at the time of the count (namespaces of `skip` only). */
  indexed: Record<string, boolean>;
}

export interface DeadLetterInput {
  namespace: string;
  ids: RowId[];
  output: FunctionOutputSpec;
  message: string;
  attempts: number;
  /** The failure's classification (packages/worker/src/contracts/failures.ts), kept on the row beside the message. */
  type?: string;
}

export interface SampleCanaryInput {
  namespaces: string[];
  /** The output the rows carry now (its dead letters are left out of the sample). */
  output: FunctionOutputSpec;
  /** Where the canary writes (declared here so the worker's filters may name it). */
  canaryOutput: FunctionOutputSpec;
  filter?: unknown;
  rows: number;
  /** Mixed into the hash that orders rows: another version samples other rows. */
  seed: string;
}

export interface CanaryComparisonInput {
  rows: { namespace: string; id: RowId }[];
  output: FunctionOutputSpec;
  canaryOutput: FunctionOutputSpec;
}

export interface ClearCanaryInput {
  namespaces: string[];
  canaryOutput: FunctionOutputSpec;
}

/** Rows per namespace the canary sample is drawn from (the first ones by id beyond that). */
const CANARY_SAMPLE_SCAN_LIMIT = 100_000;

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
  maxAnswerCeiling: number | undefined,
): Promise<unknown> {
  const url = `${baseUrl.replace(/\/+$/, '')}/run`;
  const answer = await postToPushWorker(fetchFn, url, request, timeoutSeconds, {
    maxAnswerBytes: pushAnswerLimitBytes(request.rows.length, maxAnswerCeiling),
  });
  return (answer as { outputs?: unknown } | null)?.outputs;
}

/** A literal for a store Glob pattern (globset dialect: `\\x` is a literal x). */
function globLiteral(text: string): string {
  return text.replace(/[\\*?[\]{},]/g, '\\$&');
}

/**
 * Rows that carry this rollout's canary: `<a>__canary_v` is its version, or `<a>__canary_error`
 * was written at it (the dead-letter JSON holds `"version":…,"at":`). Never every row with a
 * canary attribute: a canary of another version — or of another Function misconfigured onto the
 * same attribute (ADR 0070, 0087) — is not this rollout's to remove.
 */
function canaryRowsOf(canary: Pick<FunctionOutputSpec, 'attribute' | 'version'>): unknown[] {
  return [
    'Or',
    [
      [versionAttribute(canary), 'Eq', canary.version],
      [
        errorAttribute(canary),
        'Glob',
        `*${globLiteral(`"version":${JSON.stringify(canary.version)},"at":`)}*`,
      ],
    ],
  ];
}

/** Sort key of a row in the canary sample: a hash, so the sample is spread over the ids. */
function sampleRank(seed: string, namespace: string, id: RowId): string {
  return createHash('sha256')
    .update(`${seed}\u0000${namespace}\u0000${typeof id}:${id}`)
    .digest('hex');
}

/**
 * Whether the store has indexed every write to the namespace (metadata `index.status`
 * up-to-date; a namespace that does not exist has nothing unindexed).
 */
async function indexUpToDate(store: StoreClient, namespace: string): Promise<boolean> {
  try {
    return (await store.metadata(namespace)).index?.status !== 'updating';
  } catch (err) {
    if (err instanceof StoreNotFoundError) return true;
    throw err;
  }
}

/** Patches every row `filters` matches; patch_by_filter is bounded per request, so it loops. */
async function patchAll(store: StoreClient, ns: string, filters: unknown, patch: object): Promise<number> {
  let patched = 0;
  for (;;) {
    const res = await store.write(ns, {
      patch_by_filter: { filters, patch },
      patch_by_filter_allow_partial: true,
    } as never);
    patched += Number((res as { rows_patched?: number }).rows_patched ?? 0);
    if (!(res as { rows_remaining?: boolean }).rows_remaining) return patched;
  }
}

/** Nothing to do in this namespace, in the form the caller asked for. */
function emptyPage(input: DiscoverRowsInput): DiscoverRowsResult {
  return input.batchSize !== undefined && !input.output.inputFingerprint
    ? { cuts: cutRanges(input.afterId, [], input.batchSize), nextAfterId: null }
    : { ids: [], nextAfterId: null };
}

/**
 * Range discovery: pages through the rows matching the candidate filter (ids only) up to `limit`
 * rows and answers with their cuts every `batchSize` rows, so the answer holds one id per batch.
 */
async function scanRanges(
  store: StoreClient,
  input: DiscoverRowsInput,
  batchSize: number,
): Promise<DiscoverRowsResult> {
  const ids: RowId[] = [];
  const skip = input.skip ?? [];
  // Where the cuts start: moves over written spans met before the first row found.
  let cutsAfter = input.afterId;
  let afterId = input.afterId;
  let nextAfterId: RowId | null = input.afterId;
  while (ids.length < input.limit) {
    // A written span right after the cursor is jumped; one further on bounds this scan, since a
    // range cut across it would hand its rows to the worker again (docs/adr/0110).
    const covering = skip.find((span) => spanCoversAfter(span, afterId));
    if (covering) {
      afterId = nextAfterId = covering.last;
      if (ids.length > 0) break;
      cutsAfter = afterId;
      continue;
    }
    const ahead = nextSpanAfter(skip, afterId);
    const limit = Math.min(MAX_DISCOVERY_PAGE, input.limit - ids.length);
    const candidates = candidateFilter(input.output, input.filter);
    const page = await store.scanPage({
      namespace: input.namespace,
      filter: (ahead ? ['And', [candidates, belowSpan(ahead)]] : candidates) as never,
      afterId,
      limit,
      attributes: false,
    });
    for (const row of page.rows) ids.push(row.id as RowId);
    nextAfterId = page.nextAfterId as RowId | null;
    if (nextAfterId !== null) {
      afterId = nextAfterId;
      continue;
    }
    if (!ahead) break;
    // Nothing more before the span: the next scan (or this one, with no row yet) goes on after it.
    afterId = nextAfterId = ahead.last;
    if (ids.length > 0) break;
    cutsAfter = afterId;
  }
  return { cuts: cutRanges(cutsAfter, ids, batchSize), nextAfterId };
}

/** The first written span that ends after `cursor` (spans are ordered). */
function nextSpanAfter(spans: readonly WrittenSpan[], cursor: RowId | null): WrittenSpan | undefined {
  return spans.find((span) => cursor === null || compareRowIds(span.last, cursor) > 0);
}

/** Rows before a span's first id. */
function belowSpan(span: WrittenSpan): unknown[] {
  return span.from !== undefined ? ['id', 'Lt', span.from] : ['id', 'Lte', span.after];
}

export function createFunctionActivities(deps: FunctionActivityDeps) {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? (() => new Date());
  const claimSpecs = new ClaimSpecCache();

  // Declared once per namespace and process (see declareEngineAttributes).
  const declared = new Set<string>();
  const ensureEngineAttributes = async (
    store: StoreClient,
    namespace: string,
    output: FunctionOutputSpec,
    userFilter?: unknown,
  ): Promise<boolean> => {
    const key = `${namespace}\u0000${output.attribute}`;
    if (declared.has(key)) return true;
    if (!(await declareEngineAttributes(store, namespace, output, userFilter))) return false;
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
          if (!(await ensureEngineAttributes(store, input.namespace, input.output, input.filter)))
            return emptyPage(input);
          const byFingerprint = input.output.inputFingerprint === true && input.inputs !== undefined;
          if (input.batchSize !== undefined && !input.output.inputFingerprint)
            return await scanRanges(store, input, input.batchSize);
          const skip = input.skip ?? [];
          const page = await store.scanPage({
            namespace: input.namespace,
            filter: candidateFilter(input.output, input.filter) as never,
            afterId: input.afterId,
            limit: input.limit,
            // Ids only, unless the fingerprint of the inputs decides: then the inputs come along
            // in the same request (no round trip per row) and the rows still done are dropped.
            attributes: byFingerprint ? attributesToDecide(input.output, input.inputs!) : false,
          });
          const rows = (
            byFingerprint
              ? page.rows.filter((r) =>
                  rowNeedsWork(input.output, input.inputs!, r as Record<string, unknown>),
                )
              : page.rows
          ).filter((r) => !skip.some((span) => spanHolds(span, r.id as RowId)));
          return { ids: rows.map((r) => r.id as RowId), nextAfterId: page.nextAfterId as RowId | null };
        } catch (err) {
          if (err instanceof StoreNotFoundError) return emptyPage(input);
          forgetOnBadRequest(err, input.namespace, input.output);
          throw err;
        }
      });
    },

    /**
     * Exact count of rows still to do, per namespace (aggregate Count on the work filter). With
     * `skip`, rows the Function wrote that the store may not show yet are not counted, and the
     * answer says which of those namespaces are indexed (docs/adr/0110).
     */
    async countPendingRows(input: CountPendingInput): Promise<Record<string, number> | PendingCounts> {
      return classified(async () => {
        const counts: Record<string, number> = {};
        const indexed: Record<string, boolean> = {};
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          const skip = input.skip?.[ns];
          try {
            // Indexed before the count reads: every write acknowledged before this call is visible.
            if (skip) indexed[ns] = await indexUpToDate(store, ns);
            counts[ns] = (await ensureEngineAttributes(store, ns, input.output, input.filter))
              ? await store.countRows(
                  ns,
                  outsideSpans(workFilter(input.output, input.filter), skip ?? []) as never,
                )
              : 0;
          } catch (err) {
            forgetOnBadRequest(err, ns, input.output);
            throw err;
          }
        }
        return input.skip ? { counts, indexed } : counts;
      });
    },

    /** Push dispatch of a claim: each batch POSTed to the worker's /run and written back in turn. */
    async runPushClaim(claim: FunctionClaimInput): Promise<ClaimReport | PackedClaimReport> {
      return classified(async () => {
        const ctx = Context.current();
        // The spec comes by fingerprint from the workflow that scheduled the claim (docs/adr/0100).
        const input = await claimSpecs.resolve(
          claim,
          ctx.info.workflowExecution?.workflowId,
          (workflowId, fingerprint) => claimSpecLookupVia(ctx.client)(workflowId, fingerprint),
        );
        const baseUrl = input.spec.worker.pushUrl;
        if (!baseUrl)
          throw new WorkerCallError('push dispatch needs worker.pushUrl (the worker Service URL)', false);
        const report = await runFunctionClaimWith(
          (ns) => deps.storeFor(ns),
          input,
          (request) =>
            postBatch(fetchFn, baseUrl, request, input.spec.worker.timeoutSeconds, deps.pushMaxAnswerBytes),
          {
            resumeFrom: claimProgressFrom(ctx.info.heartbeatDetails, input.claimId),
            attempt: ctx.info.attempt,
            heartbeat: (progress) => ctx.heartbeat(progress),
            signal: ctx.cancellationSignal,
            // The limiter runs on this orchestrator's own task queue.
            rateLimit: functionRateLimitGate(deps.rateLimitClient, input.spec, ctx.info.taskQueue),
          },
        );
        return claim.packedReport
          ? packClaimReport(
              report,
              claimBatches(claim).map((b) => b.batchId),
            )
          : report;
      });
    },

    /** Marks rows that failed on their own as dead letters: `<attribute>_error` holds why. */
    async deadLetterRows(input: DeadLetterInput): Promise<number> {
      return classified(async () => {
        const error = deadLetterValue({
          ...(input.type ? { type: input.type } : {}),
          message: input.message,
          attempts: input.attempts,
          version: input.output.version,
          at: now().toISOString(),
        });
        const store = deps.storeFor(input.namespace);
        let patched = 0;
        const perWrite = deadLetterRowsPerWrite(error);
        for (let i = 0; i < input.ids.length; i += perWrite) {
          const rows = input.ids
            .slice(i, i + perWrite)
            .map((id) => ({ id, [errorAttribute(input.output)]: error }));
          const res = await store.patchRows(input.namespace, rows as never);
          patched += Number((res as { rows_patched?: number }).rows_patched ?? res.rows_affected ?? 0);
        }
        return patched;
      });
    },

    /**
     * The canary's sample: the `rows` candidates (user filter, not dead-lettered) with the
     * smallest hash of (seed, namespace, id) — the same rows for the same data and version, spread
     * over the id space rather than the first ids. Reads ids only, at most
     * CANARY_SAMPLE_SCAN_LIMIT per namespace.
     */
    async sampleCanaryRows(input: SampleCanaryInput): Promise<{ namespace: string; ids: RowId[] }[]> {
      return classified(async () => {
        const ranked: { namespace: string; id: RowId; rank: string }[] = [];
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          if (!(await ensureEngineAttributes(store, ns, input.output, input.filter))) continue;
          await ensureEngineAttributes(store, ns, input.canaryOutput);
          let afterId: RowId | null = null;
          let seen = 0;
          do {
            const page = await store.scanPage({
              namespace: ns,
              filter: [
                'And',
                [...(input.filter ? [input.filter] : []), [errorAttribute(input.output), 'Eq', null]],
              ] as never,
              afterId,
              limit: Math.min(10_000, CANARY_SAMPLE_SCAN_LIMIT - seen),
              attributes: false,
            });
            for (const row of page.rows) {
              const id = row.id as RowId;
              ranked.push({ namespace: ns, id, rank: sampleRank(input.seed, ns, id) });
            }
            seen += page.rows.length;
            afterId = page.nextAfterId as RowId | null;
            if (ranked.length > 4 * input.rows + 10_000) {
              ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
              ranked.length = input.rows;
            }
          } while (afterId !== null && seen < CANARY_SAMPLE_SCAN_LIMIT);
        }
        ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
        const byNs = new Map<string, RowId[]>();
        for (const r of ranked.slice(0, input.rows))
          byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), r.id]);
        return [...byNs].map(([namespace, ids]) => ({ namespace, ids }));
      });
    },

    /** Old value beside the canary's for a few sampled rows (the status shows them). */
    async readCanaryComparison(input: CanaryComparisonInput): Promise<CanaryComparison[]> {
      return classified(async () => {
        const vAttr = versionAttribute(input.output);
        // One read per namespace for all its shown rows, then back in the order asked.
        const found = new Map<string, Record<string, unknown>>();
        for (const namespace of new Set(input.rows.map((r) => r.namespace))) {
          const ids = input.rows.filter((r) => r.namespace === namespace).map((r) => r.id);
          const res = await deps.storeFor(namespace).query(namespace, {
            filters: ['id', 'In', ids] as never,
            rank_by: ['id', 'asc'],
            limit: ids.length,
            include_attributes: [input.output.attribute, vAttr, input.canaryOutput.attribute],
          });
          for (const row of res.rows ?? []) found.set(`${namespace}\u0000${String(row.id)}`, row as never);
        }
        return input.rows.map(({ namespace, id }): CanaryComparison => {
          const row = found.get(`${namespace}\u0000${String(id)}`) ?? {};
          return {
            namespace,
            id,
            old: row[input.output.attribute] ?? null,
            oldVersion: (row[vAttr] as string | undefined) ?? null,
            new: row[input.canaryOutput.attribute] ?? null,
          };
        });
      });
    },

    /** Removes this rollout's canary side attributes from the rows it wrote them to (promote, abort). */
    async clearCanary(input: ClearCanaryInput): Promise<number> {
      return classified(async () => {
        let cleared = 0;
        const c = input.canaryOutput;
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          if (!(await ensureEngineAttributes(store, ns, c))) continue;
          cleared += await patchAll(store, ns, canaryRowsOf(c), {
            [c.attribute]: null,
            [versionAttribute(c)]: null,
            [errorAttribute(c)]: null,
          });
        }
        return cleared;
      });
    },

    /** Clears dead letters so discovery finds those rows again (`layer function replay`). */
    async clearDeadLetters(input: ClearDeadLettersInput): Promise<number> {
      return classified(async () => {
        let cleared = 0;
        for (const ns of input.namespaces) {
          const store = deps.storeFor(ns);
          if (!(await ensureEngineAttributes(store, ns, input.output, input.filter))) continue;
          cleared += await patchAll(store, ns, deadLetterFilter(input.output, input.filter), {
            [errorAttribute(input.output)]: null,
          });
        }
        return cleared;
      });
    },
  };
}

export type FunctionActivities = ReturnType<typeof createFunctionActivities>;
