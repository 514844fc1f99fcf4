// The production image's Dockerfile, read as text (no Docker engine runs here): the promises of
// docs/adr/0042 that a reviewer would otherwise check by eye. test/integration/build runs its
// build and install steps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const text = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
const dockerignore = readFileSync(new URL('../../../.dockerignore', import.meta.url), 'utf8');
/** Instructions with continuation lines joined and comments dropped. */
const instructions = text
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const args = Object.fromEntries(
  instructions.filter((i) => /^ARG \w+=/.test(i)).map((i) => i.slice(4).split('=', 2) as [string, string]),
);
const expand = (value: string) => value.replace(/\$\{(\w+)\}/g, (_m, name: string) => args[name] ?? '');
const stages = instructions.reduce<string[][]>((acc, i) => {
  if (i.startsWith('FROM ')) acc.push([i]);
  else acc.at(-1)?.push(i);
  return acc;
}, []);
const runtime = stages.at(-1) ?? [];

describe('Dockerfile', () => {
  it('builds on Node 24 in several stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const [from] of stages) expect(expand(from ?? '')).toMatch(/^FROM node:24(-[\w-]+)?( AS \w+)?$/);
  });

  it('runs `npm ci` and `npm run build` in the build stage', () => {
    const build = stages.find(([from]) => / AS build$/.test(from ?? '')) ?? [];
    expect(build.join('\n')).toMatch(/RUN .*npm ci\b(?!.*--omit=dev).*&& npm run build/);
  });

  it('ships only dist/, bin/, package.json and production node_modules in the runtime stage', () => {
    const copies = runtime.filter((i) => i.startsWith('COPY '));
    const sources = copies.map((c) =>
      c
        .split(/\s+/)
        .slice(1, -1)
        .filter((w) => !w.startsWith('--')),
    );
    expect(sources.flat().sort()).toEqual(
      [
        '/app/dist',
        '/app/node_modules',
        '/app/package-lock.json',
        '/app/package.json',
        'bin',
        'examples/tag-products/function.yaml',
      ].sort(),
    );
    const deps = stages.find(([from]) => / AS deps$/.test(from ?? '')) ?? [];
    expect(deps.join('\n')).toMatch(/RUN .*npm ci --omit=dev/);
    expect(runtime.join('\n')).not.toMatch(/tsx|COPY src|npm run build/);
  });

  it('runs node bin/layer.js as a non-root user, HOME and caches under /tmp, no HEALTHCHECK', () => {
    expect(text).not.toMatch(/^\s*HEALTHCHECK/im);
    const user = runtime.filter((i) => i.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(runtime.find((i) => i.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["node", "bin/layer.js"]');
    expect(runtime.find((i) => i.startsWith('CMD '))).toBe('CMD ["operator"]');
    const env = runtime.filter((i) => i.startsWith('ENV ')).join(' ');
    expect(env).toMatch(/HOME=\/tmp\b/);
    expect(env).toMatch(/NODE_ENV=production/);
    // The orchestrator's memory figure (bench:function, docs/scale.md) is measured with it (ADR 0118).
    expect(env).toMatch(/MALLOC_ARENA_MAX=2\b/);
  });

  it('keeps node_modules, dist and local state out of the build context', () => {
    const ignored = dockerignore.split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.layer', '.git']) expect(ignored).toContain(entry);
  });
});
