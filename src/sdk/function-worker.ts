// Moved to the worker SDK package (@hevlayer/worker).
export * from '../../packages/worker/src/function-worker.js';
