// Writing a Pipeline batch's documents to the target namespace — the document state the
// pipeline keeps (docs/adr/0030-pipeline-document-state.md). Shared by the pull worker SDK
// (which writes before it reports the batch done) and the orchestrator's push-dispatch
// activity, so both write exactly the same rows.
//
// Per batch, one write request (atomic in the store) does all of:
//  - upsert chunks that are new (id = document id + content hash, so unchanged chunks keep
//    their id and are never rewritten; their version/position are patched instead);
//  - delete, by filter, every other chunk of the batch's documents and items (the document's
//    older versions, documents an item no longer yields, deleted items and documents).
// A reader therefore sees either the old or the new chunk set of a document, never neither
// and never both.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  ChunkAttr,
  canonicalJson,
  itemIdentity,
  pipelineDocumentSchema,
  type PipelineBatchResult,
  type PipelineClaimInput,
  type PipelineDocument,
  type QueuedItem,
} from '../contracts/pipeline.js';
import type { Filter, Row, StoreClient } from '../store/client.js';
import type { ClaimReport } from '../contracts/claims.js';
import type { RateLimitGate } from './rate-limit-gate.js';
import { alsoObserving, runClaim, type ClaimRunOptions } from './claim-runner.js';
import { StoreBadRequestError } from '../store/errors.js';
import { InvalidPipelineOutputError } from './errors.js';

/** Largest `In` list per query (the store caps filter sizes; stay well below). */
const IN_LIMIT = 1000;

export interface ChunkRow {
  id: string;
  docId: string;
  docVersion: string;
  position: number;
  itemKey: string;
  itemVersion: string;
  text: string;
  vector?: number[];
  attributes: Record<string, unknown>;
}

export interface PlannedDocument {
  docId: string;
  itemKey: string;
  deleted: boolean;
  docVersion: string;
  chunks: ChunkRow[];
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Deterministic chunk id: document id + content hash (text, vector, attributes). */
export function chunkId(
  docId: string,
  chunk: { text: string; vector?: number[]; attributes?: unknown },
): string {
  return `${docId}:${sha(canonicalJson({ t: chunk.text, v: chunk.vector ?? null, a: chunk.attributes ?? {} })).slice(0, 24)}`;
}

/** The document's version: a hash of its ordered chunk ids (changes whenever any chunk does). */
function documentVersion(chunkIds: string[]): string {
  return sha(chunkIds.join('\n')).slice(0, 16);
}

const RESERVED = new Set<string>(['id', ...Object.values(ChunkAttr)]);

/**
 * Validates what `process(items)` returned and turns it into chunk rows. A document names its
 * item (`itemKey`), or is the only output of a one-item batch, or has the item's key as id.
 */
export function planDocuments(items: QueuedItem[], output: unknown): PlannedDocument[] {
  const parsed = z.array(pipelineDocumentSchema).safeParse(output);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidPipelineOutputError(
      `process() must return an array of documents: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const byKey = new Map(items.map((i) => [i.key, i]));
  const seenDocs = new Set<string>();
  return parsed.data.map((doc: PipelineDocument, d) => {
    const itemKey =
      doc.itemKey ?? (items.length === 1 ? items[0]!.key : doc.id && byKey.has(doc.id) ? doc.id : undefined);
    const item = itemKey === undefined ? undefined : byKey.get(itemKey);
    if (!item) {
      throw new InvalidPipelineOutputError(
        `document ${d} (${doc.id ?? 'no id'}) names no item of this batch: set itemKey (or use the item key as id)`,
      );
    }
    const docId = doc.id ?? item.key;
    if (seenDocs.has(docId)) throw new InvalidPipelineOutputError(`document id ${docId} returned twice`);
    seenDocs.add(docId);
    const used = new Map<string, number>();
    const chunks: ChunkRow[] = doc.deleted
      ? []
      : doc.chunks.map((c, position) => {
          for (const k of Object.keys(c.attributes ?? {})) {
            if (RESERVED.has(k))
              throw new InvalidPipelineOutputError(`chunk attribute '${k}' is reserved by the pipeline`);
          }
          let id = c.id ?? chunkId(docId, c);
          const n = used.get(id) ?? 0;
          used.set(id, n + 1);
          if (n > 0) id = `${id}#${n}`;
          return {
            id,
            docId,
            docVersion: '',
            position,
            itemKey: item.key,
            itemVersion: item.version,
            text: c.text,
            ...(c.vector ? { vector: c.vector } : {}),
            attributes: c.attributes ?? {},
          };
        });
    const docVersion = documentVersion(chunks.map((c) => c.id));
    for (const c of chunks) c.docVersion = docVersion;
    return { docId, itemKey: item.key, deleted: doc.deleted ?? false, docVersion, chunks };
  });
}

