// `layer pipeline submit|status NAME`: feed and observe one Pipeline's workflow through the
// Pipeline engine's client API. The workflow is found by its deterministic ID
// (pipeline/<namespace>/<name>); a missing one says how to create it.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { getPipelineStatus, submitPipelineItems, type PipelineRef } from '../../client/pipeline-client.js';
import { type Config } from '../../config.js';
import { loadCliConfig } from '../config.js';
import { pipelineWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { pipelineItemSchema, type PipelineItem } from '../../../packages/worker/src/contracts/pipeline.js';
import { pipelineQueueDepth } from '../../contracts/queue-depth.js';
import { type PipelineStatus } from '../../contracts/pipeline.js';
import { InvalidInputError, LayerError } from '../../../packages/worker/src/util/errors.js';
import { formatDuration, type ProgressInput } from '../progress.js';
import { watchIntervalMs, watchOptions, watchStatusLoop, type WatchFlags } from '../watch.js';
import { connectTemporalClient, type TemporalClient } from '../temporal-connect.js';
import { cliTimeoutMs, isDeadlineExceeded } from '../errors.js';
import { LOCAL_K8S_NAMESPACE } from './apply.js';

/** How long a query may wait for the orchestrator Worker before we say so (see function.ts). */
/** Read when a command runs, so a bad value is reported by the CLI's error path, not at import. */
const callTimeoutMs = (): number => cliTimeoutMs(process.env);
/** How long a submission may keep retrying a full queue. */
const SUBMIT_DEADLINE_MS = 10 * 60_000;

/** The Pipeline has no workflow in Temporal. */
export class PipelineNotFoundError extends LayerError {
  constructor(
    readonly workflowId: string,
    config: Config,
  ) {
    super(
      `no workflow ${workflowId} in Temporal namespace ${config.temporal.namespace} at ${config.temporal.address}`,
      'start it with `layer apply -f pipeline.yaml` (and pass -n when the Pipeline sets metadata.namespace; the default is local)',
    );
  }
}

const ITEM_EXAMPLE = '{"key": "doc-1", "payload": {"text": "..."}}';

/**
 * Parses JSON Lines: one pipeline item per line; blank lines are skipped. A line that is not
 * JSON, or not an item, fails naming the file and line number and how to fix it.
 *
 * @example parsePipelineItems('{"key":"a","payload":{"text":"hi"}}\n\n{"key":"b","deleted":true}\n')
 * // [{ key: 'a', payload: { text: 'hi' } }, { key: 'b', deleted: true }]
 */
export function parsePipelineItems(text: string, source = 'items'): PipelineItem[] {
  const items: PipelineItem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch (err) {
      throw new InvalidInputError(
        where,
        `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
        `write one JSON object per line (JSON Lines), e.g. ${ITEM_EXAMPLE}`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidInputError(
        where,
        `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
        `write one item object per line, e.g. ${ITEM_EXAMPLE}`,
      );
    }
    const parsed = pipelineItemSchema.strict().safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map(
          (issue) =>
            `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(item)'}: ${issue.message}`,
        )
        .join('; ');
      throw new InvalidInputError(
        where,
        `not a pipeline item: ${problems}`,
        `each item needs a non-empty string "key" and may set "version" (string), "payload" (any JSON) and "deleted" (boolean), e.g. ${ITEM_EXAMPLE}`,
      );
    }
    items.push(parsed.data);
  });
  return items;
}

