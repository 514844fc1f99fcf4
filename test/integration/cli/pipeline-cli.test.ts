// `layer pipeline submit` and `layer pipeline status` (registerPipelineCommands, in process)
// against the real Temporal dev server and a running Pipeline workflow with no worker polling
// its task queue, so submitted items stay queued and the status shows them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPipelineCommands } from '../../../src/cli/commands/pipeline.js';
import { getPipelineStatus } from '../../../src/client/pipeline-client.js';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  pipelineSpec,
  startPipeline,
  startPipelineHarness,
  uniqueName,
  type PipelineHarness,
} from '../pipeline/harness.js';

let h: PipelineHarness;
const dir = mkdtempSync(join(tmpdir(), 'layer-pl-cli-'));
const name = uniqueName('cli-pl');
const ref = { k8sNamespace: 'test', name };

beforeAll(async () => {
  vi.stubEnv('TEMPORAL_ADDRESS', temporalAddress());
  vi.stubEnv('TEMPORAL_NAMESPACE', temporalNamespace());
  vi.stubEnv('LAYER_STATE_DIR', join(dir, 'no-dev-env'));
  h = await startPipelineHarness();
  await startPipeline(h, pipelineSpec(name, uniqueName('docs')));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await h?.close();
});

/** Runs `layer ...args` in process; returns what it wrote to stdout. */
async function layer(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPipelineCommands(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('layer pipeline', () => {
  it('submit queues the file’s items idempotently; status shows them', async () => {
    const file = join(dir, 'items.jsonl');
    writeFileSync(
      file,
      [
        '{"key":"a","payload":{"text":"one"}}',
        '',
        '{"key":"b","payload":{"text":"two"}}',
        '{"key":"c"}',
      ].join('\n'),
    );
    expect(await layer('pipeline', 'submit', name, '-f', file, '-n', 'test')).toBe(
      `pipeline test/${name}: 3 items submitted, 3 accepted, 0 duplicates\n`,
    );
    expect(await layer('pipeline', 'submit', name, '-f', file, '-n', 'test')).toContain(
      '0 accepted, 3 duplicates',
    );
    expect((await getPipelineStatus(h.client, ref)).counters).toMatchObject({ submitted: 3, duplicates: 3 });

    const json = JSON.parse(await layer('pipeline', 'status', name, '-n', 'test', '--json')) as {
      name: string;
      counters: { submitted: number };
    };
    expect(json).toMatchObject({ name, k8sNamespace: 'test', counters: { submitted: 3 } });
    const text = await layer('pipeline', 'status', name, '-n', 'test');
    expect(text).toContain(`Pipeline test/${name} (generation 1)`);
    expect(text).toContain('submitted:       3 items (3 duplicates)');
  });

  it('a bad line submits nothing and names the line; a missing pipeline says how to create it', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"key":"x"}\n{"key":"y"\n');
    const err = await layer('pipeline', 'submit', name, '-f', file, '-n', 'test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toContain(`${file} line 2: not valid JSON`);
    expect((await getPipelineStatus(h.client, ref)).counters.submitted).toBe(3);

    const missing = await layer('pipeline', 'status', 'no-such-pipeline', '-n', 'test').catch(
      (e: unknown) => e,
    );
    expect(String((missing as Error).message)).toContain('no workflow pipeline/test/no-such-pipeline');
    expect((missing as { hint?: string }).hint).toContain('layer apply -f pipeline.yaml');
  });
});
