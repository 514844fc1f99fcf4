// The batch envelope: the scheduling rules shared by the Function and Pipeline workflows, as a
// pure state machine. Events in (batches discovered, a claim reported or failed, time passed),
// commands out (dispatch a claim, dead-letter rows, degraded/recovered, continue-as-new). It
// never does I/O and never reads a clock: the workflow passes `nowMs` (workflow time), so the
// same events give the same commands on replay. Each workload kind supplies only how a batch's
// payload splits in two; discovery and the write stay with the kind (docs/adr/0011).
// Over 400 lines on purpose: one state machine whose transitions share its private state, read
// top to bottom against the rules below.
//
// The rules:
// - A claim carries 1..n batches; its worker runs them one at a time. At most
//   `maxInFlightClaims` claims are out, so at most that many batches are leased at once, across
//   every replica. The batches queued inside a claim hold no lease.
// - Claims grow to about `claimTargetMs` of work (from the measured batch time) but never beyond
//   a fair share of the ready batches, so the tail of a pass still spreads over every slot.
// - A batch-scoped failure is retried with exponential backoff up to `retry.maxAttempts`, then the
//   batch is split in halves (each allowed SPLIT_MAX_ATTEMPTS), down to single rows that are
//   dead-lettered. A row-scoped failure dead-letters exactly the rows it names. A systemic
//   failure dead-letters nothing: its batches go back to the front of the queue and dispatch
//   stops until a backoff ends; then one single-batch probe claim goes out, and its success ends
//   the degraded state. A systemic failure that names its scope (a store namespace that answered
//   429, when the kind knows its payloads' scopes) holds back only that scope's batches; the
//   others go on as before (docs/adr/0111).
import type { BatchOutcome, ClaimReport } from '../../packages/worker/src/contracts/claims.js';
import { failureKind, type FailureReport } from '../../packages/worker/src/contracts/failures.js';

/** Attempts of each half of a batch that failed for good: the whole batch already used the policy. */
export const SPLIT_MAX_ATTEMPTS = 2;

export interface RetrySettings {
  maxAttempts: number;
  initialBackoffSeconds: number;
  maxBackoffSeconds: number;
}

export interface EnvelopeSettings {
  /** Claims out at once; a claim leases one batch at a time (spec.schedule.maxInFlightBatches). */
  maxInFlightClaims: number;
  retry: RetrySettings;
  /** Claims grow to about this much worker time, from the measured batch time. */
  claimTargetMs: number;
  maxBatchesPerClaim: number;
  maxRowsPerClaim: number;
  /**
   * What `maxRowsPerClaim` bounds: every row ('rows'), or only the rows a payload names one by
   * one ('listed'; PayloadOps.listedRows). The cap exists to keep a claim's input small in
   * history; a range costs the same for 64 rows or 4,096, so capping ranges by rows only made
   * claims (and so Temporal work per row) 4× more numerous than the claim's time target asks.
   */
  rowCap?: 'rows' | 'listed';
}

/**
 * About 5 s of work per claim, at most 64 batches; at most 1,024 rows listed by id, so a claim's
 * ids stay under ~10 KB in history and a 1,000-event history page stays far below the 4 MB gRPC
 * limit of the UI and clients.
 */
export const DEFAULT_CLAIM_SIZING = {
  claimTargetMs: 5_000,
  maxBatchesPerClaim: 64,
  maxRowsPerClaim: 1_024,
} as const;

export interface EnvelopeBatch<P> {
  batchId: string;
  rows: number;
  payload: P;
  /** Failed attempts so far at this size. */
  attempts: number;
  maxAttempts: number;
  /** 0 for a discovered batch; n for a batch split n times. */
  splitDepth: number;
  /** Workflow time before which the batch is not dispatched (retry backoff). */
  notBeforeMs?: number;
}

export interface Claim<P> {
  claimId: string;
  batches: EnvelopeBatch<P>[];
  sinceMs: number;
  /** The single-batch claim that tests whether a systemic fault has cleared. */
  probe?: boolean;
}

export interface DegradedState {
  /** The failure type (StoreRejected, WorkerUnavailable, …). */
  reason: string;
  /** Only batches of this scope (a store namespace) are held back; absent: every batch. */
  scope?: string;
  message: string;
  sinceMs: number;
  retryAtMs: number;
  backoffMs: number;
  probing: boolean;
}

