// A source-fed Pipeline's worker image. runPipelineWorker reads LAYER_SOURCE_REF and runs the
// sqs, kafka or s3-events source it names; `sources` adds a kind of this team's own (a partner
// API). `process` turns items into chunked documents; the SDK writes them.
import { runPipelineWorker, type PipelineSource } from '@hevlayer/worker';

/** A partner API that pages through changed records; the cursor moves only after acceptance. */
function partnerApi(ref: Record<string, unknown>): PipelineSource<string> {
  const base = String(ref.url);
  let cursor = '';
  return {
    kind: 'partner-api',
    async receive(max, signal) {
      const res = await fetch(`${base}/changes?after=${encodeURIComponent(cursor)}&limit=${max}`, { signal });
      const page = (await res.json()) as {
        records: { id: string; rev: string; body: string }[];
        next: string;
      };
      if (page.records.length === 0) await new Promise((r) => setTimeout(r, 5_000));
      return page.records.map((r) => ({
        item: { key: r.id, version: r.rev, payload: { text: r.body } },
        receipt: page.next,
      }));
    },
    async ack(messages) {
      // Kept in memory here; a real one stores the cursor (a restart re-reads: duplicates are no-ops).
      cursor = messages.at(-1)?.receipt ?? cursor;
    },
    async close() {},
  };
}

await runPipelineWorker({
  sources: { 'partner-api': partnerApi },
  process: async (items, ctx) =>
    Promise.all(
      items.map(async (item) => {
        // s3-events items reference the object; the others carry their text.
        const text = item.s3
          ? (await ctx.readObject(item)).toString('utf8')
          : String((item.payload as { text: string }).text);
        return { itemKey: item.key, chunks: text.split(/\n\s*\n/).map((t) => ({ text: t.trim() })) };
      }),
    ),
});
