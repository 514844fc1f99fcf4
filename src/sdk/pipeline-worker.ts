// Moved to the worker SDK package (@hevlayer/worker).
export * from '../../packages/worker/src/pipeline-worker.js';
