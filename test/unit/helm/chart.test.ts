// The chart's static parts, no helm needed: CRDs are deploy/crds byte for byte (one source), the
// stock compute pools are the ones `layer render` assumes, and values.schema.json takes the
// install document's examples and refuses wrong values naming the value.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helmDefaultComputePools } from '../../../src/api/index.js';
import { loadSeed } from '../../fixtures/seeds.js';
import {
  CHART_DIR,
  CRD_DIR,
  chartValues,
  crValidators,
  errorsOf,
  valuesValidator,
  type Json,
} from './chart-files.js';

const chartCrds = new URL('crds/', CHART_DIR);

describe('chart crds/', () => {
  it('is a link to deploy/crds, so there is one source', () => {
    expect(lstatSync(new URL('crds', CHART_DIR)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(new URL('crds', CHART_DIR))).toBe('../../crds');
  });

  it('holds exactly the generated CRDs, byte for byte', () => {
    const files = readdirSync(chartCrds).sort();
    expect(files).toEqual(readdirSync(CRD_DIR).sort());
    for (const f of files)
      expect(readFileSync(new URL(f, chartCrds), 'utf8'), f).toBe(readFileSync(new URL(f, CRD_DIR), 'utf8'));
  });
});

describe('chart files/operator-rbac.yaml', () => {
  it('is a link to deploy/operator/10-rbac.yaml, whose ClusterRole rules the chart renders', () => {
    const link = new URL('files/operator-rbac.yaml', CHART_DIR);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('../../../operator/10-rbac.yaml');
    expect(readFileSync(link, 'utf8')).toBe(
      readFileSync(new URL('../../../deploy/operator/10-rbac.yaml', import.meta.url), 'utf8'),
    );
  });
});

describe('values.yaml', () => {
  it('default compute pools are the stock pools `layer render` assumes (src/api/defaults.ts)', () => {
    expect(chartValues().operator.infraRules.computePools).toEqual(helmDefaultComputePools());
  });

  it('default compute pools satisfy the InfraRules CRD schema', () => {
    const validate = crValidators(CRD_DIR).get('hevlayer.com/v1alpha1/InfraRules')!;
    const doc = {
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'InfraRules',
      metadata: { name: 'default' },
      spec: { computePools: chartValues().operator.infraRules.computePools as Json[] },
    };
    expect(validate(doc), errorsOf(validate).join('\n')).toBe(true);
  });

  it('inbound worker key defaults to layer-inbound-worker-api-key (install.md)', () => {
    expect(chartValues().vectorStore.inboundAuth).toMatchObject({
      mode: 'deriveFromStore',
      workerSecretKey: 'layer-inbound-worker-api-key',
      workerSecretName: '',
    });
  });
});

describe('values.schema.json', () => {
  const validate = valuesValidator();
  const merged = (overrides: Json): Json => deepMerge(chartValues(), overrides);

  it.each([
    ['the defaults', {}],
    ["install.md's deriveFromStore example", loadSeed('valuesDeriveFromStore')],
    ["install.md's keys example", loadSeed('valuesKeys')],
  ])('accepts %s', (_name, overrides) => {
    expect(validate(merged(overrides)), errorsOf(validate).join('\n')).toBe(true);
  });

  it.each([
    // why each must fail: a value helm would otherwise render into a broken object
    [
      'an unknown inbound auth mode',
      { vectorStore: { inboundAuth: { mode: 'token' } } },
      '/vectorStore/inboundAuth/mode',
    ],
    ['a misspelt top-level value', { vectorstore: {} }, '(root)'],
    ['a Temporal address without a port', { temporal: { address: 'temporal' } }, '/temporal/address'],
    [
      'a key with an unknown scope',
      { vectorStore: { inboundAuth: { keys: [{ name: 'w', scopes: ['root'], apiKey: 'k' }] } } },
      '/vectorStore/inboundAuth/keys/0/scopes/0',
    ],
    [
      'a pool without a replica ceiling',
      { operator: { infraRules: { computePools: [{ name: 'cpu', kind: 'cpu' }] } } },
      '/operator/infraRules/computePools/0',
    ],
    ['a replica count as a string', { operator: { replicas: 'two' } }, '/operator/replicas'],
    [
      'an IRSA role that is not an ARN',
      { serviceAccount: { roleArn: 'my-role' } },
      '/serviceAccount/roleArn',
    ],
  ])('refuses %s, naming the value', (_name, overrides, path) => {
    expect(validate(merged(overrides))).toBe(false);
    expect(errorsOf(validate).join('\n')).toContain(path);
  });
});

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object'
        ? deepMerge(base[k] as Json, v as Json)
        : v;
  }
  return out;
}
