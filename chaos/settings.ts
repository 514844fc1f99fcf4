// The chaos run's settings: every flag it reads (through bench/harness.ts's reader), the names of
// its queues, and the log and retry helpers every chaos module uses.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTemporalKind } from '../src/cli/commands/dev.js';
import { arg as harnessArg, textArg } from '../bench/harness.js';

/** Every chaos flag is a non-negative number (a fault rate is a fraction). */
const arg = (name: string, fallback: number) => harnessArg(name, fallback, 0, { integer: false });

export const SEED = arg('seed', Math.floor(Math.random() * 2 ** 31));
export const ROWS = arg('rows', 100_000);
export const DOCS = arg('docs', 5_000);
export const FAULT_RATE = arg('fault-rate', 0.05);
export const KILL_EVERY_S = arg('kill-every-s', 8);
export const TIMEOUT_MS = arg('timeout-min', 30) * 60_000;
export const SKIP_FAULT_FREE = process.argv.includes('--skip-fault-free');
/** Start the store with the index-lag profile. */
export const STORE_LAG = process.argv.includes('--store-lag');
export const TEMPORAL_KIND = parseTemporalKind(textArg('temporal') ?? 'dev');
export const REVISED_DOCS = Math.floor(DOCS / 10);
export const FINAL_VERSION = 'v2';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LAYER = join(ROOT, 'bin/layer.js');
export const ORCHESTRATOR_QUEUE = `chaos-orchestrator-${SEED}`;
export const FUNCTION_QUEUE = `chaos-function-workers-${SEED}`;
export const PIPELINE_QUEUE = `chaos-pipeline-workers-${SEED}`;

export const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries a call through server restarts (Temporal or the store may be down for a few seconds). */
export async function retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 5 * 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 3_000)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await sleep(delay);
    }
  }
}