/** Everything the envelope knows: plain JSON, carried across continue-as-new. */
export interface EnvelopeState<P> {
  waiting: EnvelopeBatch<P>[];
  claims: Claim<P>[];
  claimSeq: number;
  /** Moving average of a batch's worker time (ms), from finished batches. */
  batchMsAverage?: number;
  degraded?: DegradedState;
}

export type EnvelopeCommand<P> =
  | {
      kind: 'dispatch';
      claim: Claim<P>;
      /** Temporal attempts of the claim activity (heartbeat timeouts, worker crashes). */
      maxAttempts: number;
    }
  | {
      kind: 'deadLetter';
      batch: EnvelopeBatch<P>;
      /** The rows to mark: the row-scoped failure's ids, or (absent) the whole one-row batch. */
      rowIds?: (string | number)[];
      failure: FailureReport;
      attempts: number;
    }
  /** A batch failed and goes back after `retryAtMs` (information: the envelope already queued it). */
  | { kind: 'retry'; batch: EnvelopeBatch<P>; failure: FailureReport; retryAtMs: number }
  /** A batch failed for good and was split in halves to isolate its bad rows (information). */
  | { kind: 'split'; batch: EnvelopeBatch<P>; failure: FailureReport }
  | { kind: 'degraded'; degraded: DegradedState }
  | { kind: 'recovered'; reason: string }
  | { kind: 'continueAsNew' };

export interface PayloadOps<P> {
  /** Two halves of a payload with more than one row. */
  split(payload: P): [P, P];
  /**
   * A payload pinned to the rows a failed attempt resolved (FailureReport.batchRowIds): a range
   * batch retries and splits on exactly those rows (docs/adr/0100). Absent: payloads are explicit.
   */
  resolve?(payload: P, rowIds: readonly (string | number)[]): P;
  /** Rows the payload names one by one (its weight in history); absent: all of its rows. */
  listedRows?(payload: P): number;
  /**
   * The scope a payload belongs to (its store namespace): a systemic failure naming a scope
   * (FailureReport.namespace) then holds back that scope alone. Absent: every systemic failure
   * holds back every batch.
   */
  scopeOf?(payload: P): string;
}

export interface BatchIn<P> {
  batchId: string;
  rows: number;
  payload: P;
}

/** Backoff before retry `attempt` (1-based): initial × 2^(attempt-1), capped. */
export function retryBackoffMs(retry: RetrySettings, attempt: number): number {
  const initial = retry.initialBackoffSeconds * 1000;
  const cap = Math.max(initial, retry.maxBackoffSeconds * 1000);
  return Math.min(cap, initial * 2 ** Math.max(0, attempt - 1));
}

export class BatchEnvelope<P> {
  readonly state: EnvelopeState<P>;

  constructor(
    private readonly ops: PayloadOps<P>,
    public settings: EnvelopeSettings,
    /** Names claims: `${claimPrefix}-c${n}` (the workflow passes its run id prefix). */
    private readonly claimPrefix: string,
    carried?: Partial<EnvelopeState<P>>,
  ) {
    this.state = {
      waiting: carried?.waiting ?? [],
      // Claims never cross continue-as-new (the run drains them first).
      claims: [],
      claimSeq: carried?.claimSeq ?? 0,
      ...(carried?.batchMsAverage !== undefined ? { batchMsAverage: carried.batchMsAverage } : {}),
      ...(carried?.degraded ? { degraded: { ...carried.degraded, probing: false } } : {}),
    };
  }

  // ---- reads ---------------------------------------------------------------------------------

  get claimsInFlight(): number {
    return this.state.claims.length;
  }
  get batchesInFlight(): number {
    return this.state.claims.reduce((n, c) => n + c.batches.length, 0);
  }
  get rowsInFlight(): number {
    return this.state.claims.reduce((n, c) => n + c.batches.reduce((m, b) => m + b.rows, 0), 0);
  }
  get waitingRows(): number {
    return this.state.waiting.reduce((n, b) => n + b.rows, 0);
  }
  /** Nothing waiting and nothing out. */
  get idle(): boolean {
    return this.state.waiting.length === 0 && this.state.claims.length === 0;
  }
  get degraded(): DegradedState | undefined {
    return this.state.degraded;
  }

