// Store benchmark, everything through the official client over HTTP against a durable store
// running in its own process (so its peak RSS is measured on its own):
//   1. upsert 1M catalogue rows (8 attributes) in 10k-row requests,
//   2. a filtered, id-paged scan of all of them (10k rows a page),
//   3. patch 100k rows in 10k-row requests,
//   4. ANN: 20k clustered 64-d vectors in another namespace (above the store's ANN threshold);
//      100 queries each as exact kNN and as ANN: recall@10 of ANN against exact, and latency.
// Peak RSS (and rss_per_1m_rows_mb) is read after phase 3, before the vectors are loaded.
// Prints rows/s per phase, peak RSS and rss_per_1m_rows_mb, each beside the 1-minute load
// average (figures from a busy machine are not comparable); the last line is one JSON object.
// Usage: npm run bench:store [-- --rows N --patch N --batch N --vectors N --dims N --queries N]
//        npm run bench:store -- --scale 10000000   (the 10M-row figure; --scale is --rows)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStoreClient } from '../packages/worker/src/store/client.js';
import { generateProducts } from '../src/store/seed.js';
import { arg, load1 } from './harness.js';
import { startStoreChild, type ChildServer } from './servers.js';

const ROWS = arg('scale', arg('rows', 1_000_000));
const PATCH = arg('patch', 100_000);
const BATCH = arg('batch', 10_000);
const VECTORS = arg('vectors', 20_000, 0);
const DIMS = arg('dims', 64);
const QUERIES = arg('queries', 100);
const NAMESPACE = 'bench-products';

function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** The durable store in its own process; ready once it answers (bench/servers.ts). */
function startServer(dataDir: string): Promise<ChildServer> {
  return startStoreChild(['--data', dataDir], {
    output: 'inherit',
    env: { ...process.env, LAYER_FROM_SOURCE: process.env.LAYER_FROM_SOURCE ?? '' },
  });
}

/** Deterministic points around 50 centres (embeddings cluster; uniform noise is unrealistic). */
function clusteredVectors(n: number, dims: number, seed: number): number[][] {
  let x = seed;
  const r = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 1) / 4294967297;
  };
  const centres = Array.from({ length: 50 }, () => Array.from({ length: dims }, () => r() * 2 - 1));
  return Array.from({ length: n }, () => centres[Math.floor(r() * 50)]!.map((c) => c + (r() - 0.5) * 0.8));
}

interface AnnFigures {
  ann_recall_at_10: number;
  exact_query_ms: number;
  ann_query_ms: number;
  ann_index_build_ms: number;
}

async function annPhase(
  client: ReturnType<typeof createStoreClient>,
  log: (s: string) => void,
): Promise<AnnFigures> {
  const ns = 'bench-vectors';
  // Queries are held out from the same distribution as the data (as ANN benchmarks do):
  // the last QUERIES points are generated with the data but never inserted.
  const all = clusteredVectors(VECTORS + QUERIES, DIMS, 7);
  const data = all.slice(0, VECTORS);
  const queries = all.slice(VECTORS);
  for (let i = 0; i < VECTORS; i += 1000) {
    await client.write(ns, {
      upsert_rows: data.slice(i, i + 1000).map((vector, j) => ({ id: i + j, vector })),
      distance_metric: 'cosine_distance',
    });
  }
  // The first ANN query starts the index build (queries stay exact until it is done).
  let t = performance.now();
  await client.query(ns, { rank_by: ['vector', 'ANN', queries[0]!], top_k: 10 });
  // metadata's index.status is 'updating' until the build is done (polling it costs nothing).
  while ((await client.metadata(ns)).index.status !== 'up-to-date')
    await new Promise((r) => setTimeout(r, 200));
  const buildMs = performance.now() - t;
  let exactMs = 0;
  let annMs = 0;
  let hits = 0;
  for (const q of queries) {
    t = performance.now();
    const exact = await client.query(ns, { rank_by: ['vector', 'kNN', q], top_k: 10 });
    exactMs += performance.now() - t;
    t = performance.now();
    const ann = await client.query(ns, { rank_by: ['vector', 'ANN', q], top_k: 10 });
    annMs += performance.now() - t;
    const truth = new Set(exact.rows!.map((r) => r.id));
    hits += ann.rows!.filter((r) => truth.has(r.id)).length;
  }
  const figures: AnnFigures = {
    ann_recall_at_10: Number((hits / (QUERIES * 10)).toFixed(4)),
    exact_query_ms: Number((exactMs / QUERIES).toFixed(2)),
    ann_query_ms: Number((annMs / QUERIES).toFixed(2)),
    ann_index_build_ms: Math.round(buildMs),
  };
  log(
    `ann:    ${VECTORS} vectors × ${DIMS} dims, ${QUERIES} queries: recall@10 ${figures.ann_recall_at_10}, ` +
      `exact ${figures.exact_query_ms} ms, ANN ${figures.ann_query_ms} ms per query, index built in ${figures.ann_index_build_ms} ms (load ${load1()})`,
  );
  return figures;
}