/** Reads `-f FILE` (`-` is stdin) and parses it; an empty file is an error, not a no-op. */
export function readPipelineItemsFile(
  file: string,
  read: (path: string) => string = readText,
): PipelineItem[] {
  let text: string;
  try {
    text = read(file === '-' ? '/dev/stdin' : file);
  } catch (err) {
    throw new InvalidInputError(
      '-f',
      `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
      'pass a JSON Lines file of items (one JSON object per line), or - for stdin',
    );
  }
  const items = parsePipelineItems(text, file === '-' ? 'stdin' : file);
  if (items.length === 0) {
    throw new InvalidInputError(
      '-f',
      `${file} has no items`,
      `add one JSON object per line, e.g. ${ITEM_EXAMPLE}`,
    );
  }
  return items;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

const fmt = new Intl.NumberFormat('en-US');

/** The human form of a status query answer. */
export function formatPipelineStatus(s: PipelineStatus, now: Date = new Date()): string {
  const c = s.counters;
  const lines = [
    `Pipeline ${s.k8sNamespace}/${s.name} (generation ${s.generation}) → ${s.targetNamespace}`,
    `  phase:           ${s.phase}`,
    `  queue depth:     ${pipelineQueueDepth(s)} batches of ${s.batchSize}`,
    `  pending:         ${fmt.format(s.queue.pending)} items`,
    `  in flight:       ${s.inFlightBatches} batches, ${fmt.format(s.queue.inFlight)} items`,
    `  done:            ${fmt.format(s.queue.done)} items (${fmt.format(c.alreadyWritten)} already written) in ${fmt.format(c.batches)} batches`,
    `  failed:          ${fmt.format(s.queue.failed)} items`,
    `  submitted:       ${fmt.format(c.submitted)} items (${fmt.format(c.duplicates)} duplicates)`,
    `  documents:       ${fmt.format(c.documents)}; chunks ${fmt.format(c.chunksWritten)} written, ${fmt.format(c.chunksKept)} kept, ${fmt.format(c.chunksDeleted)} deleted`,
  ];
  if (s.lastListingAt) {
    const ago = formatDuration((now.getTime() - Date.parse(s.lastListingAt)) / 1000);
    lines.push(`  last listing:    ${s.lastListingAt} (${ago} ago)`);
  }
  if (s.lastError) lines.push(`  last error:      ${s.lastError}`);
  return lines.join('\n');
}

/**
 * Progress of a watch: done counts items finished (done or failed); total is that plus what is
 * still pending or in flight, so items submitted meanwhile extend the bar.
 */
export interface PipelineWatchState {
  startedAtMs: number;
  samples: { atMs: number; finished: number }[];
}

export function startPipelineWatch(s: PipelineStatus, nowMs: number): PipelineWatchState {
  return { startedAtMs: nowMs, samples: [{ atMs: nowMs, finished: s.queue.done + s.queue.failed }] };
}

/** Folds one status into the watch and returns the line to draw (rate over the last 10 s). */
export function pipelineWatchProgress(
  w: PipelineWatchState,
  s: PipelineStatus,
  nowMs: number,
  windowMs = 10_000,
): ProgressInput {
  const done = s.queue.done + s.queue.failed;
  w.samples.push({ atMs: nowMs, finished: done });
  while (w.samples.length > 2 && w.samples[0]!.atMs < nowMs - windowMs) w.samples.shift();
  const first = w.samples[0]!;
  const spanMs = nowMs - first.atMs;
  const rate = spanMs > 0 ? ((done - first.finished) / spanMs) * 1000 : 0;
  return {
    done,
    total: done + s.queue.pending + s.queue.inFlight,
    rowsPerSecond: Math.max(0, rate),
    elapsedMs: nowMs - w.startedAtMs,
    unit: 'items',
  };
}

interface PipelineFlags {
  namespace: string;
}

function explain(err: unknown, ref: PipelineRef, config: Config, timeoutMs: number): unknown {
  const id = pipelineWorkflowId(ref.k8sNamespace, ref.name);
  if (
    err instanceof WorkflowNotFoundError ||
    (err instanceof Error && /workflow not found|not found for ID/i.test(err.message))
  ) {
    return new PipelineNotFoundError(id, config);
  }
  if (isDeadlineExceeded(err)) {
    return new LayerError(
      `workflow ${id} did not answer within ${Math.round(timeoutMs / 1000)}s`,
      `is an orchestrator worker running on task queue ${config.temporal.taskQueue}? start one with \`layer orchestrator\``,
      { cause: err },
    );
  }
  return err;
}

async function withPipeline<T>(
  name: string,
  flags: PipelineFlags,
  timeoutMs: number,
  fn: (t: TemporalClient, ref: PipelineRef) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig();
  const ref = { k8sNamespace: flags.namespace, name };
  const t = await connectTemporalClient(config);
  try {
    return await t.connection.withDeadline(Date.now() + timeoutMs, () => fn(t, ref));
  } catch (err) {
    throw explain(err, ref, config, timeoutMs);
  } finally {
    await t.close();
  }
}

async function watchStatus(
  name: string,
  flags: PipelineFlags & { json?: boolean; intervalMs: number },
): Promise<void> {
  const config = loadCliConfig();
  const ref = { k8sNamespace: flags.namespace, name };
  await watchStatusLoop({
    timeoutMs: callTimeoutMs(), // a bad LAYER_CLI_TIMEOUT_SECONDS fails before any connection
    temporal: await connectTemporalClient(config),
    status: (t) => getPipelineStatus(t.client, ref),
    explain: (err) => explain(err, ref, config, callTimeoutMs()),
    start: startPipelineWatch,
    progress: pipelineWatchProgress,
    workflowId: pipelineWorkflowId(ref.k8sNamespace, name),
    json: flags.json,
    intervalMs: flags.intervalMs,
  });
}

export function registerPipelineCommands(program: Command): void {
  const pl = program.command('pipeline').description("feed and observe a Pipeline's workflow");
  const nsOption = [
    '-n, --namespace <namespace>',
    'Kubernetes namespace of the Pipeline',
    LOCAL_K8S_NAMESPACE,
  ] as const;

  pl.command('submit')
    .description('queue work items from a JSON Lines file (idempotent by key and version)')
    .argument('<name>', 'Pipeline name')
    .requiredOption('-f, --file <items.jsonl>', `one item per line, e.g. ${ITEM_EXAMPLE}; - reads stdin`)
    .option(...nsOption)
    .action(async (name: string, flags: PipelineFlags & { file: string }) => {
      // Parse everything before connecting: a bad line fails fast and submits nothing.
      const items = readPipelineItemsFile(flags.file);
      const res = await withPipeline(name, flags, SUBMIT_DEADLINE_MS + callTimeoutMs(), (t, ref) =>
        submitPipelineItems(t.client, ref, items, { deadlineMs: SUBMIT_DEADLINE_MS }),
      );
      process.stdout.write(
        `pipeline ${flags.namespace}/${name}: ${fmt.format(items.length)} items submitted, ` +
          `${fmt.format(res.accepted)} accepted, ${fmt.format(res.duplicates)} duplicates\n`,
      );
    });

  const status = pl
    .command('status')
    .description('phase, queue, counters; --watch shows a live progress bar')
    .argument('<name>', 'Pipeline name')
    .option(...nsOption);
  watchOptions(status, 'items').action(async (name: string, flags: PipelineFlags & WatchFlags) => {
    if (flags.watch) return watchStatus(name, { ...flags, intervalMs: watchIntervalMs(flags.interval) });
    const s = await withPipeline(name, flags, callTimeoutMs(), (t, ref) => getPipelineStatus(t.client, ref));
    process.stdout.write((flags.json ? JSON.stringify(s) : formatPipelineStatus(s)) + '\n');
  });
}
