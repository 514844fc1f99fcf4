#!/usr/bin/env node
// Entry point of the `layer` command. An installed package or image (no src/, a build in dist/)
// runs the compiled JavaScript with plain node; a source checkout runs the TypeScript directly
// through tsx (a dev dependency), so a fresh clone needs no build step before `npm start` and a
// dist/ left over from `npm run build` is never run stale in place of the sources.
// LAYER_FROM_SOURCE=1 forces the sources, LAYER_FROM_SOURCE=0 the build.
// See docs/adr/0002-run-typescript-with-tsx.md and docs/adr/0042-production-build-and-images.md.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const mode = process.env.LAYER_FROM_SOURCE;
const hasBuild = existsSync(compiled);
const fromSource = mode === '1' || (mode !== '0' && (existsSync(source) || !hasBuild));

if (!fromSource) {
  if (!hasBuild) {
    process.stderr.write(
      `layer: LAYER_FROM_SOURCE=0 but there is no build at ${compiled}; run \`npm run build\`\n`,
    );
    process.exit(1);
  }
  await import(pathToFileURL(compiled).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch (err) {
    if (!hasBuild || mode === '1') {
      process.stderr.write(
        `layer: cannot run the TypeScript sources without tsx (${err.code ?? err.message}); ` +
          'run `npm install` (tsx is a dev dependency), or `npm run build` and LAYER_FROM_SOURCE=0\n',
      );
      process.exit(1);
    }
  }
  if (register) {
    register();
    await import(pathToFileURL(source).href);
  } else {
    await import(pathToFileURL(compiled).href);
  }
}
