// `npm start` is the README's main job: run it for real (its own Temporal dev server and store,
// as a person would get them), check the summary line, then run it again to see it resume
// with nothing left to do, and stop the servers with `layer dev down`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const bin = new URL('../../../bin/layer.js', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'layer-start-'));

/** stderr of the last `layer` run (progress and log lines; stdout ends in the JSON summary). */
let lastStderr = '';

async function layer(...args: string[]): Promise<string> {
  const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  lastStderr = stderr;
  return stdout;
}

function summary(stdout: string): {
  rows: number;
  processed: number;
  failed: number;
  deadLettered: number;
  seconds: number;
} {
  const last = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as ReturnType<typeof summary>;
}

afterAll(async () => {
  await layer('dev', 'down', '--state-dir', stateDir).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start (layer start)', () => {
  it('tags every row of a seeded catalogue and ends with a JSON summary', async () => {
    const out = await layer('start', '--rows', '300', '--json', '--state-dir', stateDir);
    expect(out).toContain('Temporal UI: http://127.0.0.1:');
    expect(summary(out)).toMatchObject({ rows: 300, processed: 300, failed: 0, deadLettered: 0 });
  }, 240_000);

  it('resumes on a re-run: the same servers, nothing left to do', async () => {
    const out = await layer('start', '--rows', '300', '--json', '--state-dir', stateDir);
    // Resuming, not redoing: the re-run finds no row left to tag before it starts.
    expect(lastStderr).toContain('applied; 0 of 300 rows to tag');
    expect(summary(out)).toMatchObject({ rows: 300, processed: 300, deadLettered: 0 });
    const down = await layer('dev', 'down', '--state-dir', stateDir);
    expect(down).toContain('temporal');
    expect(down).toContain('store');
  }, 240_000);
});
