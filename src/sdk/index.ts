// The worker SDK lives in packages/worker (published as @hevlayer/worker); this path keeps the
// imports of src/ and test/ working.
export * from '../../packages/worker/src/index.js';
