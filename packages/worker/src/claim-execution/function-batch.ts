// One Function batch, end to end: read the rows' inputs, ask the worker, check its answer, and
// write the outputs back with a conditional patch. The same code runs in the orchestrator (push
// dispatch: the worker is an HTTP /run endpoint) and inside the worker SDK (pull dispatch: the
// worker is the user's handler), so both paths have identical read, validation and write rules.
import type { ClaimReport } from '../contracts/claims.js';
import { alsoObserving, runClaim, type ClaimRunOptions } from './claim-runner.js';
import {
  claimBatches,
  rangeResolveLimit,
  type BatchRow,
  type FunctionClaimBatch,
  type FunctionClaimInput,
  type FunctionClaimSpec,
  type FunctionBatchInput,
  type FunctionBatchResult,
  type RowId,
  type RunBatchRequest,
} from '../contracts/function.js';
import type { StoreClient } from '../store/client.js';
import { candidateFilter, versionAttribute } from './function-filters.js';
import {
  attributesToDecide,
  fingerprintAttribute,
  inputFingerprint,
  rowNeedsWork,
} from './input-fingerprint.js';
import type { FailureReport } from '../contracts/failures.js';
import { rowFailureReports, validateWorkerOutputs, type ValidatedOutput } from './worker-output.js';
import type { RateLimitGate } from './rate-limit-gate.js';
import { ENGINE_WRITE_REQUEST_BUDGET_BYTES } from '../contracts/store-limits.js';
import { chunkByBytes, jsonBytesUpTo } from '../store/write-chunks.js';

/** Computes outputs for a batch: the user's handler (pull) or an HTTP call (push). */
export type BatchCompute = (request: RunBatchRequest) => Promise<unknown>;

export interface BatchRunOptions {
  /** Called between steps so a long batch reports liveness (Temporal heartbeat). */
  heartbeat?: () => void;
}

/**
 * Reads the batch's rows, re-checking that each still needs work: a row finished or deleted
 * since discovery is skipped rather than recomputed. Returns the rows, each row's observed
 * version, the fingerprint of the inputs read (inputFingerprint only) and how many rows the read
 * returned that no longer need work (with inputFingerprint the store cannot filter those out).
 */
async function readBatchRows(
  store: StoreClient,
  input: FunctionBatchInput,
): Promise<{
  rows: BatchRow[];
  observedVersion: Map<RowId, unknown>;
  fingerprints: Map<RowId, string>;
  doneSinceDiscovery: number;
}> {
  const { spec, namespace } = input;
  const vAttr = versionAttribute(spec.output);
  // A range is resolved here, by the same predicate discovery used, in id order and bounded
  // (docs/adr/0100): rows inserted since discovery are work too, up to the bound.
  const selection: { filter: unknown[]; limit: number } = input.range
    ? {
        filter: [
          ...(input.range.afterId !== null ? [['id', 'Gt', input.range.afterId]] : []),
          ['id', 'Lte', input.range.lastId],
        ],
        limit: rangeResolveLimit(input.rows),
      }
    : { filter: [['id', 'In', input.ids!]], limit: input.ids!.length };
  const res = await store.query(namespace, {
    filters: ['And', [...selection.filter, candidateFilter(spec.output, spec.filter)]] as never,
    rank_by: ['id', 'asc'],
    limit: selection.limit,
    include_attributes: attributesToDecide(spec.output, spec.inputs),
  });
  const rows: BatchRow[] = [];
  const observedVersion = new Map<RowId, unknown>();
  const fingerprints = new Map<RowId, string>();
  let doneSinceDiscovery = 0;
  for (const row of res.rows ?? []) {
    const id = row.id as RowId;
    const record = row as Record<string, unknown>;
    if (spec.output.inputFingerprint) {
      if (!rowNeedsWork(spec.output, spec.inputs, record)) {
        doneSinceDiscovery += 1;
        continue;
      }
      fingerprints.set(id, inputFingerprint(spec.inputs, record));
    }
    const inputs: Record<string, unknown> = {};
    for (const name of spec.inputs) inputs[name] = name === 'id' ? id : (record[name] ?? null);
    rows.push({ id, inputs });
    observedVersion.set(id, record[vAttr] ?? null);
  }
  return { rows, observedVersion, fingerprints, doneSinceDiscovery };
}

/** Of the batch's ids the read did not return, how many already carry this output version. */
async function countAlreadyWritten(
  store: StoreClient,
  input: FunctionBatchInput,
  read: BatchRow[],
): Promise<number> {
  if (!input.ids) return 0;
  const found = new Set(read.map((r) => `${typeof r.id}:${r.id}`));
  const missing = input.ids.filter((id) => !found.has(`${typeof id}:${id}`));
  const vAttr = versionAttribute(input.spec.output);
  return store.countRows(input.namespace, [
    'And',
    [
      ['id', 'In', missing],
      [vAttr, 'Eq', input.spec.output.version],
    ],
  ] as never);
}

