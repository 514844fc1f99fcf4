// Derived names, task queues, workflow IDs and the RFC 7386 merge patch.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelValue, shortHash, truncateWithHash, workloadObjectName } from '../../../src/operator/names.js';
import { mergePatch } from '../../../src/operator/merge-patch.js';
import {
  functionTaskQueue,
  functionWorkflowId,
  pipelineTaskQueue,
  pipelineWorkflowId,
} from '../../../packages/worker/src/contracts/names.js';
import { queueDepthPath, queueDepthUrl } from '../../../src/contracts/queue-depth.js';

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const crName = fc.stringMatching(
  /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?){0,5}$/,
);

describe('workloadObjectName', () => {
  it.each([
    // Short names are kept readable: prefix + name.
    { row: 'short Function', kind: 'Function', name: 'tag-products', out: 'layer-fn-tag-products' },
    // The prefix keeps a Pipeline and a Function of the same name apart.
    { row: 'short Pipeline', kind: 'Pipeline', name: 'tag-products', out: 'layer-pl-tag-products' },
  ] as const)('$row', ({ kind, name, out }) => {
    expect(workloadObjectName(kind, name)).toBe(out);
  });

  it('is always a DNS-1035 label of at most 63 chars (property)', () => {
    fc.assert(
      fc.property(crName, fc.constantFrom('Function' as const, 'Pipeline' as const), (name, kind) => {
        const n = workloadObjectName(kind, name);
        return n.length <= 63 && DNS_1035.test(n);
      }),
    );
  });

  it('separates a pair of long names whose 32-bit FNV-1a hashes collide (found in under a second)', () => {
    // `layer-fn-xxx…82vu` and `layer-fn-xxx…juea` have the same FNV-1a-32 hash; they got one Deployment.
    const long = 'x'.repeat(80);
    const a = workloadObjectName('Function', `${long}82vu`);
    const b = workloadObjectName('Function', `${long}juea`);
    expect(a).not.toBe(b);
    expect(shortHash('anything')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('distinguishes names that differ only in a dot or only after the truncation point', () => {
    expect(workloadObjectName('Function', 'a.b')).not.toBe(workloadObjectName('Function', 'a-b'));
    const long = 'x'.repeat(80);
    expect(workloadObjectName('Function', `${long}1`)).not.toBe(workloadObjectName('Function', `${long}2`));
  });
});

describe('labelValue and truncateWithHash', () => {
  it('keeps values that fit and truncates the rest with a stable hash', () => {
    expect(labelValue('tag-products')).toBe('tag-products');
    const v = labelValue(`${'a'.repeat(60)}.-${'b'.repeat(10)}`);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(LABEL_VALUE);
    expect(labelValue(`${'a'.repeat(60)}.-${'b'.repeat(10)}`)).toBe(v);
  });

  it('never produces an invalid label value (property)', () => {
    fc.assert(
      fc.property(crName, (name) => LABEL_VALUE.test(labelValue(name)) && labelValue(name).length <= 63),
    );
  });

  it('shortHash is 16 hex chars (64 bits of SHA-256) and deterministic', () => {
    expect(shortHash('abc')).toMatch(/^[0-9a-f]{16}$/);
    expect(shortHash('abc')).toBe(shortHash('abc'));
    expect(truncateWithHash('abc', 63)).toBe('abc');
  });
});

describe('task queues, workflow IDs and the queue-depth URL', () => {
  it.each([
    // The documented spellings; workers and workflows depend on them byte for byte.
    {
      row: 'function task queue',
      got: functionTaskQueue('layer', 'tag-products'),
      want: 'layer-fn.layer.tag-products',
    },
    {
      row: 'pipeline task queue',
      got: pipelineTaskQueue('layer', 'product-images'),
      want: 'layer-pl.layer.product-images',
    },
    {
      row: 'function workflow id',
      got: functionWorkflowId('layer', 'tag-products'),
      want: 'function/layer/tag-products',
    },
    {
      row: 'pipeline workflow id',
      got: pipelineWorkflowId('layer', 'product-images'),
      want: 'pipeline/layer/product-images',
    },
    {
      row: 'function queue depth path',
      got: queueDepthPath('Function', 'layer', 'tag-products'),
      want: '/v1/queue-depth/functions/layer/tag-products',
    },
    {
      row: 'pipeline queue depth path',
      got: queueDepthPath('Pipeline', 'layer', 'p'),
      want: '/v1/queue-depth/pipelines/layer/p',
    },
    // A trailing slash on the base URL must not double the slash.
    {
      row: 'base URL trailing slash',
      got: queueDepthUrl('http://api:8080/', 'Function', 'n', 'f'),
      want: 'http://api:8080/v1/queue-depth/functions/n/f',
    },
  ])('$row', ({ got, want }) => {
    expect(got).toBe(want);
  });
});

describe('mergePatch follows RFC 7386', () => {
  // The test vectors of RFC 7386 Appendix A.
  it.each([
    { target: { a: 'b' }, patch: { a: 'c' }, result: { a: 'c' } },
    { target: { a: 'b' }, patch: { b: 'c' }, result: { a: 'b', b: 'c' } },
    { target: { a: 'b' }, patch: { a: null }, result: {} },
    { target: { a: 'b', b: 'c' }, patch: { a: null }, result: { b: 'c' } },
    { target: { a: ['b'] }, patch: { a: 'c' }, result: { a: 'c' } },
    { target: { a: 'c' }, patch: { a: ['b'] }, result: { a: ['b'] } },
    { target: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, result: { a: { b: 'd' } } },
    { target: { a: [{ b: 'c' }] }, patch: { a: [1] }, result: { a: [1] } },
    { target: ['a', 'b'], patch: ['c', 'd'], result: ['c', 'd'] },
    { target: { a: 'b' }, patch: ['c'], result: ['c'] },
    { target: { a: 'foo' }, patch: null, result: null },
    { target: { a: 'foo' }, patch: 'bar', result: 'bar' },
    { target: { e: null }, patch: { a: 1 }, result: { e: null, a: 1 } },
    { target: [1, 2], patch: { a: 'b', c: null }, result: { a: 'b' } },
    { target: {}, patch: { a: { bb: { ccc: null } } }, result: { a: { bb: {} } } },
  ])('$target + $patch', ({ target, patch, result }) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('does not mutate its inputs', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});
