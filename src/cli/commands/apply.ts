// `layer apply -f FILE`: local mode without Kubernetes. Function CRs are validated with the same
// schemas the operator uses, turned into the engine's FunctionRuntimeSpec by the same helper, and
// started or updated through the one client API. Apply only talks to Temporal; an orchestrator
// Worker (`layer orchestrator`) and the Function's worker make the progress.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { readYamlDocuments } from '../../api/yaml-input.js';
import { parseResource, type LayerFunction } from '../../api/index.js';
import { functionHandle, startOrUpdateFunction } from '../../client/function-client.js';
import { type Config } from '../../config.js';
import { loadCliConfig } from '../config.js';
import type { FunctionRuntimeSpec } from '../../contracts/function.js';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { runtimeSpecProblems, toFunctionRuntimeSpec } from '../../operator/runtime-spec.js';
import { InvalidInputError, LayerError } from '../../../packages/worker/src/util/errors.js';
import { connectTemporalClient, temporalUiWorkflowUrl } from '../temporal-connect.js';
import { isDeadlineExceeded } from '../errors.js';
import { assertOwnsOutput, runningOutputClaims } from '../local-output-ownership.js';

/** Kubernetes namespace a Function without metadata.namespace gets in local mode. */
export const LOCAL_K8S_NAMESPACE = 'local';
/** Annotation giving a push worker's base URL in local mode (no Service to derive it from). */
export const PUSH_URL_ANNOTATION = 'hevlayer.com/push-url';

/** One document of an input file, with where it came from for error messages. */
export interface SourcedFunction {
  fn: LayerFunction;
  source: string;
}

/**
 * Every Function in a multi-document YAML text, validated and defaulted. Empty documents are
 * skipped; any other kind, or any invalid field, fails the whole file with the field path and
 * the fix (nothing is applied from a file that has one bad document).
 */
export function parseFunctionDocuments(
  text: string,
  file: string,
  command: 'apply' | 'plan' = 'apply',
): SourcedFunction[] {
  const out: SourcedFunction[] = [];
  const docs = readYamlDocuments(text, file);
  for (const doc of docs) {
    const source = docs.length > 1 ? `${file} (document ${doc.index})` : file;
    if ('problem' in doc)
      throw new LayerError(`${doc.problem.where}: ${doc.problem.message}`, doc.problem.hint);
    const r = parseResource(doc.value);
    if (!r.ok) throw new LayerError(`${source}: ${r.error.message}`, r.error.hint);
    if (r.resource.kind !== 'Function' && command === 'plan') {
      throw new LayerError(
        `${source}: ${r.resource.kind} ${r.resource.metadata.name}: layer function plan is for Functions`,
        'pass a Function manifest (kind: Function) with -f; a Pipeline has no plan',
      );
    }
    if (r.resource.kind !== 'Function') {
      throw new LayerError(
        `${source}: ${r.resource.kind} ${r.resource.metadata.name} cannot be applied in local mode`,
        'local mode (layer apply) runs Functions only; apply other kinds to a cluster with kubectl and run `layer operator`',
      );
    }
    out.push({ fn: r.resource, source });
  }
  return out;
}

/**
 * The engine spec of a Function in local mode: k8sNamespace defaults to `local`, targets come from
 * spec.targetNamespaces (no Index CRs to resolve an indexSelector), and a push worker's URL comes
 * from `--push-url` or the hevlayer.com/push-url annotation.
 */
