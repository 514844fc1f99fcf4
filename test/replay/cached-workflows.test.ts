// What a cached workflow costs a Worker (docs/adr/0114). A Worker runs every cached workflow in
// one reusable V8 context per thread and gives each its own instance of every module loaded after
// start-up; the contract schemas are built once per thread (sharedSchema, a preloaded module) and
// OpenTelemetry loads only in traced runs. These run the real orchestrator bundle the way a
// workflow thread does (bench/cached-workflows.ts), with no server.
import { readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedStart, workflowContext, type CachedWorkflow } from '../../bench/cached-workflows.js';
import { bundleOrchestratorWorkflows } from '../../src/workers/orchestrator-worker.js';
import { historyFromJSON } from '../helpers/history-json.js';

let context: Awaited<ReturnType<typeof workflowContext>>;
const started: CachedWorkflow[] = [];
let workflowBundle: { code: string };

beforeAll(async () => {
  workflowBundle = await bundleOrchestratorWorkflows();
  context = await workflowContext(workflowBundle);
});
afterAll(async () => {
  for (const wf of started) await wf.dispose();
  await context?.destroy();
});

async function startFunctions(n: number, label: string): Promise<CachedWorkflow[]> {
  const start = recordedStart('function-v2-idle-1.json');
  const out: CachedWorkflow[] = [];
  for (let i = 0; i < n; i++) out.push(await context.start(`cached/${label}/${i}`, start));
  started.push(...out);
  return out;
}

/** A module's exports as one workflow's instance of it has them (webpack's module ids are paths). */
function exportsOf(wf: CachedWorkflow, module: string): Record<string, unknown> {
  const m = wf.activator.moduleCache.get(module);
  if (!m) throw new Error(`${module} is not among this workflow's modules`);
  return m.exports;
}

describe('cached workflows (one Worker thread, real bundle)', () => {
  it('each workflow has its own contract modules, but their schemas are one object per thread', async () => {
    const [a, b] = await startFunctions(2, 'identity');
    for (const [module, name] of [
      ['./src/contracts/function.ts', 'functionRuntimeSpecSchema'],
      ['./src/contracts/function.ts', 'functionWorkflowInputSchema'],
      ['./src/contracts/pipeline.ts', 'pipelineWorkflowInputSchema'],
      ['./packages/worker/src/contracts/function.ts', 'functionClaimSpecSchema'],
    ] as const) {
      // Module state stays per workflow (the SDK's isolation) …
      expect(exportsOf(a!, module)).not.toBe(exportsOf(b!, module));
      // … while the schema, a pure value, is the one the first workflow built.
      expect(exportsOf(a!, module)[name]).toBeDefined();
      expect(exportsOf(a!, module)[name]).toBe(exportsOf(b!, module)[name]);
    }
  });

  it('an untraced workflow never loads OpenTelemetry', async () => {
    const [wf] = await startFunctions(1, 'untraced');
    const otel = [...wf!.activator.moduleCache.keys()].filter((id) => id.includes('opentelemetry'));
    expect(otel).toEqual([]);
  });

  it('a further cached Function workflow holds well under a megabyte of heap', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return v8.getHeapStatistics().used_heap_size;
    };
    await startFunctions(1, 'warm');
    const before = heap();
    const n = 20;
    await startFunctions(n, 'heap');
    const perWorkflowKb = (heap() - before) / n / 1024;
    // Each one built its own schemas and OpenTelemetry before (about 2 MB in a smoke run); a
    // bound with room for V8's variance, far below that.
    expect(perWorkflowKb).toBeLessThan(700);
  });
});

describe('recorded histories through one Worker', () => {
  it('replays every history one after another in one context (schemas built by one run serve the next)', async () => {
    const dir = new URL('./histories/', import.meta.url);
    const histories = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({
        workflowId: f,
        history: historyFromJSON(JSON.parse(readFileSync(new URL(f, dir), 'utf8'))),
      }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories))
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    expect(failures).toEqual([]);
  });
});
