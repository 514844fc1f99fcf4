// Starts the real servers once per test run and hands their coordinates to every integration
// test file through vitest's provide/inject. A server that cannot be provisioned fails the run
// with the reason — it is never skipped (CI relies on that).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/dev/temporal-server.js';
import { startKubeApiServer, type KubeApiServer } from '../../src/dev/kube-apiserver.js';
import { startS3Server, type S3Server } from '../../src/dev/s3-server.js';

let temporal: TemporalDevServer | undefined;
let kube: KubeApiServer | undefined;
let stateDir: string | undefined;
let s3: S3Server | undefined;

const log = (line: string) => process.stderr.write(`[servers] ${line}\n`);

export async function setup(project: TestProject): Promise<void> {
  stateDir = mkdtempSync(join(tmpdir(), 'layer-test-'));
  const started = Date.now();
  // MinIO (Pipelines' S3 source, the S3 payload codec) provisions alongside the others.
  const s3Start = startS3Server({
    log,
    dataDir: join(stateDir, 'minio'),
    logFile: join(stateDir, 'minio.log'),
  });
  s3Start.catch(() => undefined);
  try {
    // Both provision in parallel: on a cold cache each may be a Go build.
    [temporal, kube] = await Promise.all([
      startTemporalDevServer({ log, logFile: join(stateDir, 'temporal.log') }),
      startKubeApiServer({ log, stateDir: join(stateDir, 'kube'), fastEtcd: true }),
    ]);
    s3 = await s3Start;
  } catch (err) {
    await teardown();
    const ci = process.env.CI === 'true' ? ' (CI=true: a missing real server fails the run)' : '';
    throw new Error(`could not provision the real test servers${ci}: ${(err as Error).message}`);
  }
  log(`servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalNamespace', temporal.namespace);
  project.provide('temporalUiUrl', temporal.uiUrl);
  project.provide('temporalCliPath', temporal.cliPath);
  project.provide('kubeconfigPath', kube.kubeconfigPath);
  project.provide('kubeAdminToken', kube.adminToken);
  project.provide('kubeServerUrl', kube.serverUrl);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('s3AccessKeyId', s3.accessKeyId);
  project.provide('s3SecretAccessKey', s3.secretAccessKey);
  project.provide('s3Region', s3.region);
}

export async function teardown(): Promise<void> {
  await Promise.allSettled([temporal?.stop(), kube?.stop(), s3?.stop()]);
  temporal = kube = undefined;
  s3 = undefined;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  stateDir = undefined;
}
