// The lint step that rejects import cycles (scripts/import-cycles.ts, issue 26): table tests of the
// graph walk, a deliberate cycle written to disk, and the project's own tree.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findImportCycles,
  importsLeaving,
  moduleGraphOf,
  relativeImports,
} from '../../../scripts/import-cycles.js';

describe('findImportCycles', () => {
  it.each([
    // A chain that never comes back is fine.
    { graph: { a: ['b'], b: ['c'], c: [] }, cycles: [] },
    // Two modules importing each other (the store's filter ↔ bm25 before Row moved to schema.ts).
    { graph: { a: ['b'], b: ['a'] }, cycles: [['a', 'b']] },
    // A three-module ring (claim-runner → failures → pipeline-write → claim-runner), named from
    // its smallest member.
    { graph: { c: ['a'], a: ['b'], b: ['c'] }, cycles: [['a', 'b', 'c']] },
    // A module importing itself.
    { graph: { a: ['a'] }, cycles: [['a']] },
    // Two separate cycles are two findings; an import of something outside the graph is ignored.
    {
      graph: { a: ['b', 'ext'], b: ['a'], x: ['y'], y: ['x'] },
      cycles: [
        ['a', 'b'],
        ['x', 'y'],
      ],
    },
  ])('$graph → $cycles', ({ graph, cycles }) => {
    const found = findImportCycles(new Map(Object.entries(graph)));
    expect(found.sort((p, q) => p[0]!.localeCompare(q[0]!))).toEqual(cycles);
  });
});

describe('relativeImports', () => {
  it('resolves .js specifiers to .ts files, folders to index.ts, and counts type-only and dynamic imports', () => {
    const files = new Set(['/p/src/b.ts', '/p/src/c/index.ts', '/p/src/d.ts', '/p/src/e.ts']);
    const source = [
      "import { x } from './b.js';",
      "import type { Y } from './c';",
      "export { z } from './d.js';",
      "const e = await import('./e.js');",
      "import { readFileSync } from 'node:fs';",
      "import { q } from './missing.js';",
    ].join('\n');
    expect(relativeImports('/p/src/a.ts', source, (p) => files.has(p)).sort()).toEqual([
      '/p/src/b.ts',
      '/p/src/c/index.ts',
      '/p/src/d.ts',
      '/p/src/e.ts',
    ]);
  });
});

describe('the lint step', () => {
  it('fails on a deliberate cycle written to disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    mkdirSync(join(dir, 'engine'));
    writeFileSync(
      join(dir, 'engine', 'runner.ts'),
      "import { classify } from './failures.js';\nexport const run = classify;\n",
    );
    writeFileSync(
      join(dir, 'engine', 'failures.ts'),
      "import type { Err } from './write.js';\nexport const classify = (e: Err) => e;\n",
    );
    writeFileSync(
      join(dir, 'engine', 'write.ts'),
      "import { run } from './runner.js';\nexport type Err = typeof run;\n",
    );
    const cycles = findImportCycles(moduleGraphOf([dir]));
    expect(cycles.map((c) => c.map((f) => f.slice(dir.length + 1)))).toEqual([
      ['engine/failures.ts', 'engine/write.ts', 'engine/runner.ts'],
    ]);
  });

  it('finds no cycle in the project', () => {
    expect(
      findImportCycles(moduleGraphOf(['src', 'packages/worker/src', 'scripts', 'bench', 'chaos'])),
    ).toEqual([]);
  });

  it('names an import from the worker package to the orchestrator, and finds none in the project', () => {
    const graph = new Map([
      ['/p/packages/worker/src/a.ts', ['/p/packages/worker/src/b.ts', '/p/src/contracts/function.ts']],
      ['/p/packages/worker/src/b.ts', []],
      ['/p/src/contracts/function.ts', ['/p/packages/worker/src/a.ts']],
    ]);
    expect(importsLeaving(graph, '/p/packages/worker/src')).toEqual([
      ['/p/packages/worker/src/a.ts', '/p/src/contracts/function.ts'],
    ]);
    const root = resolve('packages/worker/src');
    expect(importsLeaving(moduleGraphOf(['src', 'packages/worker/src']), root)).toEqual([]);
  });
});
