// `layer gen-crds` writes deploy/crds/ from the zod schemas; `layer render` prints what the
// operator would create for the resources in some YAML files, without a cluster.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import {
  buildAllCrds,
  crdFileName,
  crdYaml,
  structuralViolations,
  type JsonSchemaProps,
} from '../../api/index.js';
import { parseResource, type FieldIssue, type LayerResource } from '../../api/parse.js';
import { readYamlDocuments } from '../../api/yaml-input.js';
import { renderResources } from '../../operator/plan-render.js';
import { operatorSettings } from '../../operator/settings.js';
import { InvalidInputError, LayerError } from '../../../packages/worker/src/util/errors.js';

/** `layer render` found problems in its input; lists every one with its location and fix. */
export class RenderInputError extends InvalidInputError {
  constructor(readonly problems: FieldIssue[]) {
    const first = problems[0] ?? { path: '(input)', message: 'invalid', hint: '' };
    super(first.path, first.message, problems.map((p) => `${p.path}: ${p.hint}`).join('\n  fix: '));
    this.message = problems.map((p) => `${p.path}: ${p.message}`).join('\n  ');
  }
}

export function registerRenderCommands(program: Command): void {
  program
    .command('gen-crds')
    .description('write the CustomResourceDefinitions generated from the API schemas')
    .option('--out <dir>', 'directory to write <group>_<plural>.yaml files into', 'deploy/crds')
    .action(async (opts: { out: string }) => {
      const written = await writeCrds(opts.out);
      process.stdout.write(written.map((f) => `wrote ${f}\n`).join(''));
    });

  program
    .command('render')
    .description(
      'print every object the operator would create for the given resources, then each workload with its status ' +
        '(no InfraRules given: the Helm default pools)',
    )
    .option(
      '-f, --filename <file>',
      'YAML file with one or more documents; - reads stdin (repeatable)',
      collect,
      [],
    )
    .option('--api-url <url>', 'orchestrator HTTP API base URL workers and KEDA use')
    .option('--temporal-address <host:port>', 'Temporal frontend address for workers')
    .option('--temporal-namespace <ns>', 'Temporal namespace for workers')
    .action(async (opts: RenderOptions) => {
      process.stdout.write(await renderFiles(opts));
    });
}

interface RenderOptions {
  filename: string[];
  apiUrl?: string;
  temporalAddress?: string;
  temporalNamespace?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Generate the CRDs into `dir`, replacing stale generated files; returns the paths written. */
async function writeCrds(dir: string): Promise<string[]> {
  const crds = buildAllCrds();
  for (const crd of crds) assertStructural(crd);
  await mkdir(dir, { recursive: true });
  const names = new Set(crds.map(crdFileName));
  // A kind that was removed must not leave its CRD behind.
  for (const existing of await readdir(dir)) {
    if (existing.endsWith('.yaml') && !names.has(existing)) await rm(join(dir, existing));
  }
  const written: string[] = [];
  for (const crd of crds) {
    const path = join(dir, crdFileName(crd));
    await writeFile(path, crdYaml(crd));
    written.push(path);
  }
  return written;
}

function assertStructural(crd: JsonSchemaProps): void {
  const versions = (crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchemaProps } }[] }).versions;
  for (const v of versions) {
    const problems = structuralViolations(v.schema.openAPIV3Schema);
    if (problems.length > 0)
      throw new LayerError(
        `generated CRD is not structural: ${problems.join('; ')}`,
        'fix the zod schema in src/api',
      );
  }
}

/** The whole `layer render` output for some files (exported for tests). */
export async function renderFiles(
  opts: RenderOptions,
  readStdin: () => Promise<string> = readAllStdin,
): Promise<string> {
  if (opts.filename.length === 0)
    throw new InvalidInputError('-f', 'no file given', 'pass -f FILE (repeatable), or -f - for stdin');
  const resources: LayerResource[] = [];
  const problems: FieldIssue[] = [];
  for (const file of opts.filename) {
    const text = file === '-' ? await readStdin() : await readInput(file);
    const parsed = parseYamlResources(text, file === '-' ? 'stdin' : file);
    resources.push(...parsed.resources);
    problems.push(...parsed.problems);
  }
  if (problems.length > 0) throw new RenderInputError(problems);
  if (resources.length === 0)
    throw new InvalidInputError(
      '-f',
      `no resource found in ${opts.filename.map((f) => (f === '-' ? 'stdin' : f)).join(', ')} (empty input)`,
      'give YAML with at least one VectorStore, Index, InfraRules, Pipeline or Function document',
    );
  const settings = operatorSettings({
    ...(opts.apiUrl ? { apiBaseUrl: opts.apiUrl } : {}),
    temporal: {
      ...(opts.temporalAddress ? { address: opts.temporalAddress } : {}),
      ...(opts.temporalNamespace ? { namespace: opts.temporalNamespace } : {}),
    },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // Kubernetes times have second precision
  const result = renderResources(resources, settings, now);
  return yamlStream([...result.objects, ...result.workloads]);
}

/** Parse a multi-document YAML text into resources; problems carry `<source>#<doc>` locations. */
function parseYamlResources(
  text: string,
  source: string,
): { resources: LayerResource[]; problems: FieldIssue[] } {
  const resources: LayerResource[] = [];
  const problems: FieldIssue[] = [];
  for (const doc of readYamlDocuments(text, source)) {
    if ('problem' in doc) {
      problems.push({ path: doc.problem.where, message: doc.problem.message, hint: doc.problem.hint });
      continue;
    }
    const r = parseResource(doc.value);
    if (r.ok) resources.push(r.resource);
    else
      problems.push(
        ...r.error.issues.map((p) => ({
          ...p,
          path: `${source}#${doc.index} ${r.error.resource} ${p.path}`,
        })),
      );
  }
  return { resources, problems };
}

/** Documents as one YAML stream. */
function yamlStream(docs: readonly unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(file, `cannot read: ${(err as Error).message}`, 'check the path given to -f');
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
