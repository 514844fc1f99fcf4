// The worker process bench:operator --controllers runs for the pods of its KEDA sample Functions
// (src/dev/pod-runner.ts starts it with the pod's environment): the tag-products example, plus
// one line per handler call — `{"namespace":…,"at":<epoch ms>}` appended to
// LAYER_BENCH_CALL_LOG — so the bench can tell when a worker first processed a Function's rows,
// and one `{"loaded":<Function>,"at":…}` when the process has started and loaded its modules
// (just before it connects to Temporal), which splits process start from claiming.
import { appendFileSync } from 'node:fs';
import { runWorker } from '../packages/worker/src/index.js';
import { tagProducts } from '../examples/tag-products/handler.js';

const callLog = process.env.LAYER_BENCH_CALL_LOG;

const log = (entry: object) => {
  if (callLog) appendFileSync(callLog, `${JSON.stringify({ ...entry, at: Date.now() })}\n`);
};

await runWorker({
  onReady: ({ settings }) => log({ loaded: settings.workload.name }),
  handler: async (rows, context) => {
    log({ namespace: context.namespace });
    return tagProducts(rows);
  },
});
