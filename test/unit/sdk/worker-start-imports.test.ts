// What a worker image pays for at start: importing `@hevlayer/worker` loads the Temporal worker,
// the store client and zod, and none of the optional SDKs (Kafka, SQS, S3) until a source or a
// payload bucket asks for them (packages/worker/src/lazy-module.ts, docs/adr/0130). The package's
// entry is built as the image builds it and imported in a fresh Node process that records every
// module it resolves.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OPTIONAL_SDKS = ['@platformatic/kafka', '@aws-sdk/client-sqs', '@aws-sdk/client-s3'];

/** Every module URL a fresh process resolves while running `script` (ESM and CommonJS alike). */
async function modulesResolvedBy(script: string, dir: string): Promise<string[]> {
  const main = join(dir, 'main.mjs');
  writeFileSync(
    main,
    `import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
${script}
// A client made on the way (Kafka's) may hold the event loop open.
process.stdout.write(JSON.stringify([...seen]), () => process.exit(0));`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, [main], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 100_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as string[];
}

const fromPackage = (urls: string[], name: string) =>
  urls.filter((u) => u.includes(`/node_modules/${name}/`));

describe('importing the worker package', () => {
  // Under node_modules so the packages it leaves external resolve from the project.
  const dir = join(ROOT, 'node_modules', '.cache', 'layer-test-worker-imports');

  it('loads no optional SDK until a source or a payload bucket needs it', { timeout: 240_000 }, async () => {
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: [join(ROOT, 'packages', 'worker', 'src', 'index.ts')],
      outfile: join(dir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      packages: 'external',
      logLevel: 'warning',
    });

    const atImport = await modulesResolvedBy(`await import('./index.mjs');`, dir);
    // The hook saw the package's real dependencies, so an empty list below means something.
    expect(fromPackage(atImport, '@temporalio/worker').length).toBeGreaterThan(0);
    expect(fromPackage(atImport, '@turbopuffer/turbopuffer').length).toBeGreaterThan(0);
    for (const sdk of OPTIONAL_SDKS) expect(fromPackage(atImport, sdk), sdk).toEqual([]);

    // Each loads where it is used.
    const onUse = await modulesResolvedBy(
      `const w = await import('./index.mjs');
w.createKafkaSource({ kind: 'kafka', brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g' });
w.createSqsSource({ kind: 'sqs', queueUrl: 'http://127.0.0.1:1/000000000000/q', region: 'us-east-1' });
new w.S3PayloadCodec({ bucket: 'b', region: 'us-east-1' });`,
      dir,
    );
    for (const sdk of OPTIONAL_SDKS) expect(fromPackage(onUse, sdk).length, sdk).toBeGreaterThan(0);
  });
});