  /** Batches per claim the envelope aims for now (before the fair-share cap). */
  targetBatchesPerClaim(): number {
    const avg = this.state.batchMsAverage;
    // Until a batch has been measured, claims hold one batch: the first results size the rest.
    if (avg === undefined) return 1;
    const target = Math.round(this.settings.claimTargetMs / Math.max(1, avg));
    return Math.max(1, Math.min(this.settings.maxBatchesPerClaim, target));
  }

  /** Every payload waiting or out, for a kind that must not discover them again. */
  heldPayloads(): P[] {
    return [
      ...this.state.waiting.map((b) => b.payload),
      ...this.state.claims.flatMap((c) => c.batches.map((b) => b.payload)),
    ];
  }

  /** Earliest workflow time at which `plan` may dispatch something it cannot dispatch now. */
  nextWakeAtMs(nowMs: number): number | undefined {
    const d = this.state.degraded;
    const probeAt = !d || d.probing || d.retryAtMs <= nowMs ? undefined : d.retryAtMs;
    if (d && d.scope === undefined) return probeAt;
    let earliest = probeAt;
    for (const b of this.state.waiting) {
      if (b.notBeforeMs !== undefined && b.notBeforeMs > nowMs)
        earliest = earliest === undefined ? b.notBeforeMs : Math.min(earliest, b.notBeforeMs);
    }
    return earliest;
  }

  // ---- events --------------------------------------------------------------------------------

  /** New work from discovery (or a Pipeline's queue), behind what already waits. */
  add(batches: readonly BatchIn<P>[]): void {
    for (const b of batches) {
      this.state.waiting.push({
        batchId: b.batchId,
        rows: b.rows,
        payload: b.payload,
        attempts: 0,
        maxAttempts: this.settings.retry.maxAttempts,
        splitDepth: 0,
      });
    }
  }

  /** Drops waiting batches (a spec change that makes them meaningless). */
  clearWaiting(): void {
    this.state.waiting = [];
  }

  /**
   * The claims to send now: none while paused, draining or degraded (but for the probe), else
   * claims until `maxInFlightClaims` are out or nothing is ready. While draining with nothing
   * out, continue-as-new.
   */
  plan(nowMs: number, mode: { paused: boolean; draining: boolean }): EnvelopeCommand<P>[] {
    if (mode.draining) return this.state.claims.length === 0 ? [{ kind: 'continueAsNew' }] : [];
    if (mode.paused) return [];
    const out: EnvelopeCommand<P>[] = [];
    const d = this.state.degraded;
    // Held back: every batch, or only the degraded scope's (the rest go on as before).
    const held = (b: EnvelopeBatch<P>) =>
      d !== undefined && (d.scope === undefined || this.scopeOf(b) === d.scope);
    // A scoped probe takes a free slot; an unscoped one goes out beside the claims still out.
    const slot = d?.scope === undefined || this.state.claims.length < this.settings.maxInFlightClaims;
    if (d && !d.probing && nowMs >= d.retryAtMs && slot) {
      const [probe] = this.takeReady(nowMs, 1, 1, held);
      if (probe) {
        d.probing = true;
        out.push(this.claimOf([probe], nowMs, true));
      }
    }
    if (d && d.scope === undefined) return out;
    const free = (b: EnvelopeBatch<P>) => !held(b);
    while (this.state.claims.length < this.settings.maxInFlightClaims) {
      const slots = this.settings.maxInFlightClaims - this.state.claims.length;
      const ready = this.state.waiting.filter((b) => (b.notBeforeMs ?? 0) <= nowMs && free(b)).length;
      if (ready === 0) break;
      const size = Math.max(1, Math.min(this.targetBatchesPerClaim(), Math.ceil(ready / slots)));
      const batches = this.takeReady(nowMs, size, this.settings.maxRowsPerClaim, free);
      out.push(this.claimOf(batches, nowMs, false));
    }
    return out;
  }

  private scopeOf(b: EnvelopeBatch<P>): string | undefined {
    return this.ops.scopeOf?.(b.payload);
  }

