// The claim-workflow shell: the loop the Function and Pipeline workflows share (docs/adr/0094).
// It owns the wake counter, the hand-over (claims per run, continueAsNewSuggested, side tasks and
// handlers finished, then continue-as-new), dispatching the envelope's claims and feeding their
// reports back, executing the envelope's commands with their counters and observations, the
// phase search attribute, the Temporal UI details and the wait for the next event. A workload
// kind supplies a ClaimWorkflowKind: how a claim starts, how outcomes count, how a batch is
// dead-lettered, what feeds the envelope (discovery, a queue, a listing), what holds dispatch,
// its phase, details and next input. Workflow code: deterministic, sandbox-safe.
//
// Command order is history: every promise chain here has the shape the workflows had before the
// shell (`activity.then(report).catch(failure).finally(wake)`), so recorded runs replay.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  claimProgressFrom,
  unpackClaimReport,
  type BatchOutcome,
  type ClaimReport,
  type PackedClaimReport,
} from '../../packages/worker/src/contracts/claims.js';
import {
  observeClaimAttempt,
  observeFailure,
  observeRetry,
  type WorkloadObservations,
} from '../contracts/observations.js';
import {
  ENGINE_SUMMARY_MEMO_KEY,
  summaryToPublish,
  type EngineSummary,
  type PublishedSummary,
} from '../contracts/engine-summary.js';
import { LayerPhaseKey } from '../contracts/search-attributes.js';
import {
  BatchEnvelope,
  type Claim,
  type EnvelopeCommand,
  type EnvelopeSettings,
  type EnvelopeState,
  type PayloadOps,
} from '../envelope/batch-envelope.js';
import { carriedEnvelope, failureOf, waitForNextEvent } from '../envelope/claim-shell.js';

/** The patch that once chose between the v1 and v2 engines of both kinds; deprecated (ADR 0067). */
export const ENGINE_V2_PATCH = 'engine-v2';
/**
 * Runs started with it keep a summary in their memo for the operator and KEDA to read without a
 * query (docs/adr/0127); runs recorded before it answer only queries until they continue-as-new.
 */
export const ENGINE_SUMMARY_PATCH = 'engine-summary-memo';

export type DeadLetterCommand<P> = Extract<EnvelopeCommand<P>, { kind: 'deadLetter' }>;
export type CarriedEnvelope<P> = ReturnType<typeof carriedEnvelope<P>>;

/** What one pass of the loop knows when it asks the kind for work. */
export interface LoopMode {
  /** Normal dispatch is held (a pause, a canary): claims already out finish. */
  holding: boolean;
  /** The run is handing over: nothing new starts, claims out finish, then continue-as-new. */
  draining: boolean;
}

/** The state every claim workflow carries that the shell writes. */
export interface ClaimWorkflowState {
  counters: { retries: number; failedBatches: number };
  observations: WorkloadObservations;
  lastError?: string;
}

/** What a workload kind (Function, Pipeline) plugs into the shell. */
export interface ClaimWorkflowKind<P, Phase extends string, Input> {
  /** Log fields naming the workload, e.g. `{ function: 'shop/tagger' }`. */
  logFields(): Record<string, string>;
  /**
   * Starts a claim's activity and returns the activity's own promise — not an `async` wrapper,
   * whose extra turns would move the commands scheduled on its report in recorded histories.
   * The report may come back packed (docs/adr/0100): the shell unpacks it with the claim.
   */
  startClaim(claim: Claim<P>, maxAttempts: number): Promise<ClaimReport | PackedClaimReport>;
  /** The claim's activity ended (reported, failed or cancelled). */
  claimEnded?(claim: Claim<P>): void;
  /** A claim is about to go out. */
  onDispatch?(claim: Claim<P>): void;
  /** Counts a claim's finished batches (from its report, or a failed claim's last heartbeat). */
  count(claim: Claim<P>, outcomes: readonly BatchOutcome[]): void;
  /** Gives up on a batch or its failing rows; returns the side task that records it, if any. */
  deadLetter(command: DeadLetterCommand<P>): Promise<unknown> | undefined;
  /** Whether normal dispatch is held now (pause, canary). */
  holding(): boolean;
  /** Feeds the envelope before it plans (discovery, a queue, a listing, a canary). */
  feed(nowMs: number, mode: LoopMode): void;
  /** Workflow time at which `feed` has work even if nothing else happens (the next pass). */
  nextFeedAtMs(mode: LoopMode): number | undefined;
  /** Side work the kind tracks itself (scans, a listing) has ended: the hand-over may go. */
  quiet(): boolean;
  phase(draining: boolean): Phase;
  /**
   * What the workflow shows outside, from one status computed per pass: the Temporal UI details
   * (markdown) and the summary the operator and KEDA read from the memo (docs/adr/0127).
   */
  view(): { details: string; summary: EngineSummary };
  /** The next run's input, with what the envelope carries. */
  nextInput(envelope: CarriedEnvelope<P>): Input;
}

