// Orchestrator-side activities of the Pipeline engine, as a factory over injected
// dependencies: the built-in S3 source (listing new/changed objects by ETag, finding deleted
// ones) and push dispatch. The worker wires real clients; tests wire the test servers.
import { Context, heartbeat } from '@temporalio/activity';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  ChunkAttr,
  type PipelineBatchInput,
  type PipelineClaimInput,
  type QueuedItem,
} from '../../packages/worker/src/contracts/pipeline.js';
import { s3SourceRefSchema, sourceLabel, type S3SourceRef } from '../contracts/pipeline.js';
import {
  ensurePipelineSchema,
  runPipelineClaimWith,
} from '../../packages/worker/src/claim-execution/pipeline-write.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import { StoreNotFoundError } from '../../packages/worker/src/store/errors.js';
import { classified, WorkerCallError } from '../../packages/worker/src/claim-execution/failures.js';
import { postToPushWorker, pushAnswerLimitBytes } from './push-call.js';
import type { Client } from '@temporalio/client';
import { workloadRateLimitGate } from '../../packages/worker/src/claim-execution/rate-limit-gate.js';
import { claimProgressFrom, type ClaimReport } from '../../packages/worker/src/contracts/claims.js';

export interface PipelineActivityDeps {
  storeFor(namespace: string): StoreClient;
  /** The S3 client for a Pipeline's S3 source (credentials from the orchestrator's configuration). */
  s3For?(source: S3SourceRef): S3Client;
  fetch?: typeof fetch;
  /** Ceiling of one push worker's answer in bytes (LAYER_PUSH_MAX_ANSWER_BYTES; see push-call.ts). */
  pushMaxAnswerBytes?: number | undefined;
  /** Reaches the limiter workflow of a Pipeline's shared rate limit (spec.worker.rateLimit). */
  rateLimitClient?: Client;
}

export interface ListS3ChangesInput {
  sourceRef: Record<string, unknown>;
  targetNamespace: string;
  /** Resume after this key (the previous call's nextStartAfter); null starts a pass. */
  startAfter: string | null;
  /** Stop after this many new or changed objects. */
  maxItems: number;
}

export interface ListS3ChangesResult {
  items: QueuedItem[];
  /** null: the pass reached the end of the prefix. */
  nextStartAfter: string | null;
  listed: number;
}

export interface FindDeletedInput {
  sourceRef: Record<string, unknown>;
  targetNamespace: string;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^W\//, '').replace(/"/g, '');

/** Page size of group_by reads of the document state. */
const GROUP_PAGE = 1000;

async function knownVersions(
  store: StoreClient,
  namespace: string,
  keys: string[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (keys.length === 0) return out;
  try {
    await ensurePipelineSchema(store, namespace);
    const res = await store.query(namespace, {
      aggregate_by: { n: ['Count'] },
      group_by: [ChunkAttr.sourceKey, ChunkAttr.sourceVersion],
      filters: [ChunkAttr.sourceKey, 'In', keys],
      limit: { total: keys.length * 4 },
    } as never);
    for (const g of (res as { aggregation_groups?: Record<string, unknown>[] }).aggregation_groups ?? []) {
      const k = String(g[ChunkAttr.sourceKey]);
      if (!out.has(k)) out.set(k, new Set());
      out.get(k)!.add(String(g[ChunkAttr.sourceVersion]));
    }
  } catch (err) {
    if (!(err instanceof StoreNotFoundError)) throw err;
  }
  return out;
}

async function postProcess(
  fetchFn: typeof fetch,
  baseUrl: string,
  input: PipelineBatchInput,
  items: QueuedItem[],
  maxAnswerCeiling: number | undefined,
): Promise<unknown> {
  const url = `${baseUrl.replace(/\/+$/, '')}/process`;
  const answer = await postToPushWorker(fetchFn, url, { ...input, items }, input.timeoutSeconds, {
    maxAnswerBytes: pushAnswerLimitBytes(items.length, maxAnswerCeiling),
  });
  return (answer as { documents?: unknown } | null)?.documents;
}

export function createPipelineActivities(deps: PipelineActivityDeps) {
  const fetchFn = deps.fetch ?? fetch;
  const s3 = (ref: Record<string, unknown>) => {
    const source = s3SourceRefSchema.parse(ref);
    if (!deps.s3For)
      throw new WorkerCallError('this orchestrator has no S3 configuration for S3 sources', false);
    return { source, client: deps.s3For(source) };
  };

  return {
    /** New or changed objects (by ETag) under the source's prefix, from `startAfter` on. */
    async listS3Changes(input: ListS3ChangesInput): Promise<ListS3ChangesResult> {
      return classified(async () => {
        const { source, client } = s3(input.sourceRef);
        const store = deps.storeFor(input.targetNamespace);
        const items: QueuedItem[] = [];
        let startAfter = input.startAfter ?? undefined;
        let token: string | undefined;
        let listed = 0;
        for (;;) {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: source.bucket,
              Prefix: source.prefix,
              ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
              MaxKeys: 1000,
            }),
          );
          heartbeat();
          const objects = (page.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith('/'));
          const known = await knownVersions(
            store,
            input.targetNamespace,
            objects.map((o) => o.Key!),
          );
          for (const o of objects) {
            listed += 1;
            startAfter = o.Key!;
            const etag = unquote(o.ETag);
            const versions = known.get(o.Key!);
            if (versions?.size === 1 && versions.has(etag)) continue;
            items.push({
              key: o.Key!,
              version: etag,
              s3: { bucket: source.bucket, key: o.Key!, etag, size: o.Size ?? 0 },
            });
            if (items.length >= input.maxItems) return { items, nextStartAfter: o.Key!, listed };
          }
          if (!page.IsTruncated || !page.NextContinuationToken) break;
          token = page.NextContinuationToken;
        }
        return { items, nextStartAfter: null, listed };
      });
    },

