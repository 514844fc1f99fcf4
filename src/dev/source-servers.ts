// The real servers behind the Pipeline sources (docs/adr/0122-source-servers-from-go-modules.md):
// an SQS-compatible server (goaws, built from the tool module in test/sqs-bin) and a
// Kafka-protocol broker (franz-go's kfake behind the tiny main in test/kafka-bin), each resolved
// by resolveGoToolBinary (src/dev/binaries.ts): $LAYER_GOAWS / $LAYER_KFAKE → `goaws` / `kfake`
// on PATH → the cache → `go build` into the cache.
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGoToolBinary, type GoToolBinary, type Logger, type ResolvedBinary } from './binaries.js';
import { freePort } from './net.js';
import { packageRoot } from './paths.js';
import { startProcess, waitServing } from './process.js';

/** goaws release pinned in test/sqs-bin/go.mod (the newest on the module proxy). */
const GOAWS_VERSION = 'v0.4.5';
/** kfake pseudo-version pinned in test/kafka-bin/go.mod (kfake is tagged only with franz-go). */
const KFAKE_VERSION = 'v0.0.0-20260918054303-01f206a7e32c';

const goaws: GoToolBinary = {
  component: 'goaws',
  name: 'goaws',
  envVar: 'LAYER_GOAWS',
  version: GOAWS_VERSION,
  moduleDir: join(packageRoot(), 'test', 'sqs-bin'),
  target: 'github.com/Admiral-Piett/goaws/app/cmd',
  buildEnv: { GOFLAGS: '-mod=mod' },
};

/** Bumped with test/kafka-bin/main.go, so a cached broker built from an older main is rebuilt. */
const KFAKE_MAIN_REVISION = 1;

const kfake: GoToolBinary = {
  component: 'kfake',
  name: 'kfake',
  envVar: 'LAYER_KFAKE',
  version: `${KFAKE_VERSION}-main${KFAKE_MAIN_REVISION}`,
  moduleDir: join(packageRoot(), 'test', 'kafka-bin'),
  target: '.',
  buildEnv: { GOFLAGS: '-mod=mod' },
};

/** goaws, in order: $LAYER_GOAWS → `goaws` on PATH → the cache → `go build` of test/sqs-bin. */
export function resolveGoaws(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedBinary> {
  return resolveGoToolBinary(goaws, log, env);
}

/** kfake, in order: $LAYER_KFAKE → `kfake` on PATH → the cache → `go build` of test/kafka-bin. */
export function resolveKfake(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedBinary> {
  return resolveGoToolBinary(kfake, log, env);
}

export interface SourceServerOptions {
  log: Logger;
  port?: number;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface SqsServer {
  /** e.g. http://127.0.0.1:4100 — the `endpoint` of an SQS client (protocol: query). */
  endpoint: string;
  region: string;
  /** Any value signs: goaws does not check credentials. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  binary: string;
  pid?: number;
  stop(): Promise<void>;
}

/** goaws's configuration: one environment, no queues (tests create their own). */
function goawsConfig(port: number): string {
  return [
    'Local:',
    '  Host: 127.0.0.1',
    `  Port: ${port}`,
    '  Region: us-east-1',
    '  AccountId: "100010001000"',
    '  LogToFile: false',
    '  QueueAttributeDefaults:',
    '    VisibilityTimeout: 30',
    '    ReceiveMessageWaitTimeSeconds: 0',
    '',
  ].join('\n');
}

/**
 * Starts goaws on a free port and waits until it answers /health.
 *
 * @example
 * const sqs = await startSqsServer({ log: console.log });
 * const client = new SQSClient({ endpoint: sqs.endpoint, region: sqs.region, credentials: sqs.credentials, protocol: AwsQueryProtocol, ... });
 */
export async function startSqsServer(opts: SourceServerOptions): Promise<SqsServer> {
  const env = opts.env ?? process.env;
  const bin = await resolveGoaws(opts.log, env);
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'layer-goaws-'));
  const config = join(dir, 'goaws.yaml');
  writeFileSync(config, goawsConfig(port));
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = startProcess({
    name: 'goaws',
    command: bin.path,
    args: ['-config', config, 'Local'],
    logFile: opts.logFile ?? join(dir, 'goaws.log'),
    env,
  });
  await waitServing(
    proc,
    'goaws',
    `goaws on ${endpoint}`,
    async () => (await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) })).ok,
    30_000,
  );
  opts.log(`goaws (SQS) ready at ${endpoint} (${bin.source} ${bin.path})`);
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'layerdev', secretAccessKey: 'layerdev-secret' },
    binary: bin.path,
    pid: proc.pid,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface KafkaServer {
  /** host:port of the one broker. */
  broker: string;
  binary: string;
  pid?: number;
  stop(): Promise<void>;
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** Starts kfake (one broker, auto-created topics of 3 partitions) on a free port. */
export async function startKafkaServer(opts: SourceServerOptions): Promise<KafkaServer> {
  const env = opts.env ?? process.env;
  const bin = await resolveKfake(opts.log, env);
  const port = opts.port ?? (await freePort());
  const logFile = opts.logFile ?? join(tmpdir(), `layer-kfake-${port}.log`);
  const proc = startProcess({
    name: 'kfake',
    command: bin.path,
    args: ['-port', String(port)],
    logFile,
    env,
  });
  await waitServing(proc, 'kfake', `kfake on 127.0.0.1:${port}`, () => tcpOpen(port), 30_000);
  opts.log(`kfake (Kafka) ready at 127.0.0.1:${port} (${bin.source} ${bin.path})`);
  return { broker: `127.0.0.1:${port}`, binary: bin.path, pid: proc.pid, stop: () => proc.stop() };
}
