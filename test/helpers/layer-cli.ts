// `node bin/layer.js ...args` as a user runs it from a clone, with only the given environment
// (plus PATH and HOME): no variables of the test runner leak into the command under test.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LAYER_BIN = fileURLToPath(new URL('../../bin/layer.js', import.meta.url));

export interface LayerRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runLayer(env: Record<string, string>, args: string[], timeoutMs = 60_000): Promise<LayerRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [LAYER_BIN, ...args],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LAYER_FROM_SOURCE: '1', ...env },
        timeout: timeoutMs,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
