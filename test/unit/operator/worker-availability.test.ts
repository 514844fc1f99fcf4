// WorkerAvailable from the Deployment and pods the apiserver reports, and how Ready and Degraded
// follow from it in the one place Ready is computed (finalStatus).
import { describe, expect, it } from 'vitest';
import { statusEvents } from '../../../src/operator/reconcile-conditions.js';
import { finalStatus } from '../../../src/operator/reconcile/status.js';
import type { StatusDraft } from '../../../src/operator/reconcile-types.js';
import {
  podProblemsOf,
  workerAvailability,
  type WorkerObservation,
} from '../../../src/operator/worker-availability.js';

const running = { paused: false, scalingMode: 'autoscale' };
const deployment = (
  desiredReplicas: number,
  availableReplicas: number,
  progressDeadlineExceeded = false,
) => ({
  deployment: { desiredReplicas, availableReplicas, progressDeadlineExceeded, rolledOut: true },
});
const problem = (reason: string) => ({ pod: 'p-1', container: 'worker', reason, message: 'm' });

describe('workerAvailability', () => {
  it.each<[string, { paused: boolean; scalingMode: string }, WorkerObservation, string, string]>([
    [
      'paused asks for zero',
      { paused: true, scalingMode: 'autoscale' },
      { podProblems: [] },
      'True',
      'Paused',
    ],
    [
      'disabled asks for zero',
      { paused: false, scalingMode: 'disabled' },
      { podProblems: [] },
      'True',
      'ScalingDisabled',
    ],
    ['no Deployment yet', running, { podProblems: [] }, 'Unknown', 'DeploymentNotFound'],
    [
      'one replica available',
      running,
      { ...deployment(2, 1), podProblems: [] },
      'True',
      'DeploymentAvailable',
    ],
    // KEDA scaled it to zero: only after the queue was empty for the cooldown; the healthy idle state.
    ['scaled to zero', running, { ...deployment(0, 0), podProblems: [] }, 'True', 'ScaledToZero'],
    ['starting', running, { ...deployment(1, 0), podProblems: [] }, 'Unknown', 'ReplicasStarting'],
    [
      'past its progress deadline',
      running,
      { ...deployment(1, 0, true), podProblems: [] },
      'False',
      'ReplicasUnavailable',
    ],
    // A crash loop wins over replica counts (a pod may be briefly available between crashes).
    [
      'crash loop',
      running,
      { ...deployment(1, 1), podProblems: [problem('CrashLoopBackOff')] },
      'False',
      'CrashLoop',
    ],
    [
      'image pull back-off',
      running,
      { ...deployment(1, 0), podProblems: [problem('ImagePullBackOff')] },
      'False',
      'ImagePullBackOff',
    ],
    [
      'err image pull',
      running,
      { ...deployment(1, 0), podProblems: [problem('ErrImagePull')] },
      'False',
      'ImagePullBackOff',
    ],
  ])('%s', (_row, spec, observed, status, reason) => {
    expect(workerAvailability(spec, observed)).toMatchObject({ type: 'WorkerAvailable', status, reason });
  });

  it('names the pod, the container and the last exit in the message', () => {
    const problems = podProblemsOf([
      {
        metadata: { name: 'layer-fn-x-abc' },
        status: {
          containerStatuses: [
            {
              name: 'worker',
              state: {
                waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
              },
              lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
            },
          ],
        },
      },
      // Starting containers are not problems.
      {
        metadata: { name: 'ok' },
        status: {
          containerStatuses: [{ name: 'worker', state: { waiting: { reason: 'ContainerCreating' } } }],
        },
      },
    ]);
    expect(problems).toEqual([
      {
        pod: 'layer-fn-x-abc',
        container: 'worker',
        reason: 'CrashLoopBackOff',
        message: 'back-off 40s restarting failed container (last exit 137 OOMKilled)',
      },
    ]);
    expect(workerAvailability(running, { podProblems: problems }).message).toContain(
      'pod layer-fn-x-abc container worker: CrashLoopBackOff',
    );
  });
});

