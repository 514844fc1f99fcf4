// The workflow threads start without the SDK's per-call vm watchdog (docs/adr/0125): a thread
// whose module has the SDK's path gets the vm calls without `timeout`; any other thread is left
// alone. The last test is a canary on the SDK itself: it still starts its threads through
// worker_threads.Worker from that module and still passes a timeout on every call.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import workerThreads from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  SDK_WORKFLOW_THREAD,
  WATCHDOG_OFF_MARK,
  dropWorkflowThreadWatchdog,
} from '../../../src/workers/workflow-thread-watchdog.js';

/** A thread module that reports what it sees of vm: the mark, and a vm call with a timeout. */
const REPORTER = `
const vm = require('node:vm');
const { parentPort } = require('node:worker_threads');
const context = vm.createContext({ n: 0 });
const value = new vm.Script('n + 41 + 1').runInContext(context, { timeout: 1000 });
parentPort.postMessage({ mark: globalThis.${WATCHDOG_OFF_MARK} === true, value, patched: vm.Script.prototype.runInContext.toString().includes('withoutTimeout') });
`;

function threadAt(path: string): Promise<{ mark: boolean; value: number; patched: boolean }> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, REPORTER);
  return new Promise((resolve, reject) => {
    const w = new workerThreads.Worker(path);
    w.once('message', (m) => {
      resolve(m as never);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('workflow threads without the per-call watchdog', () => {
  const root = mkdtempSync(join(tmpdir(), 'layer-watchdog-'));
  dropWorkflowThreadWatchdog();
  dropWorkflowThreadWatchdog(); // idempotent: one wrapper, not two

  it("drops vm timeouts in a thread started from the SDK's workflow thread module", async () => {
    const sdkPath = join(root, 'node_modules/@temporalio/worker/lib/workflow/workflow-worker-thread.js');
    expect(await threadAt(sdkPath)).toEqual({ mark: true, value: 42, patched: true });
  });

  it('leaves every other worker thread as it was', async () => {
    expect(await threadAt(join(root, 'other/thread.js'))).toEqual({ mark: false, value: 42, patched: false });
  });

  it('matches the SDK as installed: its thread module, started through worker_threads.Worker, entered with a timeout', () => {
    const require = createRequire(import.meta.url);
    const thread = require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread');
    expect(thread).toMatch(SDK_WORKFLOW_THREAD);
    const threadedVm = readFileSync(join(dirname(thread), 'threaded-vm.js'), 'utf8');
    expect(threadedVm).toContain(
      "new node_worker_threads_1.Worker(require.resolve('./workflow-worker-thread'))",
    );
    const reusableVm = readFileSync(join(dirname(thread), 'reusable-vm.js'), 'utf8');
    expect(reusableVm).toMatch(
      /callIntoVmScript\.runInContext\(context, \{\s*timeout: isolateExecutionTimeoutMs/,
    );
  });
});
