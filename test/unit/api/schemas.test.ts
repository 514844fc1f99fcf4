// The schemas accept every seed example, fill the defaults the seeds imply, and refuse bad input
// with a field path and a fix.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  functionSchema,
  helmDefaultInfraRules,
  inboundAuthSchema,
  parseResource,
  scalingSchema,
  type LayerFunction,
} from '../../../src/api/index.js';
import { mergePatch } from '../../../src/operator/merge-patch.js';
import { loadSeed, SEED_RESOURCES } from '../../fixtures/seeds.js';

function parseFn(patch: Record<string, unknown>) {
  return parseResource(mergePatch(loadSeed('function'), patch));
}

describe('seed examples', () => {
  it.each(SEED_RESOURCES)('%s parses unchanged', (name) => {
    const r = parseResource(loadSeed(name));
    if (!r.ok) throw r.error;
    expect(r.resource.kind).toBe(loadSeed(name).kind);
  });

  it('the Function keeps its array-form filter exactly as written', () => {
    const r = parseResource(loadSeed('function'));
    expect(r.ok && (r.resource as LayerFunction).spec.filter).toEqual([
      'Or',
      [
        ['tags_v', 'NotEq', 'v1'],
        ['tags_v', 'Eq', null],
      ],
    ]);
  });

  it('the Pipeline keeps sourceRef exactly as written', () => {
    const r = parseResource(loadSeed('pipeline'));
    expect(r.ok && r.resource.kind === 'Pipeline' && r.resource.spec.sourceRef).toEqual(
      loadSeed('pipeline').spec.sourceRef,
    );
  });

  it.each(['workloadScaling', 'pipelineScaling'] as const)(
    'the %s fragment is a valid spec.scaling',
    (name) => {
      expect(scalingSchema.parse(loadSeed(name).scaling)).toMatchObject({ pool: 'cpu', mode: 'autoscale' });
    },
  );

  it.each(['valuesDeriveFromStore', 'valuesKeys'] as const)(
    'the Helm %s inboundAuth is a valid VectorStore inboundAuth',
    (name) => {
      const auth = inboundAuthSchema.parse(loadSeed(name).vectorStore.inboundAuth);
      expect(auth.workerSecretKey).toBe('layer-inbound-worker-api-key');
    },
  );

  it('the Helm default InfraRules is valid', () => {
    const r = parseResource(helmDefaultInfraRules());
    expect(r.ok).toBe(true);
  });
});

describe('defaults', () => {
  it('a minimal Function gets the defaults the seeds imply', () => {
    const min = {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'Function',
      metadata: { name: 'f' },
      spec: {
        targetNamespaces: ['n'],
        inputs: ['id'],
        output: { attribute: 'a', kind: 'tags' },
        worker: { image: 'i' },
      },
    };
    const f = functionSchema.parse(min);
    expect(f.spec.worker).toEqual({
      image: 'i',
      dispatch: 'pull',
      port: 8080,
      batchSize: 32,
      timeoutSeconds: 30,
    });
    expect(f.spec.schedule).toEqual({
      discoveryIntervalSeconds: 300,
      leaseSeconds: 120,
      maxInFlightBatches: 8,
      maxConcurrentScans: 1,
    });
    expect(f.spec.retry).toEqual({ maxAttempts: 8, initialBackoffSeconds: 5, maxBackoffSeconds: 300 });
    expect(f.spec.scaling).toEqual({ mode: 'autoscale', replicas: { min: 0, max: 1 } });
    expect(f.spec.triggers).toEqual(['discovery']);
    expect(f.spec.paused).toBe(false);
  });
});

describe('names the store accepts pass', () => {
  it.each([
    ['output attribute with _ and -', { spec: { output: { attribute: '_tags-v2' } } }],
    ['namespace with . and -', { spec: { targetNamespaces: ['shop.products-2026'] } }],
    // Inputs are the rows' own attributes: the store's rules only (no $, at most 128 bytes).
    ['input with / and unicode', { spec: { inputs: ['meta/title', 'título'] } }],
    // Without fingerprints the output as an input only re-reads what the row has.
    ['output among inputs without fingerprints', { spec: { inputs: ['title', 'tags'] } }],
  ])('%s', (_, patch) => {
    const r = parseFn(patch);
    if (!r.ok) throw r.error;
  });
});