export function toLocalRuntimeSpec(
  { fn, source }: SourcedFunction,
  opts: { pushUrl?: string } = {},
): FunctionRuntimeSpec {
  const label = `${source}: Function ${fn.metadata.name}`;
  if (fn.spec.targetNamespaces === undefined) {
    throw new InvalidInputError(
      'spec.indexSelector',
      `${label}: local mode cannot resolve an indexSelector (there are no Index resources without Kubernetes)`,
      'list the store namespaces in spec.targetNamespaces instead, or apply the Function to a cluster running `layer operator`',
    );
  }
  const local: LayerFunction = {
    ...fn,
    metadata: { ...fn.metadata, namespace: fn.metadata.namespace ?? LOCAL_K8S_NAMESPACE },
  };
  const spec = toFunctionRuntimeSpec(local, fn.spec.targetNamespaces);
  if (spec.worker.dispatch === 'push') {
    const url = opts.pushUrl ?? fn.metadata.annotations?.[PUSH_URL_ANNOTATION];
    if (!url) {
      throw new InvalidInputError(
        'spec.worker.dispatch',
        `${label}: a push worker needs a URL in local mode (there is no Service to derive it from)`,
        `pass --push-url http://host:port, or set the annotation ${PUSH_URL_ANNOTATION}`,
      );
    }
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new InvalidInputError(
        opts.pushUrl ? '--push-url' : `metadata.annotations.${PUSH_URL_ANNOTATION}`,
        `${label}: ${JSON.stringify(url)} is not an http(s) URL`,
        'give the push worker base URL, e.g. http://127.0.0.1:8080 (the worker serves /run)',
      );
    }
    spec.worker.pushUrl = url.replace(/\/+$/, '');
  }
  const problems = runtimeSpecProblems(spec);
  if (problems.length > 0) {
    throw new LayerError(
      `${label}: ${problems.join('; ')}`,
      'change those fields so the engine accepts them',
    );
  }
  return spec;
}

async function readInput(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new LayerError(
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        'pass an existing YAML file with -f, or - for stdin',
      );
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** How long apply waits for the orchestrator to confirm a spec before saying what is missing. */
const DEFAULT_APPLY_WAIT_SECONDS = 15;

function parseWaitSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_APPLY_WAIT_SECONDS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidInputError(
      '--timeout',
      `must be a positive number of seconds, got ${JSON.stringify(raw)}`,
      'e.g. --timeout 30',
    );
  return n;
}

/**
 * The spec is recorded by an Update that an orchestrator worker must accept. Temporal holds the
 * start (and the admitted update) durably, so nothing is lost, but without a worker nothing
 * confirms it: say so and what to start, instead of waiting forever with no output.
 */
function unconfirmed(
  err: unknown,
  workflowId: string,
  waitMs: number,
  config: Config,
  /** Our deadline had passed: gRPC may say CANCELLED rather than DEADLINE_EXCEEDED then. */
  pastDeadline = false,
): unknown {
  if (!pastDeadline && !isDeadlineExceeded(err)) return err;
  return new LayerError(
    `workflow ${workflowId} was not confirmed within ${waitMs / 1000}s: no orchestrator worker answered on task queue ${config.temporal.taskQueue}`,
    'start one with `layer orchestrator` (same TEMPORAL_ADDRESS and task queue); the request is kept by Temporal and takes effect when it runs, then re-run `layer apply` to confirm',
    { cause: err },
  );
}

export interface ApplyOptions {
  /** Seconds to wait for the orchestrator to confirm each Function (default 15). */
  timeout?: string;
  filename: string[];
  /** `--file`, the spelling apply used before it matched `render` (and kubectl): still accepted. */
  file?: string[];
  pushUrl?: string;
  json?: boolean;
}

export interface AppliedFunction {
  workflowId: string;
  k8sNamespace: string;
  name: string;
  action: 'started' | 'updated';
  taskQueue: string;
  workerTaskQueue?: string;
  pushUrl?: string;
  uiUrl?: string;
}

