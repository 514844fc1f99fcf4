// FROZEN with function-workflow-v1.ts: the failure types that code never retries. Every other
// place reads the catalogue in src/contracts/failures.ts.
export const FAILURE_TYPES_NOT_RETRIED: readonly string[] = [
  'InvalidWorkerOutput',
  'WorkerRejectedBatch',
  'StoreRequestRejected',
];
