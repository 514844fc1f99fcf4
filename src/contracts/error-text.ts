// Moved to the worker SDK package (@hevlayer/worker); the orchestrator shares this module with it.
export * from '../../packages/worker/src/contracts/error-text.js';
