// A Function's canary rollout as activities (docs/adr/0055): sample rows, compute them at the new
// version into `<attribute>__canary` through the Function's own worker (one claim, same lease and
// retry rules), read a few back beside their old values, then wait for a person. The rules —
// which version runs, how the claim is cut and tallied — are pure in src/envelope/rollout.ts.
// Workflow code: deterministic, sandbox-safe.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { unpackClaimReport } from '../../packages/worker/src/contracts/claims.js';
import type { FunctionBatchPayload, RolloutState } from '../contracts/function.js';
import { failureOf } from '../envelope/claim-shell.js';
import {
  canaryClaim,
  canaryOutput,
  canarySampled,
  canaryShownRows,
  canaryTally,
  type RolloutChange,
} from '../envelope/rollout.js';
import type { ClaimWorkflowShell } from './claim-workflow-shell.js';
import { REPLAY_CALL, orchestrator, startFunctionClaim, type FunctionRun } from './function-claims.js';

export class FunctionCanary {
  running = false;
  /** The running canary's scope: an abort or a new version cancels its claim. */
  private scope: CancellationScope | undefined;

  constructor(
    private readonly run: FunctionRun,
    private readonly shell: ClaimWorkflowShell<FunctionBatchPayload, string>,
  ) {}

  /** Takes a rollout transition; removes the side attribute of one nobody will promote. */
  apply(change: RolloutChange): void {
    const { state } = this.run;
    const before = state.rollout;
    state.rollout = change.rollout;
    // A canary whose rollout was aborted or replaced stops computing (its worker may be gone).
    if (before && before !== change.rollout && this.scope) this.scope.cancel();
    if (change.clearCanary && before) this.clear(before);
  }

  /** Runs the canary of `rollout`; a rollout replaced meanwhile has its side attribute removed after. */
  start(rollout: RolloutState): void {
    this.running = true;
    const { run } = this;
    const side = canaryOutput(run.desired.output, rollout.toVersion);
    const stillCurrent = () => run.state.rollout === rollout && rollout.stage === 'canary';
    const work = async () => {
      const { spec, desired } = run;
      const sample = await orchestrator(
        `sample ${rollout.canaryRows} rows for the canary of ${rollout.toVersion} in ns ${spec.targetNamespaces.join(', ')}`,
      ).sampleCanaryRows({
        namespaces: spec.targetNamespaces,
        output: spec.output,
        canaryOutput: side,
        filter: desired.filter,
        rows: rollout.canaryRows,
        seed: rollout.toVersion,
      });
      const sampled = canarySampled(sample);
      rollout.sampled = sampled.sampled;
      if (sampled.error) rollout.error = sampled.error;
      if (rollout.sampled > 0 && stillCurrent()) {
        const current = run.spec;
        const claim = canaryClaim(sample, {
          runTag: this.shell.runTag,
          batchSize: current.worker.batchSize,
          maxAttempts: current.retry.maxAttempts,
          nowMs: Date.now(),
        });
        let result;
        try {
          result = await startFunctionClaim(run, claim, current.retry.maxAttempts, side);
        } finally {
          // The side spec is forgotten with the claim (the claimSpec query, docs/adr/0100).
          run.claimSpecs.release(claim.claimId);
        }
        const report = unpackClaimReport(
          result,
          claim.batches.map((b) => b.batchId),
        );
        const tally = canaryTally(claim, report);
        rollout.written += tally.written;
        rollout.failed += tally.failed;
        if (tally.error) rollout.error = tally.error;
        const shown = canaryShownRows(sample);
        rollout.comparison = await orchestrator(
          `read ${shown.length} canary rows beside their ${rollout.fromVersion} values`,
        ).readCanaryComparison({ rows: shown, output: run.spec.output, canaryOutput: side });
      }
    };
    const scope = (this.scope = new CancellationScope());
    this.shell.sideTask(
      scope
        .run(work)
        .catch((err: unknown) => {
          if (!isCancellation(err)) rollout.error = failureOf(err).failure.message;
        })
        .finally(() => {
          this.running = false;
          this.scope = undefined;
          if (stillCurrent()) rollout.stage = 'awaitingPromotion';
          // Aborted or replaced while the claim ran: its writes may have come after the cleanup.
          else this.clear(rollout);
        }),
    );
  }

  /** Removes the side attribute of `rollout` from the rows (a side task). */
  private clear(rollout: RolloutState): void {
    const { run } = this;
    const side = canaryOutput(run.desired.output, rollout.toVersion);
    this.shell.sideTask(
      orchestrator(`remove the canary attribute ${side.attribute}`, REPLAY_CALL)
        .clearCanary({ namespaces: run.spec.targetNamespaces, canaryOutput: side })
        .catch((err: unknown) => {
          if (!isCancellation(err))
            run.state.lastError = `removing the canary attribute: ${failureOf(err).failure.message}`;
        }),
    );
  }
}
