// The Temporal SDK's workflow threads enter the workflow sandbox with `vm.Script#runInContext`
// and the option `timeout` (the Worker's isolateExecutionTimeout, 5 s) on every call — several
// calls per activation. Node implements that timeout by starting a watchdog thread for the call
// and joining it afterwards: ~120 µs of CPU per call against ~3 µs without (Node 24, measured
// here), and on a busy machine the join also waits for the scheduler while the one workflow thread
// holds every other workflow's activation. In a 500-Function burst of the operator the two
// workflow threads spent ~20 s inside runInContext (CPU profile, docs/adr/0125).
//
// The orchestrator's workflows are this project's own deterministic code (user code runs in
// worker pods, never here), so the watchdog — a detector for a workflow stuck in a synchronous
// loop — is turned off by default in the threads the SDK starts: the thread first runs a few
// lines that drop `timeout` from vm calls, then the SDK's own thread module.
// LAYER_WORKFLOW_WATCHDOG=true keeps the SDK's behaviour.
import workerThreads from 'node:worker_threads';

/** The SDK's workflow thread module (lib/workflow/workflow-worker-thread.js), and only it. */
export const SDK_WORKFLOW_THREAD =
  /[\\/]@temporalio[\\/]worker[\\/]lib[\\/]workflow[\\/]workflow-worker-thread\.js$/;

/**
 * Runs in the workflow thread before the SDK's module: vm calls lose their `timeout`, and the
 * thread says so (WATCHDOG_OFF_MARK on globalThis) for tests.
 */
export const DROP_VM_TIMEOUT_SOURCE = `
const vm = require('node:vm');
const withoutTimeout = (options) => {
  if (options === null || typeof options !== 'object' || options.timeout === undefined) return options;
  const { timeout, ...rest } = options;
  return rest;
};
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (context, options) {
  return runInContext.call(this, context, withoutTimeout(options));
};
const vmRunInContext = vm.runInContext;
vm.runInContext = (code, context, options) => vmRunInContext(code, context, withoutTimeout(options));
globalThis.__layerWorkflowWatchdogOff = true;
`;

export const WATCHDOG_OFF_MARK = '__layerWorkflowWatchdogOff';

let installed = false;

/**
 * From now on, the SDK's workflow threads start without the per-call watchdog (idempotent; other
 * worker threads are untouched). Call before Worker.create.
 */
export function dropWorkflowThreadWatchdog(): void {
  if (installed) return;
  installed = true;
  const Original = workerThreads.Worker;
  // The SDK reads worker_threads.Worker when it starts its threads, so a subclass here is what
  // it constructs; eval code runs as CommonJS in the thread, where require is available.
  workerThreads.Worker = class WorkflowThread extends Original {
    constructor(filename: string | URL, options?: workerThreads.WorkerOptions) {
      if (typeof filename === 'string' && SDK_WORKFLOW_THREAD.test(filename) && !options?.eval) {
        super(`${DROP_VM_TIMEOUT_SOURCE}\nrequire(${JSON.stringify(filename)});`, { ...options, eval: true });
      } else {
        super(filename, options);
      }
    }
  };
}