    /** Keys with chunks in the target namespace (from this source) that the bucket no longer has. */
    async findDeletedS3Objects(input: FindDeletedInput): Promise<string[]> {
      return classified(async () => {
        const { source, client } = s3(input.sourceRef);
        const present = new Set<string>();
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: source.bucket,
              Prefix: source.prefix,
              MaxKeys: 1000,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          heartbeat();
          for (const o of page.Contents ?? []) if (o.Key) present.add(o.Key);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        const store = deps.storeFor(input.targetNamespace);
        const deleted: string[] = [];
        let after: string | null = null;
        try {
          await ensurePipelineSchema(store, input.targetNamespace);
          for (;;) {
            const filters: unknown[] = [[ChunkAttr.source, 'Eq', sourceLabel(input.sourceRef)]];
            if (after !== null) filters.push([ChunkAttr.sourceKey, 'Gt', after]);
            const res = await store.query(input.targetNamespace, {
              aggregate_by: { n: ['Count'] },
              group_by: [ChunkAttr.sourceKey],
              filters: filters.length === 1 ? filters[0] : ['And', filters],
              limit: { total: GROUP_PAGE },
            } as never);
            const groups =
              (res as { aggregation_groups?: Record<string, unknown>[] }).aggregation_groups ?? [];
            for (const g of groups) {
              const key = String(g[ChunkAttr.sourceKey]);
              if (!present.has(key)) deleted.push(key);
              after = key;
            }
            heartbeat();
            if (groups.length < GROUP_PAGE) break;
          }
        } catch (err) {
          if (!(err instanceof StoreNotFoundError)) throw err;
        }
        return deleted;
      });
    },

    /** Push dispatch of a claim: each batch POSTed to the worker's /process and written in turn. */
    async runPushPipelineClaim(input: PipelineClaimInput & { pushUrl?: string }): Promise<ClaimReport> {
      return classified(async () => {
        if (!input.pushUrl)
          throw new WorkerCallError('push dispatch needs worker.pushUrl (the worker Service URL)', false);
        const pushUrl = input.pushUrl;
        const { batches: _batches, claimId: _claimId, pushUrl: _url, rateLimit, ...common } = input;
        const ctx = Context.current();
        return runPipelineClaimWith(
          deps.storeFor(input.targetNamespace),
          input,
          (items, batchId) =>
            postProcess(fetchFn, pushUrl, { ...common, batchId, items }, items, deps.pushMaxAnswerBytes),
          {
            resumeFrom: claimProgressFrom(ctx.info.heartbeatDetails, input.claimId),
            attempt: ctx.info.attempt,
            heartbeat: (progress) => ctx.heartbeat(progress),
            signal: ctx.cancellationSignal,
            // The limiter runs on this orchestrator's own task queue.
            rateLimit: workloadRateLimitGate(
              deps.rateLimitClient,
              { kind: 'Pipeline', ...input.pipeline },
              rateLimit,
              ctx.info.taskQueue,
            ),
          },
        );
      });
    },
  };
}

export type PipelineActivities = ReturnType<typeof createPipelineActivities>;
