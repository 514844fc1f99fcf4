// What one index discovery tick does (pure): an Index for each unclaimed store namespace, GC of
// discovered ones whose namespace is gone, and user-authored Index CRs never touched.
import { describe, expect, it } from 'vitest';
import {
  DISCOVERED_LABEL,
  discoveredIndexName,
  planIndexDiscovery,
} from '../../../src/operator/index-discovery.js';
import type { RawObject } from '../../../src/operator/reconcile-types.js';

const index = (name: string, opts: { ns?: string; spec?: string; discovered?: boolean } = {}): RawObject =>
  ({
    kind: 'Index',
    metadata: {
      name,
      namespace: opts.ns ?? 'layer',
      ...(opts.discovered ? { labels: { [DISCOVERED_LABEL]: 'true' } } : {}),
    },
    spec: opts.spec ? { namespace: opts.spec } : {},
  }) as RawObject;

describe('planIndexDiscovery', () => {
  it.each([
    {
      row: 'new namespaces get an Index each',
      store: ['products', 'docs'],
      indexes: [],
      gc: true,
      want: {
        create: [
          { name: 'docs', namespace: 'docs' },
          { name: 'products', namespace: 'products' },
        ],
        remove: [],
      },
    },
    {
      row: 'a namespace claimed by a user Index (by spec.namespace, any k8s namespace) is left alone',
      store: ['products'],
      indexes: [index('catalogue', { ns: 'team-a', spec: 'products' })],
      gc: true,
      want: { create: [], remove: [] },
    },
    {
      row: 'a discovered Index whose namespace was deleted upstream is removed with GC',
      store: ['docs'],
      indexes: [index('docs', { discovered: true }), index('gone', { discovered: true })],
      gc: true,
      want: { create: [], remove: ['gone'] },
    },
    {
      row: '… and kept without GC',
      store: ['docs'],
      indexes: [index('gone', { discovered: true }), index('docs', { discovered: true })],
      gc: false,
      want: { create: [], remove: [] },
    },
    {
      row: 'a user Index whose namespace is gone is never removed',
      store: [],
      indexes: [index('mine', { spec: 'deleted-ns' })],
      gc: true,
      want: { create: [], remove: [] },
    },
    {
      row: 'a user Index holding the name of a new namespace keeps it; that namespace waits',
      store: ['reports'],
      indexes: [index('reports', { spec: 'reports-2025' })],
      gc: true,
      want: { create: [], remove: [] },
    },
  ])('$row', ({ store, indexes, gc, want }) => {
    expect(planIndexDiscovery({ storeNamespaces: store, indexes, indexNamespace: 'layer', gc })).toEqual(
      want,
    );
  });
});

describe('discoveredIndexName', () => {
  it.each([
    { ns: 'products', want: 'products' },
    { ns: 'Products_2025', want: /^products-2025-[0-9a-f]{8}$/ },
    { ns: 'a.b', want: /^a-b-[0-9a-f]{8}$/ },
    { ns: '___', want: /^ns-[0-9a-f]{8}$/ },
    { ns: 'x'.repeat(100), want: /^x{54}-[0-9a-f]{8}$/ },
  ])('$ns', ({ ns, want }) => {
    const name = discoveredIndexName(ns);
    if (typeof want === 'string') expect(name).toBe(want);
    else expect(name).toMatch(want);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('names that only differ in what is cleaned do not collide', () => {
    expect(discoveredIndexName('foo_bar')).not.toBe(discoveredIndexName('foo-bar'));
    expect(discoveredIndexName('Foo')).not.toBe(discoveredIndexName('foo'));
  });
});
