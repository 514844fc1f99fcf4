// bench:function's idle phase: what a Function with nothing to do costs Temporal. 10,000 Functions
// cost more at rest than at work if each discovery pass is expensive (Temporal Cloud's default is
// 500 actions/s per namespace), so the capacity plan (docs/scale.md) needs the cost of one pass.
// A Function over the no-op phase's namespace — every row already at the bench's version — with a
// 1 s discovery interval runs for --idle-seconds (default 20); its history gives billable actions,
// events and payload bytes per discovery pass.
import { getFunctionStatus, startOrUpdateFunction } from '../../src/client/function-client.js';
import { functionWorkflowId } from '../../packages/worker/src/contracts/names.js';
import { temporalCosts } from '../temporal-costs.js';
import { arg } from '../harness.js';
import { log, round, RUN_TAG, sleep } from './settings.js';
import { benchSpec, type PhaseTarget } from './temporal-phase.js';

const IDLE_SECONDS = arg('idle-seconds', 20);

export interface IdleCosts {
  passes: number;
  actionsPerPass: number;
  eventsPerPass: number;
  historyBytesPerPass: number;
}

export async function runIdlePhase(target: PhaseTarget, doneNamespace: string): Promise<IdleCosts> {
  log(`\nphase 5: an idle Function (every row done), discovery every 1 s, for ${IDLE_SECONDS} s`);
  const spec = benchSpec(`idle-${RUN_TAG}`, doneNamespace, 64, 8);
  spec.schedule.discoveryIntervalSeconds = 1;
  const ref = { k8sNamespace: spec.k8sNamespace, name: spec.name };
  const workflowId = functionWorkflowId(spec.k8sNamespace, spec.name);
  await startOrUpdateFunction(target.client, spec);
  await sleep(IDLE_SECONDS * 1000);
  const status = await getFunctionStatus(target.client, ref);
  await target.client.workflow
    .getHandle(workflowId)
    .terminate('benchmark phase finished')
    .catch(() => undefined);
  const costs = await temporalCosts(target.client, workflowId);
  const passes = Math.max(1, status.counters.discoveries);
  // The status query above is the one billable action not in history.
  const idle = {
    passes,
    actionsPerPass: round((costs.historyActions + 1) / passes, 2),
    eventsPerPass: round(costs.events / passes, 2),
    historyBytesPerPass: round(costs.payloadBytes / passes),
  };
  log(
    `  idle: ${passes} discovery passes in ${IDLE_SECONDS} s; per pass ${idle.actionsPerPass} actions, ` +
      `${idle.eventsPerPass} history events, ${idle.historyBytesPerPass} payload bytes ` +
      `(${JSON.stringify(costs.actionsByKind)})`,
  );
  return idle;
}
