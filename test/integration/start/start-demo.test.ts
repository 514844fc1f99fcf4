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
import { createStoreClient } from '../../../packages/worker/src/store/client.js';

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

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `layer start` in its own process group and sends SIGINT to the whole group — what a
 * terminal's Ctrl-C does — once `when` holds for what it printed so far on stderr.
 */
async function interruptedStart(
  args: string[],
  when: (stderr: string) => boolean | Promise<boolean>,
): Promise<Interrupted> {
  const child = spawn(process.execPath, [bin, 'start', ...args, '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  let running = true;
  void exited.then(() => (running = false));
  try {
    const deadline = Date.now() + 180_000;
    while (running && !(await when(stderr))) {
      if (Date.now() > deadline) throw new Error(`the stage never came:\n${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(running, `it ended before the Ctrl-C:\n${stderr.slice(-2000)}`).toBe(true);
    process.kill(-child.pid!, 'SIGINT');
    const timeout = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
    const [code, signal] = await exited;
    clearTimeout(timeout);
    return { code, signal, stdout, stderr };
  } finally {
    if (running) process.kill(-child.pid!, 'SIGKILL');
  }
}

/** Exit 0, the one-line summary, and nothing that looks like a stack or a worker error. */
function expectCleanStop(run: Interrupted): number | 'all' {
  const both = `${run.stdout}\n${run.stderr}`;
  expect({ code: run.code, signal: run.signal }, both.slice(-3000)).toEqual({ code: 0, signal: null });
  const stopped = /Stopped after [\d.]+s with (all \d+|\d+) rows still to tag; run again to resume\./.exec(
    run.stdout,
  );
  expect(stopped, both.slice(-3000)).not.toBeNull();
  expect(both).not.toMatch(/^\s+at .+(:\d+:\d+\)?|\(native\))$/m);
  expect(both).not.toMatch(/WORKER_SHUTDOWN|Activity failed|error:/i);
  return stopped![1]!.startsWith('all') ? 'all' : Number(stopped![1]);
}

afterAll(async () => {
  await layer('dev', 'down', '--state-dir', stateDir).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start (layer start)', () => {
  // Ctrl-C at each stage before any row is tagged; each run leaves the servers running for the
  // next (they are in their own process group, so the Ctrl-C never reaches them).
  it.each([
    // Temporal and the store still starting (a fresh state directory).
    { stage: 'during server start', marker: 'bringing up the local servers' },
    // The orchestrator Worker bundling its workflows: the Temporal runtime's own SIGINT handler
    // used to shut it down here, and the Update below then waited forever (exit 130 on a second
    // Ctrl-C, no summary).
    { stage: 'before the Function is applied', marker: 'starting the orchestrator' },
    // The Update that applies the Function in flight.
    { stage: 'while the Function is applied', marker: 'applying Function' },
  ])(
    'Ctrl-C $stage ends with what is left and exit 0',
    async ({ marker }) => {
      const run = await interruptedStart(['--rows', '300'], (stderr) => stderr.includes(marker));
      const left = expectCleanStop(run);
      if (left !== 'all') expect(left).toBeLessThanOrEqual(300);
    },
    240_000,
  );

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
      // Interrupt mid-run: once some rows beyond the first run's 300 carry the version (a fixed
      // delay was a race — 20,000 rows can finish in 3 s), read from the store the run uses.
      let store: ReturnType<typeof createStoreClient> | undefined;
      const run = await interruptedStart(['--rows', String(rows), '--json'], async (stderr) => {
        if (!stderr.includes('rows to tag')) return false;
        store ??= createStoreClient({ baseUrl: readDevState(dir)!.store!.url });
        return (await store.countRows('products', ['tags_v', 'Eq', 'v1'] as never)) >= 1_300;
      });
      // Claims in flight at the signal are cancelled quietly: no WORKER_SHUTDOWN stacks.
      const stopped = expectCleanStop(run);
      expect(stopped).not.toBe('all');
      const left = Number(stopped);
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
