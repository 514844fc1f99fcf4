// Queue depth, the one figure KEDA scales every workload's workers on: batches waiting for a
// worker plus batches a worker holds. Pure and sandbox-safe; each kind turns its status into the
// three numbers (src/operator/workload-workflows.ts for Functions, pipeline.ts for Pipelines).

/**
 * ceil(pendingRows / batchSize) + inFlightBatches, never negative.
 *
 * @example queueDepthOf(130, 64, 1) // 4
 */
export function queueDepthOf(pendingRows: number, batchSize: number, inFlightBatches: number): number {
  const pending = Math.max(0, pendingRows);
  return Math.ceil(pending / Math.max(1, batchSize)) + Math.max(0, inFlightBatches);
}
