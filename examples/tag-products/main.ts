// Worker image entry point for the tag-products example: the operator's environment (pull or
// push, port, concurrency, Temporal, store) is read by runWorker.
import { runWorker } from '@hevlayer/worker';
import { tagProducts } from './handler.js';

await runWorker({
  handler: tagProducts,
  onReady: ({ dispatch, port }) =>
    process.stdout.write(`tag-products ${dispatch} worker ${port ? `listening on :${port}` : 'polling'}\n`),
});
