// `npm start` is the README's main job: run it for real (its own Temporal dev server and store,
// as a person would get them), check the summary line, then run it again to see it resume
// with nothing left to do, and stop the servers with `layer dev down`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readDevState } from '../../../src/dev/environment.js';
import { createStoreClient } from '../../../src/store/client.js';

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
  }, 240_000);

  it('SIGINT stops it with what is left; a re-run resumes from there and finishes', async () => {
    // The same servers: the catalogue grows to `rows`, the 300 tagged rows stay tagged.
    const dir = stateDir;
    const rows = 20_000;
    try {
      const child = spawn(
        process.execPath,
        [bin, 'start', '--rows', String(rows), '--json', '--state-dir', dir],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
      const applied = new Promise<void>((resolve) =>
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('rows to tag')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await applied;
      // Interrupt mid-run: once some rows beyond the first run's 300 carry the version (a fixed
      // delay was a race — 20,000 rows can finish in 3 s), read from the store the run uses.
      const store = createStoreClient({ baseUrl: readDevState(dir)!.store!.url });
      const deadline = Date.now() + 60_000;
      while ((await store.countRows('products', ['tags_v', 'Eq', 'v1'] as never)) < 1_300) {
        if (Date.now() > deadline) throw new Error(`no progress within 60 s:\n${stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGINT');
      expect(await exited, stderr.slice(-3000)).toBe(0);
      const stopped = /Stopped after [\d.]+s with (\d+) rows still to tag; run again to resume/.exec(stdout);
      expect(stopped, stdout).not.toBeNull();
      const left = Number(stopped![1]);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(rows - 300);

      const out = await layer('start', '--rows', String(rows), '--json', '--state-dir', dir);
      // Resumed: it starts with at most what the interrupted run left (batches in flight at the
      // signal may have landed since), never with the whole catalogue again.
      const resumed = /applied; (\d+) of (\d+) rows to tag/.exec(lastStderr);
      expect(resumed).not.toBeNull();
      expect(Number(resumed![2])).toBe(rows);
      expect(Number(resumed![1])).toBeLessThanOrEqual(left);
      expect(summary(out)).toMatchObject({ rows, processed: rows, deadLettered: 0 });
    } finally {
      const down = await layer('dev', 'down', '--state-dir', dir);
      expect(down).toContain('temporal');
      expect(down).toContain('store');
    }
  }, 240_000);
});
