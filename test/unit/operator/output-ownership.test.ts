// Output ownership (ADR 0070): one Function per output attribute (with its companions) and store
// namespace, across Kubernetes namespaces; the oldest owns it, then the smallest namespace/name.
import { describe, expect, it } from 'vitest';
import { OUTPUT_COMPANION_SUFFIXES, ownedAttributes } from '../../../src/api/store-names.js';
import { claimPatch, FINALIZER } from '../../../src/operator/finalizer.js';
import {
  claimSelectors,
  conflictingAttributes,
  conflictMessage,
  OUTPUT_CLAIM_LABEL,
  outputClaimLabel,
  outputConflict,
  type OutputClaim,
} from '../../../src/operator/output-ownership.js';
import { functionsSharingOutput } from '../../../src/operator/watch-rules.js';

const T1 = '2026-12-01T00:00:00Z';
const T2 = '2026-12-02T00:00:00Z';

function claim(
  ns: string,
  name: string,
  at: string | undefined,
  attribute: string,
  targets = ['products'],
): OutputClaim {
  return { namespace: ns, name, creationTimestamp: at, storeNamespaces: targets, attribute };
}

describe('outputConflict', () => {
  it.each<[string, OutputClaim, OutputClaim[], string | undefined]>([
    // The first writer keeps its attribute; nothing older claims it.
    ['the older Function owns', claim('a', 'tag', T1, 'tags'), [claim('b', 'tag', T2, 'tags')], undefined],
    // Different Kubernetes namespaces do not separate store attributes.
    [
      'the younger one in another k8s namespace is refused',
      claim('b', 'tag', T2, 'tags'),
      [claim('a', 'tag', T1, 'tags')],
      'a/tag',
    ],
    // Same creation second: the smaller namespace/name owns, so every pass agrees.
    [
      'a tie goes to the smaller namespace/name',
      claim('b', 'tag', T1, 'tags'),
      [claim('a', 'zz', T1, 'tags')],
      'a/zz',
    ],
    [
      'and the smaller one owns in the tie',
      claim('a', 'zz', T1, 'tags'),
      [claim('b', 'tag', T1, 'tags')],
      undefined,
    ],
    // tags_v is the older Function's version companion.
    [
      'an output named like another’s companion conflicts',
      claim('b', 'v', T2, 'tags_v'),
      [claim('a', 'tag', T1, 'tags')],
      'a/tag',
    ],
    ['and the other way round', claim('b', 'tag', T2, 'tags'), [claim('a', 'x', T1, 'tags__canary')], 'a/x'],
    // The store namespace is part of the key.
    [
      'other store namespaces share nothing',
      claim('b', 'tag', T2, 'tags', ['orders']),
      [claim('a', 'tag', T1, 'tags')],
      undefined,
    ],
    [
      'one shared namespace is enough',
      claim('b', 'tag', T2, 'tags', ['orders', 'products']),
      [claim('a', 'tag', T1, 'tags')],
      'a/tag',
    ],
    [
      'different attributes share nothing',
      claim('b', 'tag', T2, 'labels'),
      [claim('a', 'tag', T1, 'tags')],
      undefined,
    ],
    // The Function itself in the list (the cluster-wide list includes it) is no conflict.
    ['itself is no conflict', claim('a', 'tag', T1, 'tags'), [claim('a', 'tag', T1, 'tags')], undefined],
    // A Function without a creationTimestamp (not yet stored) sorts last.
    [
      'no creationTimestamp sorts last',
      claim('a', 'a', undefined, 'tags'),
      [claim('z', 'z', T2, 'tags')],
      'z/z',
    ],
  ])('%s', (_, me, others, owner) => {
    const c = outputConflict(me, others);
    expect(c ? `${c.owner.namespace}/${c.owner.name}` : undefined).toBe(owner);
  });

  it('the message names the owner, the namespace, the shared attributes and the fix', () => {
    const me = claim('b', 'tag', T2, 'tags');
    const c = outputConflict(me, [claim('a', 'tag', T1, 'tags')])!;
    expect(conflictMessage(me, c)).toBe(
      'output.attribute tags in store namespace products is already written by Function a/tag (attribute tags; ' +
        'shared: tags, tags__canary, tags__canary_error, tags__canary_v, tags_error, tags_fp, tags_v); ' +
        'one Function per output attribute and namespace, the oldest owns it — choose another output.attribute ' +
        '(e.g. tags_2) or delete one of them',
    );
  });
});

