// resolveTemporalCli's order: $TEMPORAL_CLI → `temporal` on PATH → the cache → the release
// download → go install. Fake binaries stand in for the CLI and for Go (each prints its own
// version), and a local HTTP server stands in for the release: no internet, no build.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ProvisionError,
  TEMPORAL_CLI_VERSION,
  fileFromTar,
  resolveTemporalCli,
  temporalCliAsset,
} from '../../../src/dev/binaries.js';

let dir: string;
let server: Server | undefined;
const lines: string[] = [];
const log = (line: string) => void lines.push(line);
const requests: string[] = [];

function script(path: string, body: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const fakeTemporal = (path: string, version: string) => script(path, `echo ${version}`);
/** A `go` that "installs" a fake temporal into $GOBIN, as `go install` would. */
const fakeGo = (path: string) =>
  script(
    path,
    `PATH=/usr/bin:/bin; printf '#!/bin/sh\\necho temporal-built\\n' > "$GOBIN/temporal" && chmod +x "$GOBIN/temporal"`,
  );

/** A ustar archive holding `files` (name → content), as the release's tar.gz does. */
function tar(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 'latin1');
    header.write('0000755\0', 100, 'latin1');
    header.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('0', 156, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    blocks.push(header, Buffer.from(content), Buffer.alloc((512 - (Buffer.byteLength(content) % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

/** The release server: serves checksums.txt and the archive, or hangs / lies as asked. */
async function release(mode: 'ok' | 'hang' | 'bad-checksum' | '404'): Promise<string> {
  const asset = temporalCliAsset() ?? 'unsupported';
  const archive = gzipSync(tar({ LICENSE: 'MIT', temporal: '#!/bin/sh\necho temporal-downloaded\n' }));
  const sum = createHash('sha256')
    .update(mode === 'bad-checksum' ? Buffer.from('other') : archive)
    .digest('hex');
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (mode === 'hang') return; // accepts, never answers
    if (mode === '404') return void res.writeHead(404).end();
    if (req.url === `/${TEMPORAL_CLI_VERSION}/checksums.txt`)
      return void res.end(`${sum}  ${asset}\n${'0'.repeat(64)}  other.tar.gz\n`);
    if (req.url === `/${TEMPORAL_CLI_VERSION}/${asset}`) return void res.end(archive);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: join(dir, 'empty-path'), LAYER_CACHE_DIR: join(dir, 'cache'), ...extra };
}
const cachePath = () => join(dir, 'cache', 'bin', `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'layer-resolve-temporal-'));
  lines.length = 0;
  requests.length = 0;
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveTemporalCli', () => {
  it('$TEMPORAL_CLI wins over PATH, the cache and the download', async () => {
    const url = await release('ok');
    const cli = fakeTemporal(join(dir, 'env', 'temporal'), 'v0-env');
    fakeTemporal(join(dir, 'path', 'temporal'), 'v0-path');
    fakeTemporal(cachePath(), 'v0-cache');
    const found = await resolveTemporalCli(
      log,
      env({ TEMPORAL_CLI: cli, PATH: join(dir, 'path'), LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }),
    );
    expect(found).toEqual({ path: cli, source: 'env', version: 'v0-env' });
    expect(requests).toEqual([]);
  });

  it('PATH wins over the cache; the cache over the download', async () => {
    const url = await release('ok');
    fakeTemporal(cachePath(), 'v0-cache');
    const onPath = fakeTemporal(join(dir, 'path', 'temporal'), 'v0-path');
    expect(
      await resolveTemporalCli(log, env({ PATH: join(dir, 'path'), LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url })),
    ).toMatchObject({ path: onPath, source: 'path' });
    expect(await resolveTemporalCli(log, env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }))).toEqual({
      path: cachePath(),
      source: 'cache',
      version: 'v0-cache',
    });
    expect(requests).toEqual([]);
  });

  it('an empty cache downloads the release (checksum verified) before trying Go, and logs it', async () => {
    const url = await release('ok');
    const go = fakeGo(join(dir, 'go', 'go'));
    const found = await resolveTemporalCli(log, env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }), { go });
    expect(found).toEqual({ path: cachePath(), source: 'download', version: 'temporal-downloaded' });
    expect(requests).toEqual([
      `/${TEMPORAL_CLI_VERSION}/checksums.txt`,
      `/${TEMPORAL_CLI_VERSION}/${temporalCliAsset()}`,
    ]);
    expect(lines.join('\n')).toMatch(/temporal CLI: downloaded in [\d.]+ s/);
    // The next run finds it in the cache.
    expect(await resolveTemporalCli(log, env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }))).toMatchObject({
      source: 'cache',
    });
  });

  it.each([
    // why: an offline machine whose connections hang must give up within the timeout
    ['a release server that never answers', 'hang' as const, /no answer within 0\.3 s/],
    // why: a corrupt or tampered archive is never cached
    ['an archive whose checksum does not match', 'bad-checksum' as const, /sha256 \w+, checksums.txt says/],
    ['a release that is not there', '404' as const, /HTTP 404/],
  ])('%s falls back to the Go build and says why', async (_name, mode, reason) => {
    const url = await release(mode);
    const started = Date.now();
    const found = await resolveTemporalCli(
      log,
      env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url, LAYER_TEMPORAL_CLI_DOWNLOAD_TIMEOUT_MS: '300' }),
      { go: fakeGo(join(dir, 'go', 'go')) },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(found).toEqual({ path: cachePath(), source: 'built', version: 'temporal-built' });
    const text = lines.join('\n');
    expect(text).toMatch(reason);
    expect(text).toContain('building from the Go module proxy instead');
  });

  it('nothing listening (connection refused) fails fast too', async () => {
    const url = await release('ok');
    server?.close();
    server = undefined;
    const found = await resolveTemporalCli(log, env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }), {
      go: fakeGo(join(dir, 'go', 'go')),
    });
    expect(found.source).toBe('built');
  });

  it('LAYER_TEMPORAL_CLI_DOWNLOAD=0 goes straight to Go', async () => {
    const url = await release('ok');
    const found = await resolveTemporalCli(
      log,
      env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url, LAYER_TEMPORAL_CLI_DOWNLOAD: '0' }),
      { go: fakeGo(join(dir, 'go', 'go')) },
    );
    expect(found.source).toBe('built');
    expect(requests).toEqual([]);
  });

  it('no download and no Go is a ProvisionError naming both reasons (a test run fails, never skips)', async () => {
    const url = await release('404');
    const attempt = resolveTemporalCli(log, env({ LAYER_TEMPORAL_CLI_DOWNLOAD_URL: url }), { go: null });
    await expect(attempt).rejects.toBeInstanceOf(ProvisionError);
    await expect(attempt).rejects.toThrow(/download failed \(.*HTTP 404.*\) and there is no Go toolchain/);
    expect(existsSync(cachePath())).toBe(false);
  });
});

describe('fileFromTar', () => {
  it('finds a file by base name past other entries, with its exact bytes', () => {
    const archive = tar({ LICENSE: 'x'.repeat(700), 'dir/temporal': 'binary' });
    expect(fileFromTar(archive, 'temporal')?.toString()).toBe('binary');
    expect(fileFromTar(archive, 'missing')).toBeUndefined();
  });

  it('matches the release asset naming of goreleaser', () => {
    expect(temporalCliAsset('linux', 'x64')).toBe(
      `temporal_cli_${TEMPORAL_CLI_VERSION.slice(1)}_linux_amd64.tar.gz`,
    );
    expect(temporalCliAsset('darwin', 'arm64')).toMatch(/_darwin_arm64\.tar\.gz$/);
    expect(temporalCliAsset('win32', 'x64')).toBeUndefined();
  });
});