function chunkRow(c: ChunkRow, source: string): Row {
  return {
    ...c.attributes,
    id: c.id,
    [ChunkAttr.docId]: c.docId,
    [ChunkAttr.docVersion]: c.docVersion,
    [ChunkAttr.position]: c.position,
    [ChunkAttr.sourceKey]: c.itemKey,
    [ChunkAttr.sourceVersion]: c.itemVersion,
    [ChunkAttr.source]: source,
    [ChunkAttr.text]: c.text,
    ...(c.vector ? { [ChunkAttr.vector]: c.vector } : {}),
  } as Row;
}

const SCHEMA = {
  // Chunk ids are strings (document id + content hash); a namespace created by this schema
  // write would otherwise get uint ids.
  id: 'string',
  [ChunkAttr.docId]: 'string',
  [ChunkAttr.docVersion]: 'string',
  [ChunkAttr.position]: 'uint',
  [ChunkAttr.sourceKey]: 'string',
  [ChunkAttr.sourceVersion]: 'string',
  [ChunkAttr.source]: 'string',
};
/**
 * Chunk text may pass the service's 4 KiB limit for a filterable value, and nothing filters on
 * it: declared non-filterable when the namespace does not have it yet (an existing `text`, e.g.
 * one configured for full-text search, is left as it is; docs/adr/0112).
 */
const TEXT_SCHEMA = { type: 'string', filterable: false };

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Declares the pipeline's attributes once per namespace and process (filters need them known). */
const declared = new WeakMap<StoreClient, Set<string>>();
export async function ensurePipelineSchema(store: StoreClient, namespace: string): Promise<void> {
  let set = declared.get(store);
  if (!set) declared.set(store, (set = new Set()));
  if (set.has(namespace)) return;
  const current = await store.schema(namespace);
  const schema = current?.[ChunkAttr.text] ? SCHEMA : { ...SCHEMA, [ChunkAttr.text]: TEXT_SCHEMA };
  await store.write(namespace, { schema } as never);
  set.add(namespace);
}

/** Forget a declaration the store no longer has (namespace deleted and recreated). */
function forgetPipelineSchema(store: StoreClient, namespace: string): void {
  declared.get(store)?.delete(namespace);
}

/** `key@version` identities of items whose chunks are already in the namespace. */
export async function alreadyWritten(
  store: StoreClient,
  namespace: string,
  items: QueuedItem[],
): Promise<Set<string>> {
  const out = new Set<string>();
  const live = items.filter((i) => !i.deleted);
  for (const part of chunks(live, IN_LIMIT)) {
    const res = await store.query(namespace, {
      aggregate_by: { n: ['Count'] },
      group_by: [ChunkAttr.sourceKey, ChunkAttr.sourceVersion],
      filters: [ChunkAttr.sourceKey, 'In', part.map((i) => i.key)],
      limit: { total: part.length * 4 },
    } as never);
    const groups = (res as { aggregation_groups?: Record<string, unknown>[] }).aggregation_groups ?? [];
    for (const g of groups)
      out.add(
        itemIdentity({ key: String(g[ChunkAttr.sourceKey]), version: String(g[ChunkAttr.sourceVersion]) }),
      );
  }
  return out;
}

