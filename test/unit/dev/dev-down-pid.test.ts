// `layer dev down` must stop only what `dev up` started: a pid recorded in state.json that now
// belongs to another process (reused after a reboot) is left alone. Real processes, no mocks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { devDown, readDevState } from '../../../src/dev/environment.js';
import { isAlive, processStartMarker } from '../../../src/dev/process.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function bystander(): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

function stateDirWith(temporalPid: number, startMarkers?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'layer-dev-'));
  const state = {
    temporal: {
      address: '127.0.0.1:1',
      namespace: 'default',
      uiUrl: 'http://x',
      pid: temporalPid,
      logFile: 'x',
    },
    ...(startMarkers ? { startMarkers } : {}),
  };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  return dir;
}

describe('dev down checks the process is ours before signalling it', () => {
  it('a reused pid (start time differs) is left alone and reported', async () => {
    const pid = bystander();
    const logged: string[] = [];
    const dir = stateDirWith(pid, { [String(pid)]: 'ticks:1' });
    expect(readDevState(dir)).toBeUndefined(); // not a running environment either
    expect(await devDown(dir, { log: (l) => logged.push(l) })).toEqual([]);
    expect(isAlive(pid)).toBe(true);
    expect(logged.join('\n')).toContain(`temporal: pid ${pid} now belongs to another process`);
  });

  it('an older state file without start markers falls back to the command line', async () => {
    const pid = bystander(); // `sleep 60` is not `temporal server start-dev`
    expect(await devDown(stateDirWith(pid))).toEqual([]);
    expect(isAlive(pid)).toBe(true);
  });

  it('the process it recorded is stopped', async () => {
    const pid = bystander();
    const marker = processStartMarker(pid);
    expect(marker).toBeDefined();
    expect(await devDown(stateDirWith(pid, { [String(pid)]: marker! }))).toEqual(['temporal']);
    expect(isAlive(pid)).toBe(false);
  });
});