function rate(rows: number, ms: number): number {
  return Math.round(rows / (ms / 1000));
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'layer-bench-store-'));
  const { url, child } = await startServer(dataDir);
  const client = createStoreClient({ baseUrl: url, apiKey: 'bench', timeoutMs: 600_000 });
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  try {
    log(`store ${url}, data ${dataDir}; ${ROWS} rows, ${PATCH} patches, ${BATCH} rows per request`);

    // 1. Upsert. Two requests in flight so client-side generation and JSON overlap server work.
    let t = performance.now();
    let next = 1;
    const upsertWorker = async (): Promise<void> => {
      while (next <= ROWS) {
        const start = next;
        const n = Math.min(BATCH, ROWS - start + 1);
        next += n;
        await client.upsertRows(NAMESPACE, generateProducts(n, 42, start));
      }
    };
    await Promise.all([upsertWorker(), upsertWorker()]);
    const upsertMs = performance.now() - t;
    log(
      `upsert: ${ROWS} rows in ${(upsertMs / 1000).toFixed(1)} s = ${rate(ROWS, upsertMs)} rows/s (load ${load1()})`,
    );

    // 2. Filtered id-paged scan of everything (the filter holds for every row: price >= 0).
    t = performance.now();
    let scanned = 0;
    let afterId: string | number | null = null;
    do {
      const page = await client.scanPage({
        namespace: NAMESPACE,
        filter: ['price', 'Gte', 0],
        afterId,
        limit: BATCH,
        attributes: ['title', 'category', 'price'],
      });
      scanned += page.rows.length;
      afterId = page.nextAfterId;
    } while (afterId !== null);
    const scanMs = performance.now() - t;
    if (scanned !== ROWS) throw new Error(`scan returned ${scanned} rows, expected ${ROWS}`);
    log(
      `scan:   ${scanned} rows in ${(scanMs / 1000).toFixed(1)} s = ${rate(scanned, scanMs)} rows/s (load ${load1()})`,
    );

    // 3. Patch 100k rows spread over the id space.
    t = performance.now();
    const stride = Math.max(1, Math.floor(ROWS / PATCH));
    let patched = 0;
    for (let i = 0; i < PATCH; i += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, PATCH - i) }, (_, j) => ({
        id: 1 + (((i + j) * stride) % ROWS),
        stock: i + j,
        on_sale: true,
      }));
      const res = await client.patchRows(NAMESPACE, rows);
      patched += res.rows_patched ?? 0;
    }
    const patchMs = performance.now() - t;
    if (patched !== PATCH) throw new Error(`patched ${patched} rows, expected ${PATCH}`);
    log(
      `patch:  ${patched} rows in ${(patchMs / 1000).toFixed(1)} s = ${rate(patched, patchMs)} rows/s (load ${load1()})`,
    );

    const serverRss = peakRssMb(child.pid);
    const clientRss = Math.round(process.resourceUsage().maxRSS / 1024);
    // At 1M rows this is the measured peak; at other scales, the peak scaled linearly (which
    // overstates small runs, where the process's fixed ~60 MB dominates).
    const per1m = Math.round((serverRss * 1_000_000) / ROWS);
    const ann = VECTORS > 0 ? await annPhase(client, log) : undefined;
    log(
      `peak RSS: store ${serverRss} MB (rss_per_1m_rows_mb ${per1m}${ROWS === 1_000_000 ? '' : ', scaled'}), bench client ${clientRss} MB (load ${load1()})`,
    );
    log(
      JSON.stringify({
        rows: ROWS,
        upsert_rows_per_s: rate(ROWS, upsertMs),
        scan_rows_per_s: rate(scanned, scanMs),
        patch_rows_per_s: rate(patched, patchMs),
        peak_rss_mb: serverRss,
        rss_per_1m_rows_mb: per1m,
        client_peak_rss_mb: clientRss,
        ...(ann ?? {}),
        peak_rss_with_vectors_mb: peakRssMb(child.pid),
        load_avg_1m: Number(load1()),
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
