// Which source a Pipeline's sourceRef names (docs/adr/0121). The operator passes spec.sourceRef to
// the worker as LAYER_SOURCE_REF (JSON); runPipelineWorker builds the source from its `kind`.
// Kinds the orchestrator reads itself (`s3`, the listing source) or none at all (`submit`) start
// no worker-side source. A team adds a kind by passing `sources: { 'partner-api': (ref) => … }`.
import { createKafkaSource } from './kafka.js';
import { createS3EventsSource } from './s3-events.js';
import { SourceRefError, type PipelineSource } from './source.js';
import { createSqsSource } from './sqs.js';

export type SourceFactory = (ref: Record<string, unknown>) => PipelineSource;

/** The sources the SDK ships, by sourceRef.kind. */
export const builtInSources: Readonly<Record<string, SourceFactory>> = {
  sqs: (ref) => createSqsSource(ref),
  kafka: (ref) => createKafkaSource(ref),
  's3-events': (ref) => createS3EventsSource(ref),
};

/** Kinds that need no worker-side source: the orchestrator lists S3 itself; `submit` is the API. */
const ORCHESTRATOR_KINDS = new Set(['s3', 'submit']);

/**
 * The source for `sourceRef`, undefined when its kind needs none (absent, `s3`, `submit`).
 * Throws SourceRefError for a kind neither built in nor in `extra`.
 */
export function sourceFromRef(
  sourceRef: unknown,
  extra: Readonly<Record<string, SourceFactory>> = {},
): PipelineSource | undefined {
  if (sourceRef === undefined || sourceRef === null) return undefined;
  if (typeof sourceRef !== 'object' || Array.isArray(sourceRef))
    throw new SourceRefError('kind', 'sourceRef must be an object with a kind');
  const ref = sourceRef as Record<string, unknown>;
  const kind = ref.kind;
  if (typeof kind !== 'string' || kind === '') throw new SourceRefError('kind', 'is required');
  const factory = extra[kind] ?? builtInSources[kind];
  if (factory) return factory(ref);
  if (ORCHESTRATOR_KINDS.has(kind)) return undefined;
  throw new SourceRefError(
    'kind',
    `no source for kind ${JSON.stringify(kind)}: use one of ${[...Object.keys(builtInSources), ...Object.keys(extra)].join(', ')}, ` +
      `or pass options.sources[${JSON.stringify(kind)}] to runPipelineWorker`,
  );
}