  /** A claim ended (its activity completed): apply each batch's outcome. */
  onClaimReport(report: ClaimReport, nowMs: number): EnvelopeCommand<P>[] {
    const claim = this.removeClaim(report.claimId);
    if (!claim) return [];
    const out: EnvelopeCommand<P>[] = [];
    const byId = new Map(report.outcomes.map((o) => [o.batchId, o]));
    // Batches a stop left unrun go back to the front, in order, uncharged (behind the halves
    // of a batch split below, which go first).
    this.state.waiting.unshift(...claim.batches.filter((b) => !byId.has(b.batchId)));
    for (const batch of claim.batches) {
      const outcome = byId.get(batch.batchId);
      if (outcome) out.push(...this.applyOutcome(batch, outcome, nowMs));
    }
    if (report.systemic) out.push(this.degrade(report.systemic, nowMs));
    else if (claim.probe && this.state.degraded) {
      const reason = this.state.degraded.reason;
      delete this.state.degraded;
      out.push({ kind: 'recovered', reason });
    }
    return out;
  }

  /**
   * A claim's activity failed for good (its attempts ran out, or a non-retryable failure).
   * `progress` is its last heartbeat: finished batches keep their outcomes, the first unfinished
   * batch is the suspect and is charged every attempt, the rest go back uncharged.
   */
  onClaimFailed(
    claimId: string,
    failure: FailureReport,
    progress: ClaimReport | undefined,
    nowMs: number,
  ): EnvelopeCommand<P>[] {
    const claim = this.state.claims.find((c) => c.claimId === claimId);
    if (!claim) return [];
    const kind = failureKind(failure.type);
    const report: ClaimReport = { claimId, outcomes: progress?.outcomes ?? [] };
    if (kind.scope === 'systemic') return this.onClaimReport({ ...report, systemic: failure }, nowMs);
    const finished = new Set(report.outcomes.map((o) => o.batchId));
    const suspect = claim.batches.find((b) => !finished.has(b.batchId));
    if (suspect) {
      suspect.attempts = suspect.maxAttempts - 1; // the claim used the whole policy on it
      // A retried claim named the rows of the batch it computed first: pin the suspect to them.
      const running = progress?.running;
      const rows = running?.batchId === suspect.batchId ? running.batchRowIds : undefined;
      report.outcomes = [
        ...report.outcomes,
        {
          batchId: suspect.batchId,
          status: 'failed',
          ms: 0,
          failure: rows ? { ...failure, batchRowIds: rows } : failure,
        },
      ];
    }
    return this.onClaimReport(report, nowMs);
  }

  // ---- internals -----------------------------------------------------------------------------

  private applyOutcome(batch: EnvelopeBatch<P>, outcome: BatchOutcome, nowMs: number): EnvelopeCommand<P>[] {
    if (outcome.ms > 0) {
      const avg = this.state.batchMsAverage;
      this.state.batchMsAverage = avg === undefined ? outcome.ms : avg * 0.8 + outcome.ms * 0.2;
    }
    if (outcome.status === 'done') {
      return (outcome.rowFailures ?? []).map((failure) => ({
        kind: 'deadLetter' as const,
        batch,
        rowIds: failure.rowIds ?? [],
        failure,
        attempts: batch.attempts + 1,
      }));
    }
    const { failure } = outcome;
    const kind = failureKind(failure.type);
    if (kind.scope === 'systemic') {
      // Systemic faults are reported on the claim; one seen on a batch still charges nothing.
      this.state.waiting.unshift(batch);
      return [];
    }
    if (kind.scope === 'row' && failure.rowIds && failure.rowIds.length > 0) {
      return [{ kind: 'deadLetter', batch, rowIds: failure.rowIds, failure, attempts: batch.attempts + 1 }];
    }
    if (failure.batchRowIds && this.ops.resolve) {
      const resolved = this.ops.resolve(batch.payload, failure.batchRowIds);
      if (resolved !== batch.payload) {
        batch.payload = resolved;
        batch.rows = failure.batchRowIds.length;
      }
    }
    batch.attempts += 1;
    if (kind.retryable && batch.attempts < batch.maxAttempts) {
      const retryAtMs = nowMs + retryBackoffMs(this.settings.retry, batch.attempts);
      this.state.waiting.push({ ...batch, notBeforeMs: retryAtMs });
      return [{ kind: 'retry', batch, failure, retryAtMs }];
    }
    if (batch.rows > 1) {
      // Isolate the failing rows: each half is retried on its own, ahead of new work.
      const [a, b] = this.ops.split(batch.payload);
      const half = (payload: P, n: number, rows: number): EnvelopeBatch<P> => ({
        batchId: `${batch.batchId}.${n}`,
        rows,
        payload,
        attempts: 0,
        maxAttempts: Math.min(this.settings.retry.maxAttempts, SPLIT_MAX_ATTEMPTS),
        splitDepth: batch.splitDepth + 1,
      });
      const firstRows = Math.ceil(batch.rows / 2);
      this.state.waiting.unshift(half(a, 1, firstRows), half(b, 2, batch.rows - firstRows));
      return [{ kind: 'split', batch, failure }];
    }
    return [{ kind: 'deadLetter', batch, failure, attempts: batch.attempts }];
  }

