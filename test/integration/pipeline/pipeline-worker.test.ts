// A worker that owns its source (runPipelineWorker with pull/ack), killed with SIGKILL in the
// middle of a batch: nothing is lost, nothing was acked before its chunks were written, and a
// replacement worker finishes the rest with every document's chunks present exactly once.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  byDocument,
  eventually,
  pipelineSpec,
  readChunks,
  startPipeline,
  startPipelineHarness,
  startWorker,
  statusOf,
  uniqueName,
  type PipelineHarness,
} from './harness.js';
import { fileSource } from './fixtures/file-source.js';

let h: PipelineHarness;
let dir: string;

beforeAll(async () => {
  h = await startPipelineHarness();
  dir = mkdtempSync(join(tmpdir(), 'layer-pl-source-'));
});

afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const WORKER = fileURLToPath(new URL('./fixtures/source-worker.ts', import.meta.url));

describe('a worker that owns its source', () => {
  it('killed mid-batch loses nothing and acks nothing early', async () => {
    const name = uniqueName('own-source');
    const ns = uniqueName('chunks');
    // A short lease so the killed worker's batch is handed to the replacement quickly.
    const spec = pipelineSpec(name, ns, {
      worker: { dispatch: 'pull', batchSize: 4, timeoutSeconds: 20 },
      schedule: { leaseSeconds: 4, maxInFlightBatches: 4, maxPendingItems: 1000 },
    });
    const ref = { k8sNamespace: spec.k8sNamespace, name };
    const items = Array.from({ length: 24 }, (_, i) => ({
      key: `msg-${String(i).padStart(2, '0')}`,
      payload: { text: Array.from({ length: 1 + (i % 4) }, (_, p) => `message ${i} part ${p}`).join('\n\n') },
    }));
    writeFileSync(join(dir, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    await startPipeline(h, spec);

    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: {
        ...process.env,
        SOURCE_DIR: dir,
        PIPELINE_K8S_NS: spec.k8sNamespace,
        PIPELINE_NAME: name,
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_NAMESPACE: temporalNamespace(),
        STORE_URL: h.storeServer.url,
        PROCESS_DELAY_MS: '700',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    const progress = () =>
      existsSync(join(dir, 'progress.log')) ? readFileSync(join(dir, 'progress.log'), 'utf8') : '';
    // Kill once some items are acked and a batch is mid-process (started, not ended).
    await eventually(
      async () => ({ acked: fileSource(dir).acked().length, log: progress() }),
      ({ acked, log }) => {
        if (acked === 0) return false;
        const lines = log.split('\n');
        const started = lines.filter((l) => l.startsWith('start ')).map((l) => l.slice(6));
        const ended = new Set(lines.filter((l) => l.startsWith('end ')).map((l) => l.slice(4)));
        return started.some((b) => !ended.has(b));
      },
      40_000,
      'a batch in progress after the first ack',
    );
    child.kill('SIGKILL');
    await exited;

    // Nothing acked early: every acked key has its chunks in the target namespace.
    const ackedAtKill = fileSource(dir).acked();
    expect(ackedAtKill.length).toBeGreaterThan(0);
    expect(ackedAtKill.length).toBeLessThan(items.length);
    const docsAtKill = byDocument(await readChunks(h.store, ns));
    for (const key of ackedAtKill) expect(docsAtKill[key], `acked ${key} has chunks`).toBeDefined();

    // A replacement worker with the same source finishes everything.
    const source = fileSource(dir);
    const worker = startWorker(h, spec, {
      batchSize: 4,
      pull: ({ max }) => source.pull(max),
      ack: (acked) => source.ack(acked),
      process: (batch) =>
        batch.map((i) => ({
          itemKey: i.key,
          chunks: String((i.payload as { text: string }).text)
            .split('\n\n')
            .map((text) => ({ text })),
        })),
    });
    try {
      await eventually(
        async () => new Set(fileSource(dir).acked()).size,
        (n) => n === items.length,
        40_000,
        'every item acked',
      );
      const docs = byDocument(await readChunks(h.store, ns));
      expect(Object.keys(docs).sort()).toEqual(items.map((i) => i.key));
      for (const i of items) expect(docs[i.key]).toEqual(i.payload.text.split('\n\n'));
      const st = await statusOf(h, ref);
      expect(st.queue.failed).toBe(0);
      expect(st.queue.pending).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
