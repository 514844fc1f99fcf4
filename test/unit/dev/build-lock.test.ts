import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withBuildLock } from '../../../src/dev/binaries.js';

describe('withBuildLock', () => {
  it('takes over at once a lock whose holder died (a killed test run), and releases its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-lock-'));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(dir, '.build.lock'));
    writeFileSync(join(dir, '.build.lock', 'pid'), String(dead));
    const logs: string[] = [];
    const started = Date.now();
    const result = await withBuildLock(
      dir,
      async () => 'built',
      (l) => logs.push(l),
    );
    expect(result).toBe('built');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(logs).toEqual([`taking over the build lock of ${dir} (its holder, pid ${dead}, is gone)`]);
    expect(existsSync(join(dir, '.build.lock'))).toBe(false);
  });

  it('waits for a live holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-lock-'));
    mkdirSync(join(dir, '.build.lock'));
    writeFileSync(join(dir, '.build.lock', 'pid'), String(process.ppid));
    const logs: string[] = [];
    const waiting = withBuildLock(
      dir,
      async () => 'built',
      (l) => logs.push(l),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(logs).toEqual([`waiting for another process building into ${dir}`]);
    // The holder finishes: the lock goes, the waiter proceeds within its 2 s poll.
    rmSync(join(dir, '.build.lock'), { recursive: true, force: true });
    expect(await waiting).toBe('built');
  });
});