  private degrade(failure: FailureReport, nowMs: number): EnvelopeCommand<P> {
    const retry = this.settings.retry;
    const first = Math.max(1_000, retry.initialBackoffSeconds * 1000);
    const cap = Math.max(first, retry.maxBackoffSeconds * 1000);
    const previous = this.state.degraded;
    // A scope only when the kind knows scopes; a second fault elsewhere holds back everything.
    const named = this.ops.scopeOf ? failure.namespace : undefined;
    const scope = previous && previous.scope !== named ? undefined : named;
    const backoffMs = previous ? Math.min(cap, previous.backoffMs * 2) : first;
    // A failure that knows when to try again (a shared rate limit's next permit) is tried then,
    // not after a doubling backoff: the wait is the budget's, not a fault's.
    const retryInMs =
      failure.retryAfterMs !== undefined
        ? Math.max(1_000, Math.min(5 * 60_000, failure.retryAfterMs))
        : backoffMs;
    this.state.degraded = {
      reason: failure.type,
      ...(scope !== undefined ? { scope } : {}),
      message: failure.message,
      sinceMs: previous?.sinceMs ?? nowMs,
      retryAtMs: nowMs + retryInMs,
      backoffMs,
      probing: false,
    };
    return { kind: 'degraded', degraded: { ...this.state.degraded } };
  }

  /** Up to `maxBatches` ready batches (FIFO) within `maxRows` (at least one), of those `eligible`. */
  private takeReady(
    nowMs: number,
    maxBatches: number,
    maxRows: number,
    eligible: (b: EnvelopeBatch<P>) => boolean = () => true,
  ): EnvelopeBatch<P>[] {
    const taken: EnvelopeBatch<P>[] = [];
    const kept: EnvelopeBatch<P>[] = [];
    let rows = 0;
    const weightOf = (b: EnvelopeBatch<P>): number =>
      this.settings.rowCap === 'listed' && this.ops.listedRows ? this.ops.listedRows(b.payload) : b.rows;
    for (const b of this.state.waiting) {
      const ready = (b.notBeforeMs ?? 0) <= nowMs && eligible(b);
      const weight = weightOf(b);
      const fits = taken.length === 0 || (taken.length < maxBatches && rows + weight <= maxRows);
      if (ready && fits) {
        taken.push(b);
        rows += weight;
      } else kept.push(b);
    }
    this.state.waiting = kept;
    return taken;
  }

  private claimOf(batches: EnvelopeBatch<P>[], nowMs: number, probe: boolean): EnvelopeCommand<P> {
    this.state.claimSeq += 1;
    const claim: Claim<P> = {
      claimId: `${this.claimPrefix}-c${this.state.claimSeq}`,
      batches: batches.map(({ notBeforeMs: _, ...b }) => b),
      sinceMs: nowMs,
      ...(probe ? { probe: true } : {}),
    };
    this.state.claims.push(claim);
    const splitOnly = claim.batches.every((b) => b.splitDepth > 0);
    return {
      kind: 'dispatch',
      claim,
      maxAttempts: splitOnly
        ? Math.min(this.settings.retry.maxAttempts, SPLIT_MAX_ATTEMPTS)
        : this.settings.retry.maxAttempts,
    };
  }

  private removeClaim(claimId: string): Claim<P> | undefined {
    const i = this.state.claims.findIndex((c) => c.claimId === claimId);
    if (i < 0) return undefined;
    return this.state.claims.splice(i, 1)[0];
  }
}