/** Ids among `ids` that exist, with the attributes that decide whether a kept chunk needs a patch. */
async function existing(store: StoreClient, namespace: string, ids: string[]): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  for (const part of chunks(ids, IN_LIMIT)) {
    const res = await store.query(namespace, {
      rank_by: ['id', 'asc'],
      filters: ['id', 'In', part],
      limit: part.length,
      include_attributes: [ChunkAttr.docVersion, ChunkAttr.position, ChunkAttr.sourceVersion],
    } as never);
    for (const r of res.rows ?? []) out.set(String(r.id), r);
  }
  return out;
}

export interface WriteDocumentsInput {
  store: StoreClient;
  namespace: string;
  source: string;
  /** Items processed (their other chunks are replaced) and items deleted at the source. */
  items: QueuedItem[];
  documents: PlannedDocument[];
}

export type WriteCounts = Pick<
  PipelineBatchResult,
  'documents' | 'chunksWritten' | 'chunksKept' | 'chunksDeleted'
>;

/** One atomic write: new chunks in, kept chunks patched, every other chunk of these documents and items out. */
async function writeDocuments(input: WriteDocumentsInput): Promise<WriteCounts> {
  const { store, namespace } = input;
  try {
    await ensurePipelineSchema(store, namespace);
    const all = input.documents.flatMap((d) => d.chunks);
    const found = await existing(
      store,
      namespace,
      all.map((c) => c.id),
    );
    const upserts: Row[] = [];
    const patches: Row[] = [];
    let kept = 0;
    for (const c of all) {
      const row = found.get(c.id);
      if (!row) upserts.push(chunkRow(c, input.source));
      else {
        kept += 1;
        if (
          row[ChunkAttr.docVersion] !== c.docVersion ||
          row[ChunkAttr.position] !== c.position ||
          row[ChunkAttr.sourceVersion] !== c.itemVersion
        ) {
          patches.push({
            id: c.id,
            [ChunkAttr.docVersion]: c.docVersion,
            [ChunkAttr.position]: c.position,
            [ChunkAttr.sourceKey]: c.itemKey,
            [ChunkAttr.sourceVersion]: c.itemVersion,
          } as Row);
        }
      }
    }
    const docIds = input.documents.map((d) => d.docId);
    const liveKeys = input.items.filter((i) => !i.deleted).map((i) => i.key);
    const deletedKeys = input.items.filter((i) => i.deleted).map((i) => i.key);
    const keep = all.map((c) => c.id);
    const scope: Filter[] = [];
    if (docIds.length) scope.push([ChunkAttr.docId, 'In', docIds] as Filter);
    if (liveKeys.length) scope.push([ChunkAttr.sourceKey, 'In', liveKeys] as Filter);
    const stale: Filter[] = [];
    if (scope.length) {
      const inScope: Filter = scope.length === 1 ? scope[0]! : (['Or', scope] as Filter);
      stale.push(keep.length ? (['And', [inScope, ['id', 'NotIn', keep]]] as Filter) : inScope);
    }
    if (deletedKeys.length) stale.push([ChunkAttr.sourceKey, 'In', deletedKeys] as Filter);
    if (upserts.length === 0 && patches.length === 0 && stale.length === 0)
      return { documents: input.documents.length, chunksWritten: 0, chunksKept: kept, chunksDeleted: 0 };
    const res = await store.write(namespace, {
      ...(upserts.length ? { upsert_rows: upserts } : {}),
      ...(patches.length ? { patch_rows: patches } : {}),
      ...(stale.length ? { delete_by_filter: stale.length === 1 ? stale[0] : ['Or', stale] } : {}),
    } as never);
    return {
      documents: input.documents.length,
      chunksWritten: upserts.length,
      chunksKept: kept,
      chunksDeleted: Number((res as { rows_deleted?: number }).rows_deleted ?? 0),
    };
  } catch (err) {
    if (err instanceof StoreBadRequestError) forgetPipelineSchema(store, namespace);
    throw err;
  }
}

