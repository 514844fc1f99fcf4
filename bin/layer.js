#!/usr/bin/env node
// Entry point of the `layer` command. A built package (npm run build) runs the compiled
// JavaScript in dist/; a source checkout runs the TypeScript directly through tsx, so a fresh
// clone needs no build step before `npm start` (see docs/adr/0002-run-typescript-with-tsx.md).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (existsSync(compiled) && process.env.LAYER_FROM_SOURCE !== '1') {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