/**
 * Writes outputs with compare-and-set on the version attribute: a row is patched only if its
 * version is still the one read before computing, or already ours (a re-delivered batch writes
 * the same values). A newer version written meanwhile is never overwritten by a stale batch.
 * Rows are grouped by observed version — one patch per group, nearly always one per batch —
 * and a group is cut into several patches when its rows pass the engine's write budget.
 */
async function writeOutputs(
  store: StoreClient,
  input: FunctionBatchInput,
  outputs: ValidatedOutput[],
  observedVersion: Map<RowId, unknown>,
  fingerprints: Map<RowId, string>,
): Promise<{ written: number; superseded: number }> {
  const { spec, namespace } = input;
  const vAttr = versionAttribute(spec.output);
  const fpAttr = fingerprintAttribute(spec.output);
  const groups = new Map<string, { observed: unknown; rows: Record<string, unknown>[] }>();
  for (const { id, value } of outputs) {
    const observed = observedVersion.get(id) ?? null;
    const key = JSON.stringify(observed);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { observed, rows: [] }));
    const fingerprint = fingerprints.get(id);
    group.rows.push({
      id,
      [spec.output.attribute]: value,
      [vAttr]: spec.output.version,
      // The inputs this value was computed from, as read before the handler ran.
      ...(fingerprint !== undefined ? { [fpAttr]: fingerprint } : {}),
    });
  }
  let written = 0;
  for (const { observed, rows } of groups.values()) {
    const condition =
      observed === spec.output.version
        ? [vAttr, 'Eq', spec.output.version]
        : [
            'Or',
            [
              [vAttr, 'Eq', observed],
              [vAttr, 'Eq', spec.output.version],
            ],
          ];
    // Cut by bytes as well as rows: a batch of large outputs must not outgrow a write request.
    for (const part of chunkByBytes(rows, (r) => jsonBytesUpTo(r), ENGINE_WRITE_REQUEST_BUDGET_BYTES)) {
      const res = await store.patchRows(namespace, part as never, condition as never);
      written += Number((res as { rows_patched?: number }).rows_patched ?? res.rows_affected ?? 0);
    }
  }
  return { written, superseded: outputs.length - written };
}

/** A batch's result, with the rows that could not be written (row-scoped failures). */
export interface FunctionBatchRun extends FunctionBatchResult {
  rowFailures: FailureReport[];
}

/** A batch after its read: the rows still to do and what was already done or gone. */
interface PreparedBatch {
  input: FunctionBatchInput;
  rows: BatchRow[];
  observedVersion: Map<RowId, unknown>;
  fingerprints: Map<RowId, string>;
  skipped: number;
  alreadyWritten: number;
}

/**
 * A Function batch in three stages, so a claim can read the next batch and write the previous
 * one while the handler computes (claim-runner.ts): read → compute → validate + write.
 */
export function functionBatchStages(store: StoreClient, compute: BatchCompute) {
  return {
    async prepare(input: FunctionBatchInput): Promise<PreparedBatch> {
      const { rows, observedVersion, fingerprints, doneSinceDiscovery } = await readBatchRows(store, input);
      if (input.range) {
        // Rows discovery counted that no longer need work: in a retried claim, written by its
        // earlier attempt (counted once, as the id-list path counts them); else done or gone
        // meanwhile, skipped (docs/adr/0100).
        const gone = Math.max(0, input.rows - rows.length);
        return {
          input,
          rows,
          observedVersion,
          fingerprints,
          skipped: input.rerun ? 0 : gone,
          alreadyWritten: input.rerun ? gone : 0,
        };
      }
      const missing = input.ids!.length - rows.length - doneSinceDiscovery;
      // Rows that gained this version since discovery were written by an earlier attempt of this
      // very batch (its worker died before its heartbeat said so): count them as written, once.
      // With inputFingerprint the read returned those rows itself (doneSinceDiscovery), and a
      // row it did not return was deleted, dead-lettered or filtered out: skipped.
      const alreadyWritten = input.spec.output.inputFingerprint
        ? doneSinceDiscovery
        : missing > 0
          ? await countAlreadyWritten(store, input, rows)
          : 0;
      return {
        input,
        rows,
        observedVersion,
        fingerprints,
        skipped: missing - (input.spec.output.inputFingerprint ? 0 : alreadyWritten),
        alreadyWritten,
      };
    },
    async compute(p: PreparedBatch): Promise<unknown> {
      if (p.rows.length === 0) return [];
      return compute({
        batchId: p.input.batchId,
        function: { k8sNamespace: p.input.spec.k8sNamespace, name: p.input.spec.name },
        namespace: p.input.namespace,
        output: p.input.spec.output,
        rows: p.rows,
      });
    },
    async finish(p: PreparedBatch, raw: unknown): Promise<FunctionBatchRun> {
      const { valid, rowProblems } = validateWorkerOutputs(p.rows, raw, p.input.spec.output);
      const { written, superseded } =
        valid.length > 0
          ? await writeOutputs(store, p.input, valid, p.observedVersion, p.fingerprints)
          : { written: 0, superseded: 0 };
      return {
        batchId: p.input.batchId,
        written: written + p.alreadyWritten,
        skipped: p.skipped,
        superseded,
        rowFailures: rowFailureReports(rowProblems),
      };
    },
  };
}