describe('invalid input names the field and the fix', () => {
  it.each([
    // embedding vectors need a dimension so consumers can validate shape.
    {
      row: 'embedding without dim',
      patch: { spec: { output: { kind: 'embedding' } } },
      path: 'spec.output.dim',
    },
    // Exactly one way to choose targets.
    {
      row: 'targetNamespaces and indexSelector',
      patch: { spec: { indexSelector: { matchLabels: { a: 'b' } } } },
      path: 'spec.targetNamespaces',
    },
    // min above max can never be satisfied.
    {
      row: 'replicas min > max',
      patch: { spec: { scaling: { replicas: { min: 9, max: 2 } } } },
      path: 'spec.scaling.replicas.min',
    },
    // Typos must not be silently dropped.
    { row: 'unknown field', patch: { spec: { worker: { batchsize: 3 } } }, path: 'spec.worker.batchsize' },
    // Enum values are listed in the fix.
    {
      row: 'bad scaling mode',
      patch: { spec: { scaling: { mode: 'auto' } } },
      path: 'spec.scaling.mode',
      hint: 'autoscale',
    },
    // Missing required field.
    {
      row: 'no image',
      patch: { spec: { worker: { image: null } } },
      path: 'spec.worker.image',
      hint: 'add image',
    },
    // Wrong type.
    {
      row: 'batchSize as string',
      patch: { spec: { worker: { batchSize: 'many' } } },
      path: 'spec.worker.batchSize',
      // Says what was given, not "required".
      hint: 'set batchSize to a number',
      message: 'spec.worker.batchSize: expected number, got "many"',
    },
    {
      row: 'inputFingerprint as string',
      patch: { spec: { output: { inputFingerprint: 'yes' } } },
      path: 'spec.output.inputFingerprint',
      message: 'spec.output.inputFingerprint: expected boolean, got "yes"',
    },
    {
      row: 'a canary of no rows',
      patch: { spec: { rollout: { canaryRows: 0 } } },
      path: 'spec.rollout.canaryRows',
      hint: 'use a value of at least 1',
    },
    // CR names are DNS subdomains.
    { row: 'uppercase name', patch: { metadata: { name: 'Tag' } }, path: 'metadata.name' },
    // A shared rate limit without a budget limits nothing: say which fields give one.
    {
      row: 'rateLimit with neither requestsPerSecond nor rowsPerMinute',
      patch: { spec: { worker: { rateLimit: { key: 'openai' } } } },
      path: 'spec.worker.rateLimit.requestsPerSecond',
      hint: 'rowsPerMinute',
    },
    // A zero or negative budget could never grant a permit.
    {
      row: 'rateLimit rowsPerMinute 0',
      patch: { spec: { worker: { rateLimit: { key: 'openai', rowsPerMinute: 0 } } } },
      path: 'spec.worker.rateLimit.rowsPerMinute',
      hint: 'at least 1',
    },
    // The key names a shared budget; it must be a plain name.
    {
      row: 'rateLimit key with spaces',
      patch: { spec: { worker: { rateLimit: { key: 'Open AI', requestsPerSecond: 5 } } } },
      path: 'spec.worker.rateLimit.key',
    },
    // Issue 28 item 7: names the store refuses would leave the Function idle forever with the
    // store's 400 only in the workflow's last error.
    {
      row: 'output.attribute $dist (the store reserves $)',
      patch: { spec: { output: { attribute: '$dist' } } },
      path: 'spec.output.attribute',
      hint: 'rename output.attribute',
      message: 'spec.output.attribute: "$dist" must be ASCII letters',
    },
    {
      row: 'output.attribute with /',
      patch: { spec: { output: { attribute: 'a/b' } } },
      path: 'spec.output.attribute',
    },
    {
      row: 'output.attribute in unicode',
      patch: { spec: { output: { attribute: 'étiquettes' } } },
      path: 'spec.output.attribute',
    },
    // The row key is not an output.
    {
      row: 'output.attribute id',
      patch: { spec: { output: { attribute: 'id' } } },
      path: 'spec.output.attribute',
    },
    // tags__canary_error must fit in the store's 128 bytes.
    {
      row: 'output.attribute too long for its companions',
      patch: { spec: { output: { attribute: 'a'.repeat(115) } } },
      path: 'spec.output.attribute',
      message: 'longer than 114 characters',
    },
    {
      row: 'target namespace a/b',
      patch: { spec: { targetNamespaces: ['products', 'a/b'] } },
      path: 'spec.targetNamespaces[1]',
      hint: 'no paths',
    },
    {
      row: 'target namespace ../../etc',
      patch: { spec: { targetNamespaces: ['../../etc'] } },
      path: 'spec.targetNamespaces[0]',
    },
    {
      row: 'target namespace ..',
      patch: { spec: { targetNamespaces: ['..'] } },
      path: 'spec.targetNamespaces[0]',
    },
    { row: 'input $dist', patch: { spec: { inputs: ['title', '$dist'] } }, path: 'spec.inputs[1]' },
    // Its own output as an input changes with every write: fingerprints would recompute forever.
    {
      row: 'output attribute among the inputs with inputFingerprint',
      patch: { spec: { inputs: ['title', 'tags'], output: { inputFingerprint: true } } },
      path: 'spec.inputs[1]',
      hint: 'set output.inputFingerprint: false',
    },
    {
      row: 'a companion (tags_v) among the inputs with inputFingerprint',
      patch: { spec: { inputs: ['tags_v'], output: { inputFingerprint: true } } },
      path: 'spec.inputs[0]',
    },
  ])(
    '$row',
    ({
      patch,
      path,
      hint,
      message,
    }: {
      patch: Record<string, unknown>;
      path: string;
      hint?: string;
      message?: string;
    }) => {
      const r = parseFn(patch);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.issues.map((i) => i.path)).toContain(path);
      expect(r.error.message).toContain('Function layer/');
      if (hint) expect(r.error.hint).toContain(hint);
      if (message) expect(r.error.message).toContain(message);
    },
  );

  it.each([
    // InfraRules/default is the only allowed object.
    {
      row: 'InfraRules not named default',
      doc: { ...loadSeed('infraRules'), metadata: { name: 'other' } },
      path: 'metadata.name',
    },
    // A quantity must look like one.
    {
      row: 'bad quantity',
      doc: mergePatch(loadSeed('infraRules'), {
        spec: {
          computePools: [
            { name: 'cpu', kind: 'cpu', maxReplicasPerWorkload: 1, resources: { requests: { cpu: 'lots' } } },
          ],
        },
      }),
      path: 'spec.computePools[0].resources.requests.cpu',
    },
    // Unknown kinds list the five that exist.
    {
      row: 'unknown kind',
      doc: { apiVersion: 'hevlayer.com/v1alpha1', kind: 'Widget', metadata: { name: 'x' } },
      path: 'kind',
    },
    // Other API groups are not ours.
    {
      row: 'wrong apiVersion',
      doc: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } },
      path: 'apiVersion',
    },
    // keys mode without keys cannot authenticate anyone.
    {
      row: 'keys mode without keys',
      doc: {
        apiVersion: 'hevlayer.com/v1alpha1',
        kind: 'VectorStore',
        metadata: { name: 'default', namespace: 'layer' },
        spec: {
          endpoint: { region: 'r' },
          credential: { secretRef: { name: 's', key: 'k' } },
          inboundAuth: { mode: 'keys' },
        },
      },
      path: 'spec.inboundAuth.keys',
    },
  ])('$row', ({ doc, path }) => {
    const r = parseResource(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.issues.map((i) => i.path)).toContain(path);
  });
});

