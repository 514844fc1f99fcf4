// A one-activity workflow used only by the Temporal smoke test.
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { LayerPhaseKey } from '../../../src/contracts/search-attributes.js';

export interface SmokeActivities {
  greet(name: string): Promise<string>;
}

const { greet } = proxyActivities<SmokeActivities>({ startToCloseTimeout: '10 seconds' });

export async function smokeWorkflow(name: string): Promise<string> {
  const greeting = await greet(name);
  upsertSearchAttributes([{ key: LayerPhaseKey, value: 'done' }]);
  return greeting;
}
