// Running the real helm CLI (src/dev/helm.ts finds or builds it) in the chart tests, with its
// config, cache and data in a temp dir so a test never reads or writes the user's helm setup.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveHelm } from '../../../src/dev/helm.js';
import type { Json } from '../../unit/helm/chart-files.js';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Helm {
  path: string;
  version: string;
  /** Runs helm; never throws on a non-zero exit (tests assert on it). */
  run(args: string[], opts?: { kubeconfig?: string }): Promise<HelmResult>;
  /** Runs helm and returns stdout, or throws with stderr. */
  ok(args: string[], opts?: { kubeconfig?: string }): Promise<string>;
}

/**
 * The helm CLI: $HELM → PATH → cache → `go install` (a cold cache builds it here; under CI=true
 * .ci/run provisions it first). A helm that cannot be provisioned throws — the tests fail, never skip.
 */
export async function startHelm(): Promise<Helm> {
  const bin = await resolveHelm((line) => process.stderr.write(`[helm] ${line}\n`));
  const home = mkdtempSync(join(tmpdir(), 'layer-helm-'));
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  const run: Helm['run'] = (args, opts = {}) =>
    new Promise((resolve) => {
      execFile(
        bin.path,
        args,
        {
          env: { ...baseEnv, KUBECONFIG: opts.kubeconfig ?? join(home, 'no-kubeconfig') },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 180_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  return {
    path: bin.path,
    version: bin.version,
    run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
  };
}

/** The objects of a multi-document manifest (empty documents dropped). */
export function manifestObjects(text: string): Json[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Json | null)
    .filter((o): o is Json => !!o && typeof o === 'object' && 'kind' in o);
}

export function findObject(objects: Json[], kind: string, name?: string): Json {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found)
    throw new Error(`no ${kind}${name ? `/${name}` : ''} among ${objects.map(objectLabel).join(', ')}`);
  return found;
}

export function objectLabel(o: Json): string {
  return `${o.kind as string}/${(o.metadata as Json | undefined)?.name as string}`;
}
