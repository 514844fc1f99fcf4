// `npm run lint` step: fails when TypeScript modules import each other in a cycle (issue 26).
// A cycle means two modules cannot be understood, tested or moved apart, and in ESM it can hand a
// module an export that is still undefined at import time. eslint-plugin-import's no-cycle needs a
// TypeScript resolver and is slow on a tree this size; relative imports are all this project uses
// between its own files, so resolving them is a few lines. It also fails when the worker package
// imports a file outside itself: the package is the wire contract, the orchestrator builds on it
// and never the other way (docs/adr/0116).
//   node --import tsx scripts/import-cycles.ts src packages/worker/src
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Relative module specifiers of `import`/`export … from` and `import('…')`; `import type` too. */
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

export type ModuleGraph = ReadonlyMap<string, readonly string[]>;

/** The relative imports of one file's source, resolved against its path (`.js` → `.ts`). */
export function relativeImports(file: string, source: string, exists: (path: string) => boolean): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec) continue;
    const base = resolve(dirname(file), spec);
    const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
    const found = candidates.find(exists);
    if (found) out.add(found);
  }
  return [...out];
}

/**
 * Every elementary cycle reachable in the graph, each once, as the list of modules from its
 * smallest member (Tarjan's strongly connected components, then one cycle per component found by
 * a depth-first walk: enough to name what to break).
 */
export function findImportCycles(graph: ModuleGraph): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    // The shortest way back to start inside the component (breadth-first), so the cycle shown
    // is the one to read first.
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
          return path;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start];
  });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The import graph of every .ts file under the given folders. */
export function moduleGraphOf(roots: string[]): ModuleGraph {
  const files = roots.flatMap((r) => tsFiles(resolve(r)));
  const known = new Set(files);
  return new Map(files.map((f) => [f, relativeImports(f, readFileSync(f, 'utf8'), (p) => known.has(p))]));
}

/** Imports from a file under `root` to a file outside it, as [importer, imported]. */
export function importsLeaving(graph: ModuleGraph, root: string): [string, string][] {
  const inside = (f: string) => f.startsWith(root + sep);
  return [...graph].flatMap(([f, deps]) =>
    inside(f) ? deps.filter((d) => !inside(d)).map((d): [string, string] => [f, d]) : [],
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const roots = process.argv.slice(2);
  const graph = moduleGraphOf(roots.length > 0 ? roots : ['src', 'packages/worker/src']);
  const leaving = importsLeaving(graph, resolve('packages/worker/src'));
  for (const [from, to] of leaving)
    process.stderr.write(
      `worker package imports outside itself: ${relative('.', from)} → ${relative('.', to)}\n`,
    );
  if (leaving.length > 0) {
    process.stderr.write('move what both need into packages/worker/src (the wire contract, docs/adr/0116)\n');
    process.exit(1);
  }
  const cycles = findImportCycles(graph);
  for (const cycle of cycles) {
    const names = cycle.map((f) => relative(process.cwd(), f));
    process.stderr.write(`import cycle: ${[...names, names[0]].join(' → ')}\n`);
  }
  if (cycles.length > 0) {
    process.stderr.write(
      `${cycles.length} import cycle(s): move what both sides need into a module that imports neither (issue 26, docs/architecture.md)\n`,
    );
    process.exit(1);
  }
}
