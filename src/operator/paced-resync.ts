// The watcher's periodic resync, paced by the passes it starts: a wave of resources at a time, the
// next wave once the last one's runs have ended (or a wave's time is up). Signalling every
// resource at once queued a thousand runs in Temporal, and a change to a resource whose resync run
// was queued waited behind all of them: its signal joined that low-priority run (ADR 0135).
// Spreading the resync over its interval by the clock was measured twice and kept the 2-core
// machine busy all the time; pacing by completion runs the resync as fast as the passes go and
// keeps at most one wave queued.

export interface PacedResyncOptions<T> {
  /** Resources a wave signals at once: the passes one replica runs at once. */
  waveSize: number;
  /** A wave's longest wait: a pass that keeps failing does not hold the resync (ms). */
  waveTimeoutMs: number;
  /** Signal one resource's resync and resolve when its run has ended. */
  resyncOne(item: T): Promise<void>;
  /** True once the watcher stops: no further wave starts. */
  stopped(): boolean;
  /** Resolves when the watcher stops, ending a wave's wait at once. */
  stopping: Promise<void>;
  /** A timer (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Resync `items` in waves of `waveSize`; resolves with the number of waves run.
 *
 * @example
 * await pacedResync(refs, { waveSize: 32, waveTimeoutMs: 60_000, resyncOne, stopped, stopping });
 */
export async function pacedResync<T>(items: readonly T[], opts: PacedResyncOptions<T>): Promise<number> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const size = Math.max(1, opts.waveSize);
  let waves = 0;
  for (let i = 0; i < items.length && !opts.stopped(); i += size) {
    const wave = items.slice(i, i + size).map((item) => opts.resyncOne(item).catch(() => undefined));
    waves++;
    await Promise.race([Promise.all(wave), sleep(opts.waveTimeoutMs), opts.stopping]);
  }
  return waves;
}