describe('functionsSharingOutput', () => {
  it('requeues the other writers of an attribute, in any namespace, not itself', () => {
    const fn = (ns: string, name: string, attribute: string) => ({
      kind: 'Function',
      metadata: { namespace: ns, name },
      spec: { output: { attribute }, targetNamespaces: ['products'] },
    });
    expect(
      functionsSharingOutput(fn('a', 'tag', 'tags'), [
        fn('a', 'tag', 'tags'),
        fn('b', 'tag', 'tags'),
        fn('c', 'v', 'tags_v'),
        fn('d', 'x', 'labels'),
      ]),
    ).toEqual([
      { kind: 'Function', namespace: 'b', name: 'tag' },
      { kind: 'Function', namespace: 'c', name: 'v' },
    ]);
  });

  it('leaves alone the writers of the same attribute in other store namespaces', () => {
    const fn = (name: string, targets?: string[], selector = false) => ({
      kind: 'Function',
      metadata: { namespace: 'a', name },
      spec: {
        output: { attribute: 'embedding' },
        ...(targets ? { targetNamespaces: targets } : {}),
        ...(selector ? { indexSelector: { matchLabels: { team: 'x' } } } : {}),
      },
    });
    expect(
      functionsSharingOutput(fn('me', ['docs-1']), [
        fn('other-ns', ['docs-2']),
        fn('overlap', ['docs-2', 'docs-1']),
        fn('by-selector', undefined, true),
      ]).map((r) => r.name),
    ).toEqual(['overlap', 'by-selector']);
    // A Function that selects Indexes may write anywhere: it requeues every writer.
    expect(
      functionsSharingOutput(fn('sel', undefined, true), [fn('x', ['docs-9'])]).map((r) => r.name),
    ).toEqual(['x']);
  });
});

describe('output claim label (ADR 0114)', () => {
  const overlap = (a: string, b: string) => ownedAttributes(a).some((x) => ownedAttributes(b).includes(x));

  it('conflictingAttributes names exactly the attributes whose owned sets meet', () => {
    expect(conflictingAttributes('tags')).toEqual(
      [
        'tags',
        'tags_v',
        'tags_error',
        'tags_fp',
        'tags__canary',
        'tags__canary_v',
        'tags__canary_error',
      ].sort(),
    );
    // The other way round too: `tags` owns `tags__canary_v`.
    expect(conflictingAttributes('tags__canary_v')).toEqual(
      expect.arrayContaining(['tags', 'tags__canary', 'tags__canary_v']),
    );
    // Every attribute built from a stem and suffixes, against every other: listed iff they overlap.
    const suffixes = ['', ...OUTPUT_COMPANION_SUFFIXES];
    const names = ['t', 't_v', 'x'].flatMap((stem) => suffixes.map((s) => stem + s));
    for (const a of names)
      for (const b of names) expect(conflictingAttributes(a).includes(b), `${a} / ${b}`).toBe(overlap(a, b));
  });

  it('claimSelectors select the conflicting claims and the Functions not labelled yet', () => {
    const [claimants, unlabelled] = claimSelectors('tags');
    expect(unlabelled).toBe(`!${OUTPUT_CLAIM_LABEL}`);
    expect(claimants).toMatch(new RegExp(`^${OUTPUT_CLAIM_LABEL} in \\([0-9a-f,]+\\)$`));
    expect(claimants).toContain(outputClaimLabel('tags_v'));
    expect(claimants).not.toContain(outputClaimLabel('labels'));
    // A valid label value whatever the attribute (one may start with `_`).
    expect(outputClaimLabel('_x')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('claimPatch adds what is missing under the resourceVersion, and nothing when all is there', () => {
    const obj = { metadata: { resourceVersion: '7', finalizers: ['other/f'], labels: { team: 'x' } } };
    const label = { [OUTPUT_CLAIM_LABEL]: 'abc' };
    expect(claimPatch(obj, label)).toEqual({
      metadata: { resourceVersion: '7', finalizers: ['other/f', FINALIZER], labels: label },
    });
    const done = { metadata: { ...obj.metadata, finalizers: [FINALIZER], labels: { ...label } } };
    expect(claimPatch(done, label)).toBeUndefined();
    expect(claimPatch(done, { [OUTPUT_CLAIM_LABEL]: 'def' })).toEqual({
      metadata: { resourceVersion: '7', labels: { [OUTPUT_CLAIM_LABEL]: 'def' } },
    });
  });
});
