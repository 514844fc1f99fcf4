// The seed's tag-products Function (function-crd.md): tags for a product from its title.
// Pure and deterministic, so the same row always gets the same tags (a re-delivered batch
// writes identical values).
import type { BatchRow, FunctionOutput } from '@hevlayer/worker';

const STOPWORDS = new Set(['and', 'the', 'for', 'with', 'from', 'of', 'a', 'an', 'in', 'on']);

/** Lower-case title words of 3+ letters, stopwords out, first 5 distinct. */
export function tagsForTitle(title: unknown): string[] {
  const words = String(title ?? '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3 && !STOPWORDS.has(w));
  return [...new Set(words)].slice(0, 5);
}

export async function tagProducts(rows: BatchRow[]): Promise<FunctionOutput[]> {
  return rows.map((row) => ({ id: row.id, value: tagsForTitle(row.inputs.title) }));
}
