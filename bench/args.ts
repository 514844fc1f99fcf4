// The benchmarks' one flag reader: `--name N`, an integer of at least `min` (1 unless a zero
// means "skip this phase"), else an error naming the flag — not a NaN that runs on silently.
import { loadavg } from 'node:os';

export function arg(name: string, fallback: number, min = 1): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} expects an integer of at least ${min}, got '${process.argv[i + 1] ?? ''}'`);
  return n;
}

/** The 1-minute load average, printed beside every figure (a noisy machine shows itself). */
export function load1(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
