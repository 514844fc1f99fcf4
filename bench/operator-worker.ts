// The worker process bench:operator --controllers runs for the pods of its KEDA sample Functions
// (src/dev/pod-runner.ts starts it with the pod's environment): the tag-products example, plus
// one line per handler call — `{"namespace":…,"at":<epoch ms>}` appended to
// LAYER_BENCH_CALL_LOG — so the bench can tell when a worker first processed a Function's rows.
import { appendFileSync } from 'node:fs';
import { runWorker } from '../packages/worker/src/index.js';
import { tagProducts } from '../examples/tag-products/handler.js';

const callLog = process.env.LAYER_BENCH_CALL_LOG;

await runWorker({
  handler: async (rows, context) => {
    if (callLog)
      appendFileSync(callLog, `${JSON.stringify({ namespace: context.namespace, at: Date.now() })}\n`);
    return tagProducts(rows);
  },
});
