// The chaos run's work, as pure functions both the worker processes and the verdict use: what
// the Function's handler computes for a row at a version, which rows are poison, and the chunks
// a Pipeline item's text becomes. The verdict recomputes these to compare values, not counts.

/** The Function's output attribute (an embedding of dim 4, so a wrong-dimension row can exist). */
export const OUTPUT = 'emb';
export const DIM = 4;

/** Rows whose handler always throws: dead-lettered as HandlerFailed after retries and bisection. */
export function isThrowingPoison(id: number, rows: number): boolean {
  return id % Math.max(1, Math.floor(rows / 8)) === 7;
}

/** The one row whose output has the wrong dimension: dead-lettered as InvalidWorkerOutput. */
export function isWrongDimension(id: number, rows: number): boolean {
  return id === Math.floor(rows / 2) + 3;
}

export function poisonIds(rows: number): number[] {
  const out: number[] = [];
  for (let id = 1; id <= rows; id++)
    if (isThrowingPoison(id, rows) || isWrongDimension(id, rows)) out.push(id);
  return out;
}

/** `v7` → 7: versions are ordered by their number. */
export function versionNumber(version: string): number {
  return Number(version.replace(/^v/, ''));
}

/**
 * The handler's output for a row at a version. Small integers: exact in float32 and float64, so
 * a value read back compares equal whatever the store keeps vectors as.
 */
export function functionValue(id: number, version: string): number[] {
  return [id % 1000, versionNumber(version), (id * 7) % 13, Math.floor(id / 1000)];
}

/** A Pipeline item's text at a revision: a few sentences, a different number per revision. */
export function itemText(key: string, revision: number): string {
  const n = 1 + ((key.length + revision * 3 + Number(key.replace(/\D/g, '') || 0)) % 4);
  return Array.from({ length: n }, (_, i) => `Sentence ${i + 1} of ${key} revision ${revision}.`).join(' ');
}

/** How the Pipeline worker chunks text: one chunk per sentence. */
export function chunksOf(text: string): string[] {
  return text.split(/(?<=\.)\s+/).filter((s) => s.length > 0);
}
