// Failure types the Function workflow never retries, mirrored from src/activities/failures.ts
// (which imports Node-only code and so cannot be imported here). A unit test keeps them equal.
export const FAILURE_TYPES_NOT_RETRIED: readonly string[] = [
  'InvalidWorkerOutput',
  'WorkerRejectedBatch',
  'StoreRequestRejected',
];
