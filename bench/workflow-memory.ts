// Heap per cached workflow, by type (issue 23 item 6: the operator's memory with 500 Functions;
// docs/adr/0114). A Worker keeps every cached workflow in one reusable V8 context per workflow
// thread, and gives each workflow its own instance of every module its bundle loads after
// start-up. This starts N workflows of one type in such a context (bench/cached-workflows.ts, no
// server) and prints the V8 heap they hold after a full GC, per workflow.
// Usage: npm run bench:workflow-memory [-- --workflows 100 --type function|pipeline|reconcile|rate-limit]
//        [--bundle <file>] (a bundle built otherwise, to compare); LAYER_HEAP_SNAPSHOT=<file>
//        writes a heap snapshot with the workflows cached. Needs --expose-gc (the npm script
//        passes it). The last line on stdout is one JSON object.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { bundleOrchestratorWorkflows, bundleReconcileWorkflows } from '../src/workers/orchestrator-worker.js';
import { recordedStart, workflowContext } from './cached-workflows.js';
import { arg, loadText, textArg } from './harness.js';

/** Each type's recorded start, and the bundle its Worker runs. */
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

const round1 = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const { history, bundle: which } = TYPES[TYPE];
  const start = recordedStart(history);
  const bundleFile = textArg('bundle');
  const bundle = bundleFile
    ? { code: readFileSync(bundleFile, 'utf8') }
    : which === 'reconcile'
      ? await bundleReconcileWorkflows()
      : await bundleOrchestratorWorkflows();

  const base = heapMb();
  const context = await workflowContext(bundle);
  const withContext = heapMb();
  // The first workflow also builds what the thread shares (preloaded modules, shared schemas):
  // counted apart, so the per-workflow figure is what each further one adds.
  const first = [await context.start(`memory/${TYPE}/0`, start)];
  const withFirst = heapMb();
  const t0 = performance.now();
  const workflows = [];
  for (let i = 1; i <= WORKFLOWS; i++) workflows.push(await context.start(`memory/${TYPE}/${i}`, start));
  const startMs = performance.now() - t0;
  const after = heapMb();
  if (process.env.LAYER_HEAP_SNAPSHOT) v8.writeHeapSnapshot(process.env.LAYER_HEAP_SNAPSHOT);
  const result = {
    type: TYPE,
    workflow_type: start.workflowType,
    workflows: WORKFLOWS,
    bundle_kb: Math.round(bundle.code.length / 1024),
    context_mb: round1(withContext - base),
    first_workflow_mb: round1(withFirst - withContext),
    per_workflow_kb: Math.round(((after - withFirst) / WORKFLOWS) * 1024),
    first_activation_ms_avg: round1(startMs / WORKFLOWS),
    heap_mb_after: round1(after),
    rss_mb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    load_avg: loadText(),
  };
  log(
    `${WORKFLOWS} ${start.workflowType} workflows: ${result.per_workflow_kb} KB of heap each (the first ${result.first_workflow_mb} MB), ` +
      `${result.first_activation_ms_avg} ms per first activation; load average ${result.load_avg}`,
  );
  for (const wf of [...first, ...workflows]) await wf.dispose();
  await context.destroy();
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