describe('property: invalid input always yields a readable path', () => {
  // Replace one leaf of the seed Function with an arbitrary JSON value; when that makes it invalid
  // every issue must carry a dotted path and a non-empty fix.
  const leafPaths = [
    ['spec', 'inputs'],
    ['spec', 'output', 'kind'],
    ['spec', 'worker', 'image'],
    ['spec', 'worker', 'dispatch'],
    ['spec', 'worker', 'batchSize'],
    ['spec', 'scaling', 'replicas', 'max'],
    ['spec', 'scaling', 'mode'],
    ['spec', 'schedule', 'leaseSeconds'],
    ['metadata', 'name'],
  ];
  it('holds', () => {
    fc.assert(
      fc.property(fc.constantFrom(...leafPaths), fc.jsonValue({ maxDepth: 2 }), (path, value) => {
        const doc = loadSeed('function');
        let node = doc;
        for (const k of path.slice(0, -1)) node = node[k];
        node[path[path.length - 1]!] = value;
        const r = parseResource(doc);
        if (r.ok) return true;
        return r.error.issues.every(
          (i) => /^[A-Za-z(][\w.[\]()/-]*$/.test(i.path) && i.hint.length > 0 && i.message.length > 0,
        );
      }),
      { numRuns: 300 },
    );
  });
});
