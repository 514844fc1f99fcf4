// A new output.version waits for the worker rollout (docs/adr/0124): the pure rule, the rollout
// test it reads, and the status fields that record which version the workflow was given.
import { describe, expect, it } from 'vitest';
import {
  outputVersionFields,
  outputVersionHold,
  syncOrHold,
  type OutputVersionHoldInput,
} from '../../../src/operator/output-version-hold.js';
import { deploymentRolledOut, workerImage } from '../../../src/operator/worker-availability.js';

const deployment = (image: string, rolledOut: boolean) => ({
  desiredReplicas: 2,
  availableReplicas: 2,
  progressDeadlineExceeded: false,
  image,
  rolledOut,
});

describe('outputVersionHold', () => {
  it.each<{ row: string; input: OutputVersionHoldInput; held: boolean }>([
    // The hazard: one apply changes both; the pass that rolls the image sees the old Deployment.
    {
      row: 'new version and new image in one apply',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:2', deployment: deployment('app:1', true) },
      held: true,
    },
    // The next passes: the Deployment has the new template, old pods still poll.
    {
      row: 'new version, rollout to the new image under way',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:2', deployment: deployment('app:2', false) },
      held: true,
    },
    {
      row: 'new version, rollout complete',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:2', deployment: deployment('app:2', true) },
      held: false,
    },
    // The old order (image first, then the version) never waits once the image is out.
    {
      row: 'new version on the image already running',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:1', deployment: deployment('app:1', true) },
      held: false,
    },
    // Another template change (a podSpec patch) still rolling: its old pods run other code too.
    {
      row: 'new version while an earlier rollout of the same image is not complete',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:1', deployment: deployment('app:1', false) },
      held: true,
    },
    // Only the image changes: the workflow keeps its version, old and new builds compute the same one.
    {
      row: 'same version, new image',
      input: { running: 'v1', desired: 'v1', plannedImage: 'app:2', deployment: deployment('app:1', true) },
      held: false,
    },
    // No Deployment, so no pod of an old build: its first pods are of the planned template.
    {
      row: 'no Deployment yet',
      input: { running: 'v1', desired: 'v2', plannedImage: 'app:2', deployment: undefined },
      held: false,
    },
    // Never synced, or synced by an operator that did not record the version: nothing to hold to.
    {
      row: 'no version recorded',
      input: {
        running: undefined,
        desired: 'v2',
        plannedImage: 'app:2',
        deployment: deployment('app:1', false),
      },
      held: false,
    },
    // A rollout back to the version the workflow runs is no change of version.
    {
      row: 'version set back to the running one mid-rollout',
      input: { running: 'v1', desired: 'v1', plannedImage: 'app:2', deployment: deployment('app:2', false) },
      held: false,
    },
  ])('$row → held $held', ({ input, held }) => {
    expect(outputVersionHold(input) !== undefined).toBe(held);
  });

  it('says which version waits, for which image, and what the workflow keeps', () => {
    expect(
      outputVersionHold({
        running: 'v1',
        desired: 'v2',
        plannedImage: 'app:2',
        deployment: deployment('app:1', true),
      }),
    ).toBe(
      'spec.output.version v2 waits for the worker rollout: the Deployment runs app:1 and is being rolled to app:2; ' +
        'the workflow keeps the previous spec (output.version v1) until no pod of the old build is left',
    );
  });
});

describe('deploymentRolledOut', () => {
  it.each([
    // Steady state.
    {
      row: 'all pods of the current template',
      generation: 4,
      status: { observedGeneration: 4, replicas: 2, updatedReplicas: 2 },
      want: true,
    },
    // The controller has not seen the new template yet: its counts describe the old one.
    {
      row: 'spec not observed yet',
      generation: 5,
      status: { observedGeneration: 4, replicas: 2, updatedReplicas: 2 },
      want: false,
    },
    // One new pod, two old ones still counted.
    {
      row: 'old pods left',
      generation: 5,
      status: { observedGeneration: 5, replicas: 3, updatedReplicas: 1 },
      want: false,
    },
    // KEDA scaled it to zero: the apiserver leaves the counts unset.
    { row: 'scaled to zero, nothing old left', generation: 5, status: { observedGeneration: 5 }, want: true },
    // Never observed by a controller: no ReplicaSet, so no pod of any template (just created, or
    // an apiserver without controllers).
    { row: 'no status yet', generation: 1, status: undefined, want: true },
  ])('$row → $want', ({ generation, status, want }) => {
    expect(deploymentRolledOut({ metadata: { generation }, status })).toBe(want);
  });
});

describe('workerImage', () => {
  it.each([
    {
      row: 'the worker container',
      spec: { containers: [{ name: 'worker', image: 'app:1' }] },
      want: 'app:1',
    },
    // A sidecar a podSpec patch put first.
    {
      row: 'the worker container among others',
      spec: {
        containers: [
          { name: 'proxy', image: 'envoy' },
          { name: 'worker', image: 'app:1' },
        ],
      },
      want: 'app:1',
    },
    {
      row: 'the first when none is named worker',
      spec: { containers: [{ name: 'main', image: 'app:1' }] },
      want: 'app:1',
    },
    { row: 'no pod spec', spec: undefined, want: undefined },
  ])('$row → $want', ({ spec, want }) => {
    expect(workerImage(spec)).toBe(want);
  });
});

describe('status.outputVersion and status.pendingOutputVersion', () => {
  const hold = { desired: 'v2', plannedImage: 'app:2', deployment: deployment('app:1', true) };
  it.each([
    // The first sync records the version.
    {
      row: 'first sync',
      previous: undefined,
      pass: syncOrHold(undefined, hold),
      want: { outputVersion: 'v2' },
    },
    {
      row: 'held',
      previous: { outputVersion: 'v1' },
      pass: syncOrHold({ outputVersion: 'v1' }, hold),
      want: { outputVersion: 'v1', pendingOutputVersion: 'v2' },
    },
    // The release removes the pending one (a merge patch removes a field set to null).
    {
      row: 'released',
      previous: { outputVersion: 'v1', pendingOutputVersion: 'v2' },
      pass: syncOrHold(
        { outputVersion: 'v1', pendingOutputVersion: 'v2' },
        { ...hold, deployment: deployment('app:2', true) },
      ),
      want: { outputVersion: 'v2', pendingOutputVersion: null },
    },
    // Nothing pending before: no null to write, so an unchanged status stays unchanged.
    {
      row: 'synced again',
      previous: { outputVersion: 'v2' },
      pass: syncOrHold({ outputVersion: 'v2' }, hold),
      want: { outputVersion: 'v2' },
    },
    // Blocked, refused, stopped: the workflow got nothing, status keeps what it said.
    {
      row: 'untouched',
      previous: { outputVersion: 'v1', pendingOutputVersion: 'v2' },
      pass: 'untouched' as const,
      want: { outputVersion: 'v1', pendingOutputVersion: 'v2' },
    },
  ])('$row', ({ previous, pass, want }) => {
    expect(outputVersionFields(previous, pass)).toEqual(want);
  });
});
