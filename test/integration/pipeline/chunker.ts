// The chunking process the Pipeline tests run: each item's paragraphs (from its S3 object or
// `payload.text`) become its chunks, in order. Its own module, free of test-runner imports, so a
// worker process (test/integration/cluster/fixtures/chunk-documents.ts) can run it too.
import type { QueuedItem } from '../../../packages/worker/src/contracts/pipeline.js';
import type { ProcessFn } from '../../../packages/worker/src/pipeline-worker.js';

/** Paragraphs (blank-line separated) become chunks, in order. */
export function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A chunking process: text from the S3 object or `payload.text`; counts calls per item identity. */
export function chunker(calls: Map<string, number> = new Map()): ProcessFn {
  return async (items: QueuedItem[], ctx) => {
    const docs = [];
    for (const item of items) {
      calls.set(item.key, (calls.get(item.key) ?? 0) + 1);
      const text = item.s3
        ? (await ctx.readObject(item)).toString('utf8')
        : String((item.payload as { text?: string } | undefined)?.text ?? '');
      docs.push({
        itemKey: item.key,
        chunks: paragraphs(text).map((p) => ({ text: p, attributes: { words: p.split(/\s+/).length } })),
      });
    }
    return docs;
  };
}
