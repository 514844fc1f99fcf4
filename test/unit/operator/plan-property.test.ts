// Property tests: the planner is total on schema-valid input, and its output keeps its invariants.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseResource, type InfraRules, type Workload } from '../../../src/api/index.js';
import { planWorkloadObjects } from '../../../src/operator/workload-objects.js';
import { operatorSettings } from '../../../src/operator/settings.js';

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);
const poolNames = ['cpu', 'cpu-large', 'gpu', 'other'];
const json = fc.jsonValue({ maxDepth: 3 });

const worker = fc.record(
  {
    image: fc.constant('ghcr.io/hev/w:1'),
    dispatch: fc.constantFrom('pull', 'push'),
    port: fc.integer({ min: 1, max: 65535 }),
    batchSize: fc.integer({ min: 1, max: 10000 }),
    timeoutSeconds: fc.integer({ min: 1, max: 86400 }),
    computeClass: fc.constantFrom('cpu', 'gpu'),
    podSpec: fc.dictionary(
      fc.constantFrom('nodeSelector', 'serviceAccountName', 'tolerations', 'containers', 'x'),
      json,
    ),
  },
  { requiredKeys: ['image'] },
);

const scaling = fc.record(
  {
    pool: fc.constantFrom(...poolNames),
    mode: fc.constantFrom('autoscale', 'fixed', 'disabled'),
    replicas: fc
      .tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }))
      .map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
  },
  { requiredKeys: [] },
);

const meta = fc.record(
  { name: dnsLabel, namespace: dnsLabel, uid: fc.uuid(), generation: fc.integer({ min: 1, max: 100 }) },
  { requiredKeys: ['name'] },
);

const functionDoc = fc.record({
  apiVersion: fc.constant('hevlayer.com/v1alpha1'),
  kind: fc.constant('Function'),
  metadata: meta,
  spec: fc.record(
    {
      targetNamespaces: fc.constant(['products']),
      inputs: fc.constant(['id']),
      output: fc.oneof(
        fc.record({ attribute: fc.constant('tags'), kind: fc.constant('tags') }),
        fc.record({
          attribute: fc.constant('vec'),
          kind: fc.constant('embedding'),
          dim: fc.integer({ min: 1, max: 4096 }),
        }),
      ),
      filter: json,
      worker,
      scaling,
      paused: fc.boolean(),
    },
    { requiredKeys: ['targetNamespaces', 'inputs', 'output', 'worker'] },
  ),
});

const pipelineDoc = fc.record({
  apiVersion: fc.constant('hevlayer.com/v1alpha1'),
  kind: fc.constant('Pipeline'),
  metadata: meta,
  spec: fc.record(
    {
      target: fc.record({ namespace: fc.constant('products') }),
      sourceRef: fc.dictionary(fc.string({ maxLength: 5 }), json),
      worker,
      scaling,
      paused: fc.boolean(),
    },
    { requiredKeys: ['target', 'worker'] },
  ),
});

const pool = fc.record(
  {
    name: fc.constantFrom(...poolNames),
    kind: fc.constantFrom('cpu', 'gpu'),
    maxReplicasPerWorkload: fc.integer({ min: 1, max: 1000 }),
    nodeSelector: fc.dictionary(fc.constantFrom('a', 'b'), fc.string({ maxLength: 5 })),
    resources: fc.record(
      {
        requests: fc.dictionary(
          fc.constantFrom('cpu', 'memory', 'nvidia.com/gpu'),
          fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom('500m', '1Gi')),
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name', 'kind', 'maxReplicasPerWorkload'] },
);
const rulesDoc = fc.option(
  fc.uniqueArray(pool, { selector: (p) => p.name, maxLength: 4 }).map((computePools) => ({
    apiVersion: 'hevlayer.com/v1alpha1',
    kind: 'InfraRules',
    metadata: { name: 'default' },
    spec: { computePools },
  })),
);

function parsed<T>(doc: unknown): T | undefined {
  const r = parseResource(doc);
  return r.ok ? (r.resource as T) : undefined;
}

describe('planWorkloadObjects on schema-valid input', () => {
  it('never throws and keeps its invariants', () => {
    fc.assert(
      fc.property(fc.oneof(functionDoc, pipelineDoc), rulesDoc, (doc, rulesRaw) => {
        const w = parsed<Workload>(doc);
        const rules = rulesRaw === null ? undefined : parsed<InfraRules>(rulesRaw);
        fc.pre(w !== undefined && (rulesRaw === null || rules !== undefined));
        const p = planWorkloadObjects({ workload: w!, infraRules: rules }, operatorSettings());
        // Ready is the reconcile's summary, never the planner's; a blocked plan says why and applies nothing.
        expect(p.conditions.filter((c) => c.type === 'Ready')).toHaveLength(0);
        if (p.blocked) expect(p.conditions.some((c) => c.status === 'False')).toBe(true);
        if (p.blocked) expect(p.apply).toEqual([]);
        else expect(p.apply.filter((o) => o.kind === 'Deployment')).toHaveLength(1);
        for (const o of p.apply) {
          expect(o.metadata.name.length).toBeLessThanOrEqual(63);
          // An autoscaled Deployment declares replicas only beside a hand-over of the same value
          // (it is being created here), so leaving them out next pass keeps them (ADR 0128).
          if (o.kind === 'Deployment' && p.apply.some((x) => x.kind === 'ScaledObject'))
            expect(o.spec?.replicas).toBe(p.replicasHandover?.spec.replicas);
        }
      }),
      { numRuns: 300 },
    );
  });
});
