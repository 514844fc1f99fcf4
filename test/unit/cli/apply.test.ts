// `layer apply` without Temporal: documents → validated Functions → the engine spec local mode
// starts. Every refusal names the field and the fix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  parseFunctionDocuments,
  toLocalRuntimeSpec,
  PUSH_URL_ANNOTATION,
} from '../../../src/cli/commands/apply.js';
import { formatCliError } from '../../../src/cli/errors.js';
import { LayerError } from '../../../packages/worker/src/util/errors.js';

const seedText = readFileSync(
  new URL('../../fixtures/seeds/function-tag-products.yaml', import.meta.url),
  'utf8',
);

function fnDoc(over: { metadata?: object; spec?: object } = {}) {
  return {
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'Function',
    metadata: { name: 'tagger', ...over.metadata },
    spec: {
      targetNamespaces: ['products'],
      inputs: ['title'],
      output: { attribute: 'tags', kind: 'tags' },
      worker: { image: 'example/tagger:1' },
      ...over.spec,
    },
  };
}

function errorOf(fn: () => unknown): LayerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LayerError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseFunctionDocuments', () => {
  it('parses the seed Function with its namespace', () => {
    const [doc] = parseFunctionDocuments(seedText, 'fn.yaml');
    expect(doc?.fn.metadata).toMatchObject({ name: 'tag-products', namespace: 'layer' });
    expect(doc?.source).toBe('fn.yaml');
  });

  it('reads every document of a multi-document file and skips empty ones', () => {
    const text = `${stringify(fnDoc())}---\n---\n${stringify(fnDoc({ metadata: { name: 'second' } }))}`;
    const docs = parseFunctionDocuments(text, 'many.yaml');
    expect(docs.map((d) => [d.fn.metadata.name, d.source])).toEqual([
      ['tagger', 'many.yaml (document 1)'],
      ['second', 'many.yaml (document 3)'],
    ]);
  });

  it.each([
    // A missing required field: its path and what to add.
    [{ spec: { inputs: undefined } }, 'spec.inputs: required', 'add inputs'],
    // An enum typo: the allowed values.
    [{ spec: { worker: { image: 'x', dispatch: 'pul' } } }, 'spec.worker.dispatch', '"pull"'],
    // A misspelt field is refused rather than silently ignored.
    [{ spec: { batchsize: 3 } }, 'spec.batchsize: unknown field', 'spelling'],
    // Cross-field rule from the CRD's CEL rule.
    [{ spec: { output: { attribute: 'v', kind: 'embedding' } } }, 'spec.output.dim', 'set output.dim'],
  ])('refuses %j naming the field and the fix', (over, message, hint) => {
    const err = errorOf(() => parseFunctionDocuments(stringify(fnDoc(over as never)), 'bad.yaml'));
    expect(err.message).toContain('bad.yaml: Function tagger');
    expect(err.message).toContain(message);
    expect(err.hint).toContain(hint);
  });

  it('says which document of a file is wrong', () => {
    const text = `${stringify(fnDoc())}---\n${stringify(fnDoc({ spec: { inputs: [] } }))}`;
    expect(errorOf(() => parseFunctionDocuments(text, 'f.yaml')).message).toMatch(
      /^f\.yaml \(document 2\): .*spec\.inputs/,
    );
  });

  it('refuses kinds that need the operator', () => {
    const index = {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'Index',
      metadata: { name: 'products' },
      spec: { namespace: 'products' },
    };
    const err = errorOf(() => parseFunctionDocuments(stringify(index), 'i.yaml'));
    expect(formatCliError(err)).toMatch(/cannot be applied in local mode[\s\S]*fix: .*layer operator/);
  });

  it('reports YAML syntax errors with the file', () => {
    expect(errorOf(() => parseFunctionDocuments('kind: [unclosed', 'y.yaml')).message).toMatch(
      /^y\.yaml:1: not valid YAML/,
    );
  });

  it('an alias bomb is refused with the file and document, not an anonymous exception', () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 0, prev = 'a'; i < 9; prev = `b${i}`, i++)
      bomb += `b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(', ')}]\n`;
    const err = errorOf(() => parseFunctionDocuments(`${stringify(fnDoc())}---\n${bomb}`, 'bomb.yaml'));
    expect(err.message).toMatch(/^bomb\.yaml#2: cannot be read: .*alias/i);
    expect(err.hint).toMatch(/expand the aliases/);
  });

  it('!!binary in spec names the field, instead of listing Buffer methods as unknown fields', () => {
    const text = stringify(fnDoc()).replace('spec:\n', 'spec:\n  note: !!binary aGVsbG8=\n');
    const err = errorOf(() => parseFunctionDocuments(text, 'bin.yaml'));
    expect(err.message).toBe(
      'bin.yaml#1 spec.note: is a YAML binary value (!!binary), which a Kubernetes resource cannot hold',
    );
    expect(err.message).not.toMatch(/readUInt|toJSON/);
  });
});