/** One batch, stage after stage, outside any claim (the bench's direct loop). */
export async function runFunctionBatchWith(
  store: StoreClient,
  input: FunctionBatchInput,
  compute: BatchCompute,
  options: BatchRunOptions = {},
): Promise<FunctionBatchRun> {
  const stages = functionBatchStages(store, compute);
  const prepared = await stages.prepare(input);
  options.heartbeat?.();
  const raw = await stages.compute(prepared);
  options.heartbeat?.();
  return stages.finish(prepared, raw);
}

/**
 * Runs a Function claim: its batches through the three stages, the next batch read and the
 * previous one written while the handler computes (see claim-runner.ts for
 * resumption, heartbeats and failure handling).
 */
export function runFunctionClaimWith(
  store: StoreClient | ((namespace: string) => StoreClient),
  /** The claim, with its spec resolved (resolveClaimSpec, when it came by fingerprint). */
  input: FunctionClaimInput & { spec: FunctionClaimSpec },
  unlimitedCompute: BatchCompute,
  options: ClaimRunOptions & {
    /** The Function's shared rate limit: a permit before each handler call (docs/adr/0051). */
    rateLimit?: RateLimitGate | undefined;
  } = {},
): Promise<ClaimReport> {
  const storeFor = typeof store === 'function' ? store : () => store;
  const { rateLimit, ...claimOptions } = options;
  /** Per batch: ms its handler call waited for a permit (reported in its outcome's counts). */
  const waited = new Map<string, number>();
  // Waits for permits come out of their own allowance, not the lease (docs/adr/0074): from the
  // attempt's start, at most maxPermitWaitMs in all; a permit due later is not booked.
  const spec = input.spec;
  const maxPermitWaitMs = spec.worker.rateLimit?.maxPermitWaitMs;
  let permitWaitLeftMs = maxPermitWaitMs;
  const compute: BatchCompute = rateLimit
    ? async (request) => {
        const waitMs = await rateLimit.acquire(request.rows.length, options.signal, {
          // The claim and batch name the booking: this claim retried gets the same permit back.
          booking: `${input.claimId}/${request.batchId}`,
          ...(permitWaitLeftMs !== undefined ? { maxWaitMs: permitWaitLeftMs } : {}),
        });
        if (permitWaitLeftMs !== undefined) permitWaitLeftMs = Math.max(0, permitWaitLeftMs - waitMs);
        waited.set(request.batchId, waitMs);
        return unlimitedCompute(request);
      }
    : unlimitedCompute;
  const stagesFor = (namespace: string) => functionBatchStages(storeFor(namespace), compute);
  const rerun = (options.attempt ?? 1) > 1;
  const batchInput = (b: FunctionClaimBatch): FunctionBatchInput =>
    b.range && rerun ? { ...b, rerun, spec } : { ...b, spec };
  return runClaim(
    input.claimId,
    claimBatches(input),
    {
      prepare: (b) => stagesFor(b.namespace).prepare(batchInput(b)),
      // A range that failed as a whole names the rows it resolved: its retries and splits run
      // on exactly those (docs/adr/0100).
      failureDetails: (b, prepared) => (b.range ? { batchRowIds: prepared.rows.map((r) => r.id) } : {}),
      compute: (b, prepared) => stagesFor(b.namespace).compute(prepared),
      finish: async (b, prepared, raw) => {
        const res = await stagesFor(b.namespace).finish(prepared, raw);
        const waitMs = waited.get(b.batchId);
        waited.delete(b.batchId);
        return {
          counts: {
            written: res.written,
            skipped: res.skipped,
            superseded: res.superseded,
            ...(waitMs !== undefined ? { rateLimitWaitMs: waitMs } : {}),
          },
          rowFailures: res.rowFailures,
        };
      },
    },
    alsoObserving(claimOptions, rateLimit),
  );
}