function draft(worker: ReturnType<typeof workerAvailability>): StatusDraft {
  return {
    previous: undefined,
    generation: 2,
    previousConditions: [],
    conditions: [{ type: 'SpecValid', status: 'True', reason: 'Valid', message: '' }, worker],
    readyMessage: 'ok',
    workload: true,
    fields: {},
  };
}

const engineRunning = {
  condition: { type: 'WorkflowReady', status: 'True' as const, reason: 'WorkflowRunning', message: '' },
};

describe('Ready and Degraded are computed once, in finalStatus', () => {
  const cond = (s: Record<string, unknown>, type: string) =>
    (s.conditions as { type: string; status: string; reason: string }[]).find((c) => c.type === type);

  it.each([
    // Available worker + running workflow: Ready.
    ['available', deployment(1, 1), undefined, 'True', 'Ready', 'False'],
    // Nothing bad but not available yet: Unknown with the worker's reason.
    ['starting', deployment(1, 0), undefined, 'Unknown', 'ReplicasStarting', 'False'],
    // The worker crash-loops: Degraded, and Ready False with the same reason.
    ['crash loop', { ...deployment(1, 0) }, 'CrashLoopBackOff', 'False', 'CrashLoop', 'True'],
  ])('%s', (_row, obs, podReason, ready, reason, degraded) => {
    const observed = { ...obs, podProblems: podReason ? [problem(podReason)] : [] };
    const { status } = finalStatus(draft(workerAvailability(running, observed)), engineRunning, 't');
    expect(cond(status, 'Ready')).toMatchObject({ status: ready, reason });
    expect(cond(status, 'Degraded')?.status).toBe(degraded);
  });

  it('an engine that pauses dispatch for a systemic fault makes the workload Degraded, with phase and pending rows', () => {
    const { status } = finalStatus(
      draft(workerAvailability(running, { ...deployment(1, 1), podProblems: [] })),
      {
        ...engineRunning,
        workload: {
          phase: 'degraded',
          pendingRows: 1200,
          degraded: { reason: 'StoreRejected', message: 'the store refused the key', hint: 'fix the Secret' },
        },
      },
      't',
    );
    expect(cond(status, 'Degraded')).toMatchObject({ status: 'True', reason: 'StoreRejected' });
    expect(cond(status, 'Ready')).toMatchObject({ status: 'False', reason: 'StoreRejected' });
    expect(status).toMatchObject({ phase: 'degraded', pendingRows: 1200 });
  });

  it('keeps the last seen phase and pending rows when the engine was not asked this pass', () => {
    const d = {
      ...draft(workerAvailability(running, { ...deployment(1, 1), podProblems: [] })),
      previous: { phase: 'running', pendingRows: 7 },
    };
    expect(finalStatus(d, undefined, 't').status).toMatchObject({ phase: 'running', pendingRows: 7 });
  });
});

describe('statusEvents: transitions and refusals, nothing for an unchanged status', () => {
  const c = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: `${reason} msg`,
  });
  it.each([
    ['unchanged', [c('Ready', 'True', 'Ready')], [c('Ready', 'True', 'Ready')], []],
    [
      'became ready',
      [c('Ready', 'Unknown', 'ReplicasStarting')],
      [c('Ready', 'True', 'Ready')],
      ['Normal Ready'],
    ],
    [
      'crash loop',
      [c('Ready', 'True', 'Ready'), c('Degraded', 'False', 'NotDegraded')],
      [c('Ready', 'False', 'CrashLoop'), c('Degraded', 'True', 'CrashLoop')],
      ['Warning CrashLoop', 'Warning CrashLoop'],
    ],
    [
      'refused spec on first sight',
      [],
      [c('SpecValid', 'False', 'SchemaInvalid')],
      ['Warning SchemaInvalid'],
    ],
    [
      'first healthy sight is not news',
      [],
      [c('SpecValid', 'True', 'Valid'), c('Degraded', 'False', 'NotDegraded')],
      [],
    ],
  ])('%s', (_row, previous, next, expected) => {
    expect(statusEvents(previous, next).map((e) => `${e.type} ${e.reason}`)).toEqual(expected);
  });
});