export interface ClaimWorkflowShellOptions<P, Phase extends string> {
  payloadOps: PayloadOps<P>;
  settings: EnvelopeSettings;
  carried: Partial<EnvelopeState<P>> | undefined;
  state: ClaimWorkflowState;
  /** Claims per run before continue-as-new even if the server has not suggested it yet. */
  claimsPerRun: number;
  initialPhase: Phase;
  /** Runs started with the summary patch write it to the memo; older runs replay without (ADR 0127). */
  publishSummary: boolean;
}

export class ClaimWorkflowShell<P, Phase extends string> {
  /** The run id's prefix: names claims and batches, unique per run. */
  readonly runTag = workflowInfo().runId.slice(0, 8);
  /** The workflow time the last wait reached (see waitForNextEvent): the loop's clock never runs behind it. */
  private clockFloor = 0;
  readonly envelope: BatchEnvelope<P>;
  private readonly state: ClaimWorkflowState;
  private readonly claimsPerRun: number;
  private currentPhase: Phase;
  private wake = 0;
  private claimsThisRun = 0;
  private sideTasks = 0;
  private draining = false;
  private readonly publishesSummary: boolean;
  private lastSummary: PublishedSummary | undefined;

  constructor(opts: ClaimWorkflowShellOptions<P, Phase>) {
    this.envelope = new BatchEnvelope<P>(opts.payloadOps, opts.settings, this.runTag, opts.carried);
    this.state = opts.state;
    this.claimsPerRun = opts.claimsPerRun;
    this.currentPhase = opts.initialPhase;
    this.publishesSummary = opts.publishSummary;
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  /** Something changed (a message, a finished activity): the loop runs again. */
  readonly bump = (): void => {
    this.wake += 1;
  };

  /**
   * Work beside the claims (a count, a dead letter, a cleanup, the canary): the hand-over waits
   * for it, and its end wakes the loop. Pass the chain with its failures already handled.
   */
  sideTask(task: Promise<unknown>): void {
    this.sideTasks += 1;
    void task.finally(() => {
      this.sideTasks -= 1;
      this.bump();
    });
  }

  /** The loop: runs until continue-as-new (or the workflow is cancelled). */
  async run<Input>(kind: ClaimWorkflowKind<P, Phase, Input>): Promise<never> {
    for (;;) {
      if (
        !this.draining &&
        (workflowInfo().continueAsNewSuggested || this.claimsThisRun >= this.claimsPerRun)
      )
        this.draining = true;
      // Never behind the deadline of a timer that already fired (waitForNextEvent, ADR 0126).
      const now = Math.max(Date.now(), this.clockFloor);
      const mode: LoopMode = { holding: kind.holding(), draining: this.draining };
      kind.feed(now, mode);
      const commands = this.envelope.plan(now, { paused: mode.holding, draining: mode.draining });
      const handOver = commands.some((c) => c.kind === 'continueAsNew');
      this.execute(kind, commands);

      this.setPhase(kind.phase(this.draining));
      const view = kind.view();
      setCurrentDetails(view.details);
      if (this.publishesSummary) this.publishSummary(view.summary, now);

      if (handOver && this.sideTasks === 0 && kind.quiet()) {
        await condition(allHandlersFinished);
        await continueAsNew<(input: Input) => Promise<void>>(kind.nextInput(carriedEnvelope(this.envelope)));
      }

      const seen = this.wake;
      this.clockFloor = await waitForNextEvent(
        () => this.wake !== seen,
        [kind.nextFeedAtMs(mode), this.envelope.nextWakeAtMs(now)],
      );
    }
  }

  private setPhase(next: Phase): void {
    if (next === this.currentPhase) return;
    this.currentPhase = next;
    upsertSearchAttributes([{ key: LayerPhaseKey, value: next }]);
  }

  /** The memo the operator and KEDA read without a workflow task, throttled (ADR 0127). */
  private publishSummary(next: EngineSummary, nowMs: number): void {
    const summary = summaryToPublish(this.lastSummary, next, nowMs);
    if (!summary) return;
    this.lastSummary = { summary, atMs: nowMs };
    upsertMemo({ [ENGINE_SUMMARY_MEMO_KEY]: summary });
  }

  private execute(kind: ClaimWorkflowKind<P, Phase, unknown>, commands: readonly EnvelopeCommand<P>[]): void {
    const counters = this.state.counters;
    for (const command of commands) {
      switch (command.kind) {
        case 'dispatch':
          this.dispatch(kind, command.claim, command.maxAttempts);
          break;
        case 'deadLetter': {
          // A whole batch (one row or item) that failed for good; row-scoped failures fail no batch.
          if (!command.rowIds) counters.failedBatches += 1;
          const recording = kind.deadLetter(command);
          if (recording) this.sideTask(recording);
          break;
        }
        case 'split':
          counters.failedBatches += 1;
          break;
        case 'retry':
          counters.retries += 1;
          observeRetry(this.state.observations, command.failure.type);
          break;
        case 'degraded':
          this.state.lastError = `${command.degraded.reason}: ${command.degraded.message}`;
          break;
        case 'recovered':
        case 'continueAsNew':
          break;
      }
    }
  }

  private dispatch(kind: ClaimWorkflowKind<P, Phase, unknown>, claim: Claim<P>, maxAttempts: number): void {
    this.claimsThisRun += 1;
    kind.onDispatch?.(claim);
    const { observations } = this.state;
    kind
      .startClaim(claim, maxAttempts)
      .then((result) => {
        const report = unpackClaimReport(
          result,
          claim.batches.map((b) => b.batchId),
        );
        // Through the Runtime's logger (src/observe): the SDK adds workflowId and runId.
        log.debug('claim finished', {
          ...kind.logFields(),
          claimId: claim.claimId,
          batchIds: report.outcomes.map((o) => o.batchId),
          failed: report.outcomes.filter((o) => o.status === 'failed').length,
        });
        kind.count(claim, report.outcomes);
        if (report.systemic) observeFailure(observations, report.systemic.type);
        observeClaimAttempt(observations, report.attempt);
        this.execute(kind, this.envelope.onClaimReport(report, Date.now()));
      })
      .catch((err: unknown) => {
        // Cancelled: the workload was deleted and the run is ending.
        if (isCancellation(err)) return;
        const { failure, progress } = failureOf(err);
        const finished = claimProgressFrom(progress, claim.claimId);
        if (finished) kind.count(claim, finished.outcomes);
        observeFailure(observations, failure.type);
        log.warn('claim failed', {
          ...kind.logFields(),
          claimId: claim.claimId,
          failureType: failure.type,
          message: failure.message,
        });
        this.state.lastError = `${claim.claimId}: ${failure.message}`;
        this.execute(kind, this.envelope.onClaimFailed(claim.claimId, failure, finished, Date.now()));
      })
      .finally(() => {
        kind.claimEnded?.(claim);
        this.bump();
      });
  }
}
