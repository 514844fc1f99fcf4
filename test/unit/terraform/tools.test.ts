// The provider mirror `npm run check:terraform` hands `tofu init`: the unpacked layout
// (<host>/<namespace>/<type>/<version>/<os_arch>/terraform-provider-<type>_v<version>) under both
// registry hosts, and a CLI config that names only that mirror — no direct installation, so init
// can never fall back to a registry.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_PROVIDER_VERSION, tfPlatform, writeProviderMirror } from '../../../scripts/terraform/tools.js';

describe('tfPlatform', () => {
  it.each([
    ['linux', 'x64', 'linux_amd64'],
    ['darwin', 'arm64', 'darwin_arm64'],
    ['linux', 'ia32', 'linux_386'],
  ] as const)('%s/%s → %s', (platform, arch, want) => {
    expect(tfPlatform(platform, arch)).toBe(want);
  });
});

describe('writeProviderMirror', () => {
  it('files the binary under both hosts and writes a mirror-only CLI config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-mirror-test-'));
    const binary = join(dir, 'terraform-provider-aws');
    writeFileSync(binary, '#!/bin/sh\n');
    const { cliConfig, mirror } = writeProviderMirror(dir, binary);
    for (const host of ['registry.opentofu.org', 'registry.terraform.io']) {
      const file = join(
        mirror,
        host,
        'hashicorp',
        'aws',
        AWS_PROVIDER_VERSION,
        tfPlatform(),
        `terraform-provider-aws_v${AWS_PROVIDER_VERSION}`,
      );
      expect(statSync(file).mode & 0o111, file).not.toBe(0);
    }
    const rc = readFileSync(cliConfig, 'utf8');
    expect(rc).toContain(`path    = ${JSON.stringify(mirror)}`);
    expect(rc).toContain('filesystem_mirror');
    // a `direct {}` block would let init reach a registry when the mirror lacks something
    expect(rc).not.toContain('direct');
  });
});
