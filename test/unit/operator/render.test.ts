// `layer render`: every seed renders; invalid input fails with the file, document and field.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderFiles, RenderInputError } from '../../../src/cli/commands/render.js';
import { seedPath, seedText } from '../../fixtures/seeds.js';

type Doc = {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};
const docs = (out: string) => parseAllDocuments(out).map((d) => d.toJS() as Doc);

describe('layer render', () => {
  it.each([
    // The example: seed Function with seed InfraRules.
    {
      row: 'function + infrarules',
      files: ['function', 'infraRules'] as const,
      kinds: ['Deployment', 'TriggerAuthentication', 'ScaledObject', 'Function'],
    },
    // No InfraRules: the Helm default pools (cpu exists there too).
    {
      row: 'function alone (Helm pools)',
      files: ['function'] as const,
      kinds: ['Deployment', 'TriggerAuthentication', 'ScaledObject', 'Function'],
    },
    // Both workloads at once: objects first, then the CRs.
    {
      row: 'pipeline + function',
      files: ['pipeline', 'function'] as const,
      kinds: [
        'Deployment',
        'TriggerAuthentication',
        'ScaledObject',
        'Deployment',
        'TriggerAuthentication',
        'ScaledObject',
        'Pipeline',
        'Function',
      ],
    },
    // InfraRules alone is valid and renders nothing.
    { row: 'infrarules alone', files: ['infraRules'] as const, kinds: [] },
  ])('$row', async ({ files, kinds }) => {
    const out = await renderFiles({ filename: files.map((f) => seedPath(f)) });
    const got = out.trim() === '' ? [] : docs(out);
    expect(got.map((d) => d.kind)).toEqual(kinds);
    for (const w of got.filter((d) => d.kind === 'Function' || d.kind === 'Pipeline')) {
      expect(w.status?.pool).toBe('cpu');
    }
  });

  it('reads a multi-document stream from stdin', async () => {
    const stdin = `${seedText('infraRules')}---\n${seedText('function')}`;
    const out = await renderFiles({ filename: ['-'] }, () => Promise.resolve(stdin));
    expect(docs(out).map((d) => d.kind)).toContain('ScaledObject');
  });

  it('an unready workload is still a valid render (exit 0)', async () => {
    const stdin = seedText('function').replace('pool: cpu', 'pool: nope');
    const out = await renderFiles({ filename: ['-'] }, () => Promise.resolve(stdin));
    const fn = docs(out).find((d) => d.kind === 'Function');
    const ready = (fn?.status?.conditions as { type: string; status: string; reason: string }[]).find(
      (c) => c.type === 'Ready',
    );
    expect(ready).toMatchObject({ status: 'False', reason: 'ComputePoolNotFound' });
    expect(docs(out).map((d) => d.kind)).toEqual(['Function']);
  });

  it('invalid input throws with source, document, field and fix', async () => {
    const stdin = `${seedText('infraRules')}---\n${seedText('function').replace('kind: tags', 'kind: embedding')}`;
    const err = await renderFiles({ filename: ['-'] }, () => Promise.resolve(stdin)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderInputError);
    const e = err as RenderInputError;
    expect(e.message).toContain('stdin#2 Function layer/tag-products spec.output.dim');
    expect(e.hint).toContain('spec.output.dim');
  });

  it('broken YAML is reported with its location', async () => {
    const err = await renderFiles({ filename: ['-'] }, () => Promise.resolve('a: [')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RenderInputError);
  });

  it('no -f, an empty file or empty stdin is an error, never a silent exit 0', async () => {
    await expect(renderFiles({ filename: [] })).rejects.toThrow(/no file given/);
    for (const input of ['', '---\n', '# only a comment\n']) {
      const err = await renderFiles({ filename: ['-'] }, () => Promise.resolve(input)).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toMatch(/no resource found in stdin \(empty input\)/);
    }
  });

  it('an alias bomb and !!binary are problems naming the source, document and field', async () => {
    const bin = seedText('function').replace('spec:\n', 'spec:\n  note: !!binary aGVsbG8=\n');
    const err = (await renderFiles({ filename: ['-'] }, () => Promise.resolve(bin)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(RenderInputError);
    expect(err.message).toBe(
      'stdin#1 spec.note: is a YAML binary value (!!binary), which a Kubernetes resource cannot hold',
    );
  });

  it('settings flags reach the worker and the trigger', async () => {
    const out = await renderFiles({
      filename: [seedPath('function')],
      apiUrl: 'http://x:1',
      temporalAddress: 't:7233',
      temporalNamespace: 'ns',
    });
    expect(out).toContain('url: http://x:1/v1/queue-depth/functions/layer/tag-products');
    expect(out).toContain('value: t:7233');
  });
});
