// A real S3-compatible server on this machine: MinIO, built from Go modules by the tool module in
// test/s3-bin (docs/adr/0031-minio-from-go-modules.md). Used by the test global setup (Pipeline S3
// source, S3 payload codec), benchmarks and `layer dev provision`. Resolution follows
// src/dev/binaries.ts: $LAYER_MINIO → the cache → `go build` into the cache, serialised across
// processes by a lock directory; nothing is downloaded prebuilt.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGoToolBinary, type GoToolBinary, type Logger, type ResolvedBinary } from './binaries.js';
import { freePorts } from './net.js';
import { packageRoot } from './paths.js';
import { startProcess, waitServing } from './process.js';

/** MinIO module version pinned in test/s3-bin/go.mod (MinIO tags are RELEASE.*; this is its pseudo-version). */
const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

export interface S3ServerOptions {
  log: Logger;
  /** Where objects live; a fresh temp dir (removed on stop) when omitted. */
  dataDir?: string;
  port?: number;
  logFile?: string;
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface S3Server {
  /** e.g. http://127.0.0.1:9000 — use with forcePathStyle: true. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  binary: string;
  pid?: number;
  stop(): Promise<void>;
}

/**
 * MinIO, in order: $LAYER_MINIO → the cache → `go build` of test/s3-bin into the cache; never
 * from PATH (the order ADR 0031 set).
 */
export function resolveMinio(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedBinary> {
  const minio: GoToolBinary = {
    component: 'minio',
    name: 'minio',
    envVar: 'LAYER_MINIO',
    version: MINIO_VERSION,
    moduleDir: join(packageRoot(), 'test', 's3-bin'),
    target: 'github.com/minio/minio',
    buildEnv: { GOFLAGS: '-mod=mod' },
    fromPath: false,
  };
  return resolveGoToolBinary(minio, log, env);
}

/**
 * Starts MinIO on a free port with fixed dev credentials and waits until it serves.
 *
 * @example
 * const s3 = await startS3Server({ log: console.log });
 * const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
 *   credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
 */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const env = opts.env ?? process.env;
  const bin = await resolveMinio(opts.log, env);
  const [port = 0, consolePort = 0] = opts.port ? [opts.port, (await freePorts(1))[0]!] : await freePorts(2);
  const ownDir = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'layer-minio-'));
  const dataDir = opts.dataDir ?? ownDir!;
  mkdirSync(dataDir, { recursive: true });
  const accessKeyId = 'layerdev';
  const secretAccessKey = 'layerdev-secret';
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = opts.logFile ?? join(tmpdir(), `layer-minio-${port}.log`);
  const proc = startProcess({
    name: 'minio',
    command: bin.path,
    args: [
      'server',
      dataDir,
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    logFile,
    env: {
      ...env,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    detached: opts.detached,
  });
  await waitServing(
    proc,
    'minio',
    `MinIO on ${endpoint}`,
    async () => (await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2_000) })).ok,
    60_000,
  );
  opts.log(`minio ready at ${endpoint} (${bin.source} ${bin.path}, data ${dataDir}, log ${logFile})`);
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: 'us-east-1',
    binary: bin.path,
    pid: proc.pid,
    stop: async () => {
      await proc.stop();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
