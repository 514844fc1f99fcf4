// The binaries `npm run check:terraform` runs, found or built like the project's other real
// binaries (src/dev/binaries.ts, ADR 0001): an env var → PATH → the binary cache → `go build`
// from Go modules into the cache, each choice logged. OpenTofu builds from the tool module in
// test/tofu-bin; the AWS provider from a pinned commit of hashicorp/terraform-provider-aws,
// whose v2+ tags have no /vN module path, so the Go module proxy serves it only as a
// pseudo-version of a commit (ADR 0119). The provider is then laid out as a filesystem mirror so
// `tofu init` installs it without a registry.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  findOnPath,
  goAvailable,
  goBuild,
  isExecutable,
  ProvisionError,
  resolveGoToolBinary,
  withBuildLock,
  type Logger,
  type ResolvedBinary,
} from '../../src/dev/binaries.js';
import { binCacheDir, packageRoot } from '../../src/dev/paths.js';

const exec = promisify(execFile);

/** OpenTofu release pinned in test/tofu-bin/go.mod. */
export const TOFU_VERSION = 'v1.12.6';

/**
 * The AWS provider commit built for the check: a commit of the v6 line whose version/VERSION
 * reads 6.36.0. The proxy turns a commit into a pseudo-version (`go get …@<commit>`).
 */
export const AWS_PROVIDER_COMMIT = '00a35305dc1b297a6fcdecdfbba33f1e63c3da39';
/** The version the mirror files the build under; versions.tf requires >= 6.0.0, < 7.0.0. */
export const AWS_PROVIDER_VERSION = '6.36.0';
export const AWS_PROVIDER_MODULE = 'github.com/hashicorp/terraform-provider-aws';

/** `<os>_<arch>` as Terraform names platforms. */
export function tfPlatform(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  const cpu = arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
  return `${platform}_${cpu}`;
}

/**
 * `go` behind `nice -n 19` where nice exists: these builds are long and must not starve the
 * machine's other work. Returns the command and the argument prefix for goBuild.
 */
function nicedGo(go: string, env: NodeJS.ProcessEnv): { cmd: string; prefix: string[] } {
  const nice = findOnPath('nice', env);
  return nice ? { cmd: nice, prefix: ['-n', '19', go] } : { cmd: go, prefix: [] };
}

async function versionLine(path: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(path, args, { timeout: 30_000 });
    return stdout.trim().split('\n')[0] ?? 'unknown';
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

/** OpenTofu: $LAYER_TOFU → `tofu` on PATH → the cache → `go build` of test/tofu-bin (niced: a long build). */
export async function resolveTofu(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  const tofu = await resolveGoToolBinary(
    {
      component: 'tofu',
      name: 'tofu',
      envVar: 'LAYER_TOFU',
      version: TOFU_VERSION,
      moduleDir: join(packageRoot(), 'test', 'tofu-bin'),
      target: 'github.com/opentofu/opentofu/cmd/tofu',
      // What OpenTofu's release build stamps: without it `tofu version` says v1.12.6-dev.
      ldflags: '-X github.com/opentofu/opentofu/version.dev=no',
      nice: true,
    },
    log,
    env,
  );
  // A tofu of the user's own says which version it is.
  if (tofu.source === 'env' || tofu.source === 'path') {
    const version = await versionLine(tofu.path, ['version']);
    log(`tofu: ${version}`);
    return { ...tofu, version };
  }
  return tofu;
}

/** Where the built provider lives in the cache. */
export function awsProviderCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(
    binCacheDir(env),
    `terraform-provider-aws-${AWS_PROVIDER_COMMIT.slice(0, 12)}`,
    'terraform-provider-aws',
  );
}

/**
 * The AWS provider: $LAYER_TERRAFORM_PROVIDER_AWS → `terraform-provider-aws` on PATH → the cache
 * → `go build` of the pinned commit into the cache. The build has no committed tool module: a
 * go.sum needs the module from the proxy, so the build writes a throwaway module in the cache,
 * `go get`s the commit (the proxy resolves it to a pseudo-version, logged) and builds it.
 */