/** Validate every document first, then start or update each Function (all-or-nothing on input). */
async function applyFiles(opts: ApplyOptions, config: Config): Promise<AppliedFunction[]> {
  const files = [...opts.filename, ...(opts.file ?? [])];
  const waitMs = parseWaitSeconds(opts.timeout) * 1000;
  if (files.length === 0)
    throw new InvalidInputError('-f', 'no file given', 'pass -f FILE (repeatable), or -f - for stdin');
  const specs: FunctionRuntimeSpec[] = [];
  const sources: string[] = [];
  for (const file of files) {
    const text = await readInput(file, process.stdin);
    for (const doc of parseFunctionDocuments(text, file === '-' ? '<stdin>' : file)) {
      specs.push(toLocalRuntimeSpec(doc, opts.pushUrl ? { pushUrl: opts.pushUrl } : {}));
      sources.push(doc.source);
    }
  }
  if (specs.length === 0)
    throw new LayerError('no Function found in the input', 'give a file with at least one Function document');
  const temporal = await connectTemporalClient(config);
  try {
    // One owner per output attribute and store namespace, as the operator's SpecValid (ADR 0070):
    // every Function is checked before any is applied, against the running ones and those before it.
    const claims = await runningOutputClaims(temporal.client, temporal.connection, config.temporal.taskQueue);
    specs.forEach((spec, i) => {
      assertOwnsOutput(spec, claims, sources[i]!);
      if (!claims.some((c) => c.namespace === spec.k8sNamespace && c.name === spec.name))
        claims.push({
          namespace: spec.k8sNamespace,
          name: spec.name,
          creationTimestamp: new Date().toISOString(),
          storeNamespaces: spec.targetNamespaces,
          attribute: spec.output.attribute,
        });
    });
    const applied: AppliedFunction[] = [];
    for (const spec of specs) {
      const ref = { k8sNamespace: spec.k8sNamespace, name: spec.name };
      const running = await functionHandle(temporal.client, ref)
        .describe()
        .then((d) => d.status.name === 'RUNNING')
        .catch(() => false);
      const deadline = Date.now() + waitMs;
      const { workflowId } = await temporal.connection
        .withDeadline(deadline, () =>
          startOrUpdateFunction(temporal.client, spec, { taskQueue: config.temporal.taskQueue }),
        )
        .catch((err: unknown) => {
          throw unconfirmed(
            err,
            functionWorkflowId(spec.k8sNamespace, spec.name),
            waitMs,
            config,
            Date.now() >= deadline,
          );
        });
      applied.push({
        workflowId,
        k8sNamespace: spec.k8sNamespace,
        name: spec.name,
        action: running ? 'updated' : 'started',
        taskQueue: config.temporal.taskQueue,
        ...(spec.worker.taskQueue ? { workerTaskQueue: spec.worker.taskQueue } : {}),
        ...(spec.worker.pushUrl ? { pushUrl: spec.worker.pushUrl } : {}),
        ...(config.temporal.uiUrl
          ? { uiUrl: temporalUiWorkflowUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId) }
          : {}),
      });
    }
    return applied;
  } finally {
    await temporal.close();
  }
}

function describeApplied(a: AppliedFunction, config: Config): string {
  const worker = a.workerTaskQueue
    ? `pull workers poll task queue ${a.workerTaskQueue}`
    : `batches are POSTed to ${a.pushUrl}/run`;
  return [
    `function ${a.k8sNamespace}/${a.name} ${a.action} (workflow ${a.workflowId})`,
    `  ${worker}`,
    `  progress: layer function status ${a.name} -n ${a.k8sNamespace} --watch`,
    `  Temporal UI: ${a.uiUrl ?? `workflow ${a.workflowId} in namespace ${config.temporal.namespace} at ${config.temporal.address}`}`,
  ].join('\n');
}

export function registerApplyCommand(program: Command): void {
  program
    .command('apply')
    .description('start or update Functions from YAML in local mode (no Kubernetes; talks to Temporal only)')
    .option(
      '-f, --filename <file>',
      'a YAML file of Function documents, or - for stdin (repeatable)',
      collect,
      [] as string[],
    )
    .addOption(new Option('--file <file>', 'same as --filename').argParser(collect).default([]).hideHelp())
    .option('--push-url <url>', `base URL of a push worker (overrides the ${PUSH_URL_ANNOTATION} annotation)`)
    .option('--json', 'print one JSON object per applied Function')
    .option(
      '--timeout <seconds>',
      `how long to wait for an orchestrator worker to confirm each Function (default ${DEFAULT_APPLY_WAIT_SECONDS})`,
    )
    .action(async (opts: ApplyOptions) => {
      const config = loadCliConfig();
      const applied = await applyFiles(opts, config);
      for (const a of applied) {
        process.stdout.write((opts.json ? JSON.stringify(a) : describeApplied(a, config)) + '\n');
      }
      // Every Function above was confirmed by an orchestrator (applyFiles throws, saying to run
      // `layer orchestrator`, when none answers), so only the Function's own worker is left to say.
      if (!opts.json && applied.length > 0) {
        process.stdout.write(
          `\nConfirmed by the orchestrator on task queue ${config.temporal.taskQueue}; rows move while each Function's worker runs.\n`,
        );
      }
    });
}