export type ProcessFn = (items: QueuedItem[]) => Promise<unknown>;

/** A Pipeline batch after its read: what is left to do once already-written items are dropped. */
interface PreparedPipelineBatch {
  todo: QueuedItem[];
  live: QueuedItem[];
  alreadyWritten: number;
}

/**
 * A Pipeline batch in three stages for the claim runner: read (which items are already
 * written) → process (the worker) → plan and write the documents in one atomic request.
 */
export function pipelineBatchStages(
  store: StoreClient,
  input: { targetNamespace: string; source: string },
  process: ProcessFn,
) {
  return {
    async prepare(items: QueuedItem[]): Promise<PreparedPipelineBatch> {
      await ensurePipelineSchema(store, input.targetNamespace);
      const written = await alreadyWritten(store, input.targetNamespace, items);
      const todo = items.filter((i) => i.deleted || !written.has(itemIdentity(i)));
      return { todo, live: todo.filter((i) => !i.deleted), alreadyWritten: items.length - todo.length };
    },
    async compute(p: PreparedPipelineBatch): Promise<unknown> {
      return p.live.length ? process(p.live) : [];
    },
    async finish(p: PreparedPipelineBatch, output: unknown) {
      const documents = p.live.length ? planDocuments(p.live, output) : [];
      const counts = p.todo.length
        ? await writeDocuments({
            store,
            namespace: input.targetNamespace,
            source: input.source,
            items: p.todo,
            documents,
          })
        : { documents: 0, chunksWritten: 0, chunksKept: 0, chunksDeleted: 0 };
      return { alreadyWritten: p.alreadyWritten, ...counts };
    },
  };
}

/** Runs a Pipeline claim: its batches through the three stages (claim-runner.ts). */
export function runPipelineClaimWith(
  store: StoreClient,
  input: PipelineClaimInput,
  unlimitedProcess: (items: QueuedItem[], batchId: string) => Promise<unknown>,
  options: ClaimRunOptions & {
    /** The Pipeline's shared rate limit: a permit (items as rows) before each process call. */
    rateLimit?: RateLimitGate | undefined;
  } = {},
): Promise<ClaimReport> {
  const { rateLimit, ...claimOptions } = options;
  // Waits for permits come out of their own allowance, not the lease (docs/adr/0074): from the
  // attempt's start, at most maxPermitWaitMs in all; a permit due later is not booked.
  let permitWaitLeftMs = input.rateLimit?.maxPermitWaitMs;
  const process = rateLimit
    ? async (items: QueuedItem[], batchId: string) => {
        const waitMs = await rateLimit.acquire(items.length, options.signal, {
          // The claim and batch name the booking: this claim retried gets the same permit back.
          booking: `${input.claimId}/${batchId}`,
          ...(permitWaitLeftMs !== undefined ? { maxWaitMs: permitWaitLeftMs } : {}),
        });
        if (permitWaitLeftMs !== undefined) permitWaitLeftMs = Math.max(0, permitWaitLeftMs - waitMs);
        return unlimitedProcess(items, batchId);
      }
    : unlimitedProcess;
  return runClaim(
    input.claimId,
    input.batches,
    {
      prepare: (b) =>
        pipelineBatchStages(store, input, (items) => process(items, b.batchId)).prepare(b.items),
      compute: (b, p) => pipelineBatchStages(store, input, (items) => process(items, b.batchId)).compute(p),
      finish: async (b, p, output) => ({
        counts: {
          items: b.items.length,
          ...(await pipelineBatchStages(store, input, (items) => process(items, b.batchId)).finish(
            p,
            output,
          )),
        },
      }),
    },
    alsoObserving(claimOptions, rateLimit),
  );
}
