// Workflows cached the way a Worker's workflow thread caches them, without a server: a bundle
// loaded into the SDK's ReusableVMWorkflowCreator (one reusable V8 context, as every Worker runs
// by default), and N workflows of one type started there from the input a recorded history
// (test/replay/histories) started with, each run through its first activation — after which it
// waits on its first activity or timer, as a cached workflow does. Used by
// bench/workflow-memory.ts (heap per cached workflow) and test/replay/cached-workflows.test.ts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { coresdk } from '@temporalio/proto';

// The SDK's own classes, by CommonJS require: the proto messages must be the instances the
// worker's code checks against (an ESM import through tsx or vite can load a second copy).
const require = createRequire(import.meta.url);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm.js') as {
  ReusableVMWorkflowCreator: {
    create(bundle: { code: string }, timeoutMs: number, activities: Set<string>): Promise<Creator>;
  };
};
const { parseWorkflowCode } = require('@temporalio/worker/lib/worker.js') as {
  parseWorkflowCode(code: string): { code: string };
};
const { historyFromJSON } = require('@temporalio/common/lib/proto-utils') as {
  historyFromJSON(json: unknown): {
    events?: {
      workflowExecutionStartedEventAttributes?: {
        workflowType?: { name?: string };
        input?: { payloads?: unknown[] };
        header?: { fields?: Record<string, unknown> };
      };
    }[];
  };
};
const Long = require('long') as { fromNumber(n: number): unknown };

/** A workflow in the context, as the SDK holds it (its activator keeps its own module instances). */
export interface CachedWorkflow {
  activate(
    activation: coresdk.workflow_activation.IWorkflowActivation,
  ): Promise<coresdk.workflow_completion.IWorkflowActivationCompletion>;
  dispose(): Promise<void>;
  activator: { moduleCache: Map<string, { exports: Record<string, unknown> }> };
}

interface Creator {
  createWorkflow(options: unknown): Promise<CachedWorkflow>;
  destroy(): Promise<void>;
}

/** The workflow type and start input of a recorded history (a file in test/replay/histories). */
export function recordedStart(file: string): {
  workflowType: string;
  payloads: unknown[];
  headers: Record<string, unknown>;
} {
  const history = historyFromJSON(
    JSON.parse(readFileSync(new URL(`../test/replay/histories/${file}`, import.meta.url), 'utf8')),
  );
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const workflowType = started?.workflowType?.name;
  if (!workflowType) throw new Error(`${file}: the first event is not a workflow start`);
  return { workflowType, payloads: started.input?.payloads ?? [], headers: started.header?.fields ?? {} };
}

/** One workflow thread's context over `bundle` (as Worker.create hands it to its threads). */
export async function workflowContext(bundle: { code: string }): Promise<{
  start(workflowId: string, start: ReturnType<typeof recordedStart>): Promise<CachedWorkflow>;
  destroy(): Promise<void>;
}> {
  const creator = await ReusableVMWorkflowCreator.create(parseWorkflowCode(bundle.code), 5000, new Set());
  let runs = 0;
  return {
    async start(workflowId, { workflowType, payloads, headers }) {
      const runId = `run-${++runs}`;
      const now = Date.now();
      const at = { seconds: Long.fromNumber(Math.floor(now / 1000)), nanos: 0 };
      const wf = await creator.createWorkflow({
        info: {
          workflowId,
          runId,
          workflowType,
          searchAttributes: {},
          taskQueue: 'cached-workflows',
          namespace: 'default',
          firstExecutionRunId: runId,
          originalExecutionRunId: runId,
          startTime: new Date(now),
          runStartTime: new Date(now),
          taskTimeoutMs: 10_000,
          attempt: 1,
          historyLength: 3,
          historySize: 0,
          continueAsNewSuggested: false,
          unsafe: { now: () => Date.now(), isReplaying: false },
        },
        randomnessSeed: [1, 2, 3, 4, 5, 6, 7, 8],
        now,
        showStackTraceSources: false,
      });
      const completion = await wf.activate({
        runId,
        timestamp: at,
        historyLength: 3,
        isReplaying: false,
        jobs: [
          {
            initializeWorkflow: {
              workflowType,
              workflowId,
              arguments: payloads,
              headers,
              randomnessSeed: Long.fromNumber(1234 + runs),
              firstExecutionRunId: runId,
              attempt: 1,
              startTime: at,
              workflowTaskTimeout: { seconds: Long.fromNumber(10), nanos: 0 },
            },
          },
        ],
      } as coresdk.workflow_activation.IWorkflowActivation);
      if (completion.failed)
        throw new Error(
          `${workflowId} failed its first activation: ${completion.failed.failure?.message ?? JSON.stringify(completion.failed)}`,
        );
      return wf;
    },
    destroy: () => creator.destroy(),
  };
}
