// A Pipeline worker process for the chaos run: each item's text becomes one chunk per sentence.
// Configured by the SDK's variables (LAYER_TEMPORAL_ADDRESS, LAYER_TASK_QUEUE, LAYER_STORE_URL).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runPipelineWorker } from '../packages/worker/src/pipeline-worker.js';
import { chunksOf } from './work.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

await runPipelineWorker({
  process: async (items) =>
    items.map((item) => ({
      id: item.key,
      itemKey: item.key,
      chunks: chunksOf(String((item.payload as { text: string }).text)).map((text) => ({ text })),
    })),
});
