// A pull worker process for the chaos run (SIGKILLed and restarted by it): computes
// `functionValue` for each row, throws for the throwing poison rows and returns a vector of
// the wrong dimension for the wrong-dimension row, and logs each call to CHAOS_CALL_LOG_DIR
// (call-log.ts). Configured by the SDK's own variables (LAYER_TEMPORAL_ADDRESS, LAYER_TASK_QUEUE,
// LAYER_STORE_URL) plus CHAOS_ROWS.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runFunctionWorker } from '../packages/worker/src/function-worker.js';
import { logHandlerCall } from './call-log.js';
import { DIM, functionValue, isThrowingPoison, isWrongDimension } from './work.js';

const rows = Number(process.env.CHAOS_ROWS);
const callLog = process.env.CHAOS_CALL_LOG_DIR;
Runtime.install({ logger: new DefaultLogger('ERROR') });

await runFunctionWorker({
  handler: async (batch, ctx) => {
    const poison = batch.find((r) => isThrowingPoison(Number(r.id), rows));
    if (poison) throw new Error(`chaos poison row ${String(poison.id)}: the handler always throws on it`);
    const out = batch.map((r) => {
      const value = functionValue(Number(r.id), ctx.output.version);
      return { id: r.id, value: isWrongDimension(Number(r.id), rows) ? value.slice(0, DIM - 1) : value };
    });
    if (callLog)
      logHandlerCall(
        callLog,
        ctx.namespace,
        ctx.output.version,
        batch.map((r) => r.id),
      );
    return out;
  },
});
