// Memory of cached workflows, by type (issue 23 item 6: the operator's memory with 500 Functions).
// A Worker keeps every cached workflow in one reusable V8 context per workflow thread; each
// workflow gets its own instance of every module its bundle loads after start-up (the SDK's
// per-workflow module cache). This script does what a workflow thread does, without a server:
// it loads a bundle into the SDK's ReusableVMWorkflowCreator, starts N workflows of one type
// from the input a recorded history (test/replay/histories) started with, runs each one's first
// activation (it then waits on its first activity or timer, as a cached workflow does) and
// prints the V8 heap per workflow after a full GC.
// Usage: npm run bench:workflow-memory [-- --workflows 100 --type function|pipeline|reconcile|rate-limit]
// Needs --expose-gc (the npm script passes it). The last line on stdout is one JSON object.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { coresdk } from '@temporalio/proto';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
import { bundleOrchestratorWorkflows, bundleReconcileWorkflows } from '../src/workers/orchestrator-worker.js';
import { arg, textArg } from './harness.js';

// The SDK's own classes, by CommonJS require: the proto messages must be the instances the
// worker's code checks against (an ESM import through tsx can load a second copy).
const require = createRequire(import.meta.url);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm.js') as {
  ReusableVMWorkflowCreator: {
    create(bundle: { code: string }, timeoutMs: number, activities: Set<string>): Promise<WorkflowCreator>;
  };
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
const { parseWorkflowCode } = require('@temporalio/worker/lib/worker.js') as {
  parseWorkflowCode(code: string): { code: string };
};
const Long = require('long') as { fromNumber(n: number): unknown };

const TYPES = {
  function: { history: 'function-v2-idle-1.json', bundle: 'orchestrator' },
  pipeline: { history: 'pipeline-v2-push-1.json', bundle: 'orchestrator' },
  'rate-limit': { history: 'rate-limit-shared-1.json', bundle: 'orchestrator' },
  reconcile: { history: 'reconcile-function-pass-1.json', bundle: 'reconcile' },
} as const;

const WORKFLOWS = arg('workflows', 100);
const TYPE = (textArg('type') ?? 'function') as keyof typeof TYPES;
if (!(TYPE in TYPES))
  throw new Error(`--type expects one of ${Object.keys(TYPES).join(', ')}, got '${TYPE}'`);
const log = (line: string) => process.stderr.write(`[workflow-memory] ${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:workflow-memory does)');

function heapMb(): number {
  gc!();
  gc!();
  return v8.getHeapStatistics().used_heap_size / 1024 / 1024;
}

async function main(): Promise<void> {
  const { history: file, bundle: which } = TYPES[TYPE];
  const history = historyFromJSON(
    JSON.parse(readFileSync(new URL(`../test/replay/histories/${file}`, import.meta.url), 'utf8')),
  );
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const workflowType = started?.workflowType?.name;
  if (!workflowType) throw new Error(`${file}: the first event is not a workflow start`);
  // --bundle <file>: a bundle built otherwise (an experiment), instead of the project's.
  const bundleFile = textArg('bundle');
  const bundle = bundleFile
    ? { code: readFileSync(bundleFile, 'utf8') }
    : which === 'reconcile'
      ? await bundleReconcileWorkflows()
      : await bundleOrchestratorWorkflows();
  // As Worker.create hands it to its workflow threads: code and source map apart.
  const parsed = parseWorkflowCode(bundle.code);

  const base = heapMb();
  const creator = await ReusableVMWorkflowCreator.create(parsed, 5000, new Set());
  const withContext = heapMb();
  const workflows = [];
  const t0 = performance.now();
  for (let i = 0; i < WORKFLOWS; i++) {
    const runId = `run-${i}`;
    const now = Date.now();
    const wf = await creator.createWorkflow({
      info: {
        workflowId: `memory/${TYPE}/${i}`,
        runId,
        workflowType,
        searchAttributes: {},
        typedSearchAttributes: undefined as never,
        taskQueue: 'memory',
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
      } as never,
      randomnessSeed: [1, 2, 3, 4, 5, 6, 7, 8],
      now,
      showStackTraceSources: false,
    } as never);
    const completion = await wf.activate({
      runId,
      timestamp: { seconds: Long.fromNumber(Math.floor(now / 1000)), nanos: 0 },
      historyLength: 3,
      isReplaying: false,
      jobs: [
        {
          initializeWorkflow: {
            workflowType,
            workflowId: `memory/${TYPE}/${i}`,
            arguments: started?.input?.payloads ?? [],
            headers: started?.header?.fields ?? {},
            randomnessSeed: Long.fromNumber(1234 + i),
            firstExecutionRunId: runId,
            attempt: 1,
            startTime: { seconds: Long.fromNumber(Math.floor(now / 1000)), nanos: 0 },
            workflowTaskTimeout: { seconds: Long.fromNumber(10), nanos: 0 },
          },
        },
      ],
    } as coresdk.workflow_activation.IWorkflowActivation);
    if (completion.failed)
      throw new Error(`workflow ${i} failed its first activation: ${JSON.stringify(completion.failed)}`);
    const commands = completion.successful?.commands ?? [];
    if (i === 0) log(`first activation: ${commands.map((c) => Object.keys(c)[0]).join(', ')}`);
    workflows.push(wf);
  }
  const startMs = performance.now() - t0;
  const after = heapMb();
  // LAYER_HEAP_SNAPSHOT=<file>: a heap snapshot with the workflows cached, for a closer look.
  if (process.env.LAYER_HEAP_SNAPSHOT) v8.writeHeapSnapshot(process.env.LAYER_HEAP_SNAPSHOT);
  const perWorkflowMb = (after - withContext) / WORKFLOWS;
  const result = {
    type: TYPE,
    workflow_type: workflowType,
    workflows: WORKFLOWS,
    bundle_kb: Math.round(bundle.code.length / 1024),
    heap_mb_before_context: Math.round(base * 10) / 10,
    context_mb: Math.round((withContext - base) * 10) / 10,
    heap_mb_after: Math.round(after * 10) / 10,
    per_workflow_kb: Math.round(perWorkflowMb * 1024),
    first_activation_ms_avg: Math.round((startMs / WORKFLOWS) * 10) / 10,
    rss_mb: Math.round(process.memoryUsage().rss / 1024 / 1024),
  };
  log(
    `${WORKFLOWS} ${workflowType} workflows: ${result.per_workflow_kb} KB of heap each, context ${result.context_mb} MB, ${result.first_activation_ms_avg} ms per first activation`,
  );
  for (const wf of workflows) await wf.dispose();
  await creator.destroy();
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