export async function resolveAwsProvider(
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedBinary> {
  if (env.LAYER_TERRAFORM_PROVIDER_AWS) {
    if (!isExecutable(env.LAYER_TERRAFORM_PROVIDER_AWS))
      throw new ProvisionError(
        'terraform-provider-aws',
        `LAYER_TERRAFORM_PROVIDER_AWS=${env.LAYER_TERRAFORM_PROVIDER_AWS} is not an executable file; unset it or point it at a terraform-provider-aws binary of the 6.x line`,
      );
    log(`terraform-provider-aws: ${env.LAYER_TERRAFORM_PROVIDER_AWS} (from LAYER_TERRAFORM_PROVIDER_AWS)`);
    return { path: env.LAYER_TERRAFORM_PROVIDER_AWS, source: 'env', version: 'unknown' };
  }
  const onPath = findOnPath('terraform-provider-aws', env);
  if (onPath) {
    log(`terraform-provider-aws: ${onPath} (on PATH)`);
    return { path: onPath, source: 'path', version: 'unknown' };
  }
  const cached = awsProviderCachePath(env);
  if (isExecutable(cached)) {
    log(`terraform-provider-aws: ${cached} (cache)`);
    return { path: cached, source: 'cache', version: AWS_PROVIDER_VERSION };
  }
  const go = await goAvailable(env);
  if (!go)
    throw new ProvisionError(
      'terraform-provider-aws',
      'no provider found and no Go toolchain to build it: install Go, or set LAYER_TERRAFORM_PROVIDER_AWS to a terraform-provider-aws 6.x binary',
    );
  const dir = join(cached, '..');
  await withBuildLock(
    dir,
    async () => {
      if (isExecutable(cached)) return;
      const work = join(dir, `module-${process.pid}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      writeFileSync(
        join(work, 'go.mod'),
        'module layer-orchestrator/terraform-provider-aws-bin\n\ngo 1.26.6\n',
      );
      try {
        log(`resolving ${AWS_PROVIDER_MODULE}@${AWS_PROVIDER_COMMIT} through the Go module proxy`);
        const { cmd, prefix } = nicedGo(go, env);
        try {
          await goBuild(
            'terraform-provider-aws (go get)',
            cmd,
            [...prefix, 'get', `${AWS_PROVIDER_MODULE}@${AWS_PROVIDER_COMMIT}`],
            work,
            env,
            log,
          );
        } catch (err) {
          // The proxy's answer is the whole story here (e.g. 403 for a module version it will not
          // serve); say what it was and the way around it.
          throw new ProvisionError(
            'terraform-provider-aws',
            `the Go module proxy did not resolve ${AWS_PROVIDER_MODULE}@${AWS_PROVIDER_COMMIT}: ` +
              `${(err as Error).message.replace(/^.*?go build failed: /s, '')}\n` +
              'Set LAYER_TERRAFORM_PROVIDER_AWS to a terraform-provider-aws 6.x binary (or put one on PATH) to run the provider steps.',
          );
        }
        await goBuild(
          `terraform-provider-aws ${AWS_PROVIDER_VERSION}`,
          cmd,
          [
            ...prefix,
            'build',
            '-trimpath',
            `-ldflags=-s -w -X ${AWS_PROVIDER_MODULE}/version.ProviderVersion=${AWS_PROVIDER_VERSION}`,
            '-o',
            join(work, 'terraform-provider-aws'),
            AWS_PROVIDER_MODULE,
          ],
          work,
          env,
          log,
        );
        renameSync(join(work, 'terraform-provider-aws'), cached);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    log,
  );
  log(`terraform-provider-aws: ${cached} (built from ${AWS_PROVIDER_MODULE}@${AWS_PROVIDER_COMMIT})`);
  return { path: cached, source: 'built', version: AWS_PROVIDER_VERSION };
}

/**
 * Lays the provider out as a filesystem mirror (`<host>/hashicorp/aws/<version>/<os_arch>/`) under
 * both registry hosts, since OpenTofu resolves `hashicorp/aws` to registry.opentofu.org and a
 * lock file written by Terraform names registry.terraform.io, and writes a CLI config that
 * installs from that mirror only: `tofu init` then never reaches a registry.
 */
export function writeProviderMirror(
  dir: string,
  providerBinary: string,
): { cliConfig: string; mirror: string } {
  const mirror = join(dir, 'mirror');
  for (const host of ['registry.opentofu.org', 'registry.terraform.io']) {
    const target = join(mirror, host, 'hashicorp', 'aws', AWS_PROVIDER_VERSION, tfPlatform());
    mkdirSync(target, { recursive: true });
    const file = join(target, `terraform-provider-aws_v${AWS_PROVIDER_VERSION}`);
    if (!existsSync(file)) {
      copyFileSync(providerBinary, file);
      chmodSync(file, 0o755);
    }
  }
  const cliConfig = join(dir, 'tofu.rc');
  writeFileSync(
    cliConfig,
    [
      '# Written by scripts/check-terraform.ts: providers come from the local mirror only.',
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(mirror)}`,
      '    include = ["registry.opentofu.org/hashicorp/aws", "registry.terraform.io/hashicorp/aws"]',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return { cliConfig, mirror };
}