describe('toLocalRuntimeSpec', () => {
  const one = (doc: object, source = 'f.yaml') => parseFunctionDocuments(stringify(doc), source)[0]!;

  it("puts a Function without a namespace in 'local' with its pull task queue", () => {
    const spec = toLocalRuntimeSpec(one(fnDoc()));
    expect(spec).toMatchObject({
      k8sNamespace: 'local',
      name: 'tagger',
      targetNamespaces: ['products'],
      output: { attribute: 'tags', version: 'v1' },
      worker: { dispatch: 'pull', taskQueue: 'layer-fn.local.tagger' },
    });
  });

  it('keeps metadata.namespace when given (the seed is in layer)', () => {
    expect(toLocalRuntimeSpec(parseFunctionDocuments(seedText, 's.yaml')[0]!).k8sNamespace).toBe('layer');
  });

  it.each([
    // The flag wins over the annotation.
    [{ [PUSH_URL_ANNOTATION]: 'http://annotated:1' }, 'http://flag:2/', 'http://flag:2'],
    // The annotation when no flag is given.
    [{ [PUSH_URL_ANNOTATION]: 'http://annotated:1' }, undefined, 'http://annotated:1'],
  ])('push URL from annotations %j and --push-url %s', (annotations, pushUrl, expected) => {
    const doc = one(fnDoc({ metadata: { annotations }, spec: { worker: { image: 'x', dispatch: 'push' } } }));
    expect(toLocalRuntimeSpec(doc, pushUrl ? { pushUrl } : {}).worker.pushUrl).toBe(expected);
  });

  it.each([
    // No Index CRs without Kubernetes: say to use targetNamespaces.
    [
      fnDoc({ spec: { targetNamespaces: undefined, indexSelector: { matchLabels: { a: 'b' } } } }),
      {},
      'spec.indexSelector',
      'targetNamespaces',
    ],
    // A push worker with nowhere to send batches.
    [fnDoc({ spec: { worker: { image: 'x', dispatch: 'push' } } }), {}, 'spec.worker.dispatch', '--push-url'],
    [
      fnDoc({ spec: { worker: { image: 'x', dispatch: 'push' } } }),
      { pushUrl: 'localhost:8080' },
      '--push-url',
      'http://',
    ],
    // The engine's own limit (500 batches in flight) is reported before Temporal is called.
    [
      fnDoc({ spec: { schedule: { maxInFlightBatches: 501 } } }),
      {},
      'spec.schedule.maxInFlightBatches',
      'change those fields',
    ],
  ])('refuses %#: %s', (doc, opts, fragment, hint) => {
    const err = errorOf(() => toLocalRuntimeSpec(one(doc), opts));
    expect(err.message).toContain(fragment);
    expect(err.message).toContain('f.yaml: Function tagger');
    expect(err.hint).toContain(hint);
  });
});
