// What a cached workflow costs a Worker (docs/adr/0114). A Worker runs every cached workflow in
// one reusable V8 context per thread and gives each its own instance of every module loaded after
// start-up; the contract schemas are built once per thread (sharedSchema, a preloaded module) and
// OpenTelemetry loads only in traced runs. These run the real orchestrator bundle the way a
// workflow thread does (bench/cached-workflows.ts), with no server.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedStart, workflowContext, type CachedWorkflow } from '../../bench/cached-workflows.js';
import {
  bundleOrchestratorWorkflows,
  RECONCILE_SHARED_MODULES,
  THREAD_SHARED_MODULES,
} from '../../src/workers/orchestrator-worker.js';
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

  it('the thread-shared modules are one instance for all workflows, not one each (ADR 0134)', async () => {
    const [a, b] = await startFunctions(2, 'shared');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    for (const file of THREAD_SHARED_MODULES) {
      const id = `./${relative(root, file)}`;
      expect(a!.activator.moduleCache.has(id), id).toBe(false);
      expect(b!.activator.moduleCache.has(id), id).toBe(false);
    }
    // A module that holds schemas stays per workflow (the contracts above).
    expect(a!.activator.moduleCache.has('./src/contracts/function.ts')).toBe(true);
  });

  it("the bundle's source map maps the code but carries no sources' text (ADR 0134)", () => {
    const marker = 'sourceMappingURL=data:application/json;charset=utf-8;base64,';
    const at = workflowBundle.code.lastIndexOf(marker);
    expect(at).toBeGreaterThan(0);
    const map = JSON.parse(
      Buffer.from(workflowBundle.code.slice(at + marker.length), 'base64').toString(),
    ) as {
      mappings: string;
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((s) => s.endsWith('function-workflow.ts'))).toBe(true);
    expect(map.mappings.length).toBeGreaterThan(1000);
    expect(map.sourcesContent).toBeUndefined();
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

/** The relative modules a file imports at run time (`import type` is erased by the bundler). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms)) {
    const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (existsSync(target)) out.push(target);
  }
  return out;
}

describe('modules every workflow of a thread shares (ADR 0134)', () => {
  const shared = [...THREAD_SHARED_MODULES, ...RECONCILE_SHARED_MODULES];

  it.each(shared.map((file) => [relative(process.cwd(), file), file]))(
    '%s keeps no module state',
    (_, file) => {
      const text = readFileSync(file, 'utf8');
      // Top-level bindings only (column 0): what one workflow changed, the next would see.
      expect(text).not.toMatch(/^(export\s+)?(let|var)\s/m);
      expect(text).not.toMatch(/^(export\s+)?const\s+\w+[^=\n]*=\s*(new\s+(Map|Set|WeakMap|Array)\b|\[)/m);
    },
  );

  it.each(shared.map((file) => [relative(process.cwd(), file), file]))(
    '%s imports no module that builds a zod schema (frozen, it would throw on its first parse)',
    (_, file) => {
      const seen = new Set<string>();
      const queue = [file];
      while (queue.length > 0) {
        const next = queue.pop()!;
        if (seen.has(next)) continue;
        seen.add(next);
        expect(
          readFileSync(next, 'utf8'),
          `${relative(process.cwd(), next)} (imported by ${relative(process.cwd(), file)})`,
        ).not.toMatch(/from 'zod'/);
        queue.push(...runtimeImports(next));
      }
    },
  );

  it('the checks above see a stateful module and a schema import', () => {
    expect('let calls = 0;\n').toMatch(/^(export\s+)?(let|var)\s/m);
    expect('export const cache = new Map<string, number>();\n').toMatch(
      /^(export\s+)?const\s+\w+[^=\n]*=\s*(new\s+(Map|Set|WeakMap|Array)\b|\[)/m,
    );
    const contracts = fileURLToPath(new URL('../../src/contracts/function.ts', import.meta.url));
    expect(
      readFileSync(contracts, 'utf8') +
        runtimeImports(contracts)
          .map((f) => readFileSync(f, 'utf8'))
          .join(''),
    ).toMatch(/from 'zod'/);
  });
});
