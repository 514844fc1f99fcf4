// Full-text search through the official client: BM25 scores checked against the formula
// computed here by hand, the combinators, tokenizer options, token filters and the errors.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Turbopuffer } from '@turbopuffer/turbopuffer';
import type { Namespace } from '@turbopuffer/turbopuffer/resources/namespaces';
import { startStoreServer } from '../../../src/store/server.js';
import { startHarness, uniqueNamespace, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.server.close();
});

// Turbopuffer's defaults (docs: write#param-full_text_search).
const K1 = 1.2;
const B = 0.75;
const K3 = 8;

/** BM25 of `query` over a corpus of already-tokenized documents, written out by hand. */
function bm25(corpus: Record<number, string[]>, query: string[]): Map<number, number> {
  const docs = Object.entries(corpus).map(([id, tokens]) => ({ id: Number(id), tokens }));
  const N = docs.length;
  const avgdl = docs.reduce((s, d) => s + d.tokens.length, 0) / N;
  const qtf = new Map<string, number>();
  for (const t of query) qtf.set(t, (qtf.get(t) ?? 0) + 1);
  const scores = new Map<number, number>();
  for (const d of docs) {
    let score = 0;
    for (const [term, q] of qtf) {
      const n = docs.filter((x) => x.tokens.includes(term)).length;
      const tf = d.tokens.filter((t) => t === term).length;
      if (tf === 0) continue;
      const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5));
      const tfPart = (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * d.tokens.length) / avgdl));
      const queryWeight = (q * (K3 + 1)) / (q + K3);
      score += queryWeight * idf * tfPart;
    }
    if (score > 0) scores.set(d.id, score);
  }
  return scores;
}

function ranked(scores: Map<number, number>): { id: number; $dist: number }[] {
  return [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id, $dist]) => ({ id, $dist }));
}

function expectRows(actual: unknown[] | undefined, expected: { id: number; $dist: number }[]): void {
  expect(actual?.map((r) => (r as { id: number }).id)).toEqual(expected.map((r) => r.id));
  expected.forEach((e, i) => expect((actual![i] as { $dist: number }).$dist).toBeCloseTo(e.$dist, 10));
}

const TEXTS: Record<number, string> = {
  1: 'The quick brown fox',
  2: 'the lazy dog',
  3: 'The quick dog jumps over the lazy fox',
  4: 'Fox! fox, FOX.',
  5: 'a cat',
};
// What the default analyzer makes of them: word_v4 words, lowercased, nothing removed.
const TOKENS: Record<number, string[]> = {
  1: ['the', 'quick', 'brown', 'fox'],
  2: ['the', 'lazy', 'dog'],
  3: ['the', 'quick', 'dog', 'jumps', 'over', 'the', 'lazy', 'fox'],
  4: ['fox', 'fox', 'fox'],
  5: ['a', 'cat'],
};

async function corpus(
  schema: Record<string, unknown> = { body: { type: 'string', full_text_search: true } },
) {
  const ns = h.tpuf.namespace(uniqueNamespace('fts'));
  await ns.write({
    upsert_rows: Object.entries(TEXTS).map(([id, body]) => ({ id: Number(id), body, n: Number(id) })),
    schema: schema as never,
  });
  return ns;
}

describe('BM25 ranking', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await corpus();
  });

  it.each([
    ['quick fox', ['quick', 'fox']],
    ['lazy', ['lazy']],
    ['FOX dog cat', ['fox', 'dog', 'cat']],
    // A repeated query term weighs (k3 + 1)·qtf / (k3 + qtf).
    ['fox fox', ['fox', 'fox']],
  ])('%j ranks and scores as the formula says', async (query, tokens) => {
    const res = await ns.query({ rank_by: ['body', 'BM25', query], top_k: 10 });
    expectRows(res.rows, ranked(bm25(TOKENS, tokens)));
  });

  it('leaves out documents scoring zero and honours top_k', async () => {
    expect((await ns.query({ rank_by: ['body', 'BM25', 'zebra'], top_k: 10 })).rows).toEqual([]);
    const two = await ns.query({ rank_by: ['body', 'BM25', 'quick fox'], top_k: 2 });
    expectRows(two.rows, ranked(bm25(TOKENS, ['quick', 'fox'])).slice(0, 2));
  });

  it('reproduces the docs example order [3, 1, 2]', async () => {
    const docs = h.tpuf.namespace(uniqueNamespace('fts-docs'));
    await docs.write({
      upsert_rows: [
        {
          id: 1,
          content: 'turbopuffer is a fast search engine with FTS, filtering, and vector search support',
        },
        {
          id: 2,
          content:
            'turbopuffer can store billions and billions of documents cheaper than any other search engine',
        },
        {
          id: 3,
          content:
            'turbopuffer will support many more types of queries as it evolves. turbopuffer will only get faster.',
        },
      ],
      schema: { content: { type: 'string', full_text_search: true } },
    });
    const all = await docs.query({ rank_by: ['content', 'BM25', 'turbopuffer'], limit: 10 });
    expect(all.rows?.map((r) => r.id)).toEqual([3, 1, 2]);
    const filtered = await docs.query({
      rank_by: ['content', 'BM25', 'turbopuffer'],
      filters: ['content', 'ContainsAllTokens', 'search engine'],
      limit: 10,
    });
    expect(filtered.rows?.map((r) => r.id)).toEqual([1, 2]);
  });

  it('projects attributes as any query does (include_attributes, exclude_attributes)', async () => {
    const inc = await ns.query({ rank_by: ['body', 'BM25', 'cat'], include_attributes: ['n'], top_k: 1 });
    expect(inc.rows).toEqual([{ id: 5, $dist: expect.any(Number), n: 5 }]);
    const exc = await ns.query({ rank_by: ['body', 'BM25', 'cat'], exclude_attributes: ['body'], top_k: 1 });
    expect(exc.rows).toEqual([{ id: 5, $dist: expect.any(Number), n: 5 }]);
  });

  it('combines with filters, including Not', async () => {
    const res = await ns.query({
      rank_by: ['body', 'BM25', 'fox'],
      filters: [
        'And',
        [
          ['n', 'Lte', 3],
          ['Not', ['body', 'ContainsAnyToken', 'brown']],
        ],
      ],
      top_k: 10,
    });
    const expected = ranked(bm25(TOKENS, ['fox'])).filter((r) => r.id === 3);
    expectRows(res.rows, expected);
  });

  it('works inside a multi-query', async () => {
    const res = await ns.multiQuery({
      queries: [
        { rank_by: ['body', 'BM25', 'fox'], top_k: 3 },
        { rank_by: ['n', 'desc'], top_k: 3 },
      ],
    });
    expect(res.results[0]?.rows?.map((r) => r.id)).toEqual(
      ranked(bm25(TOKENS, ['fox']))
        .slice(0, 3)
        .map((r) => r.id),
    );
  });
});

describe('combinators', () => {
  let ns: Namespace;
  const titles: Record<number, string[]> = {
    1: ['fox', 'story'],
    2: ['dog', 'story'],
    3: ['fox', 'and', 'dog'],
  };
  const bodies: Record<number, string[]> = {
    1: ['quick', 'fox'],
    2: ['lazy', 'dog', 'sleeps'],
    3: ['fox', 'fox', 'dog'],
  };
  beforeAll(async () => {
    ns = h.tpuf.namespace(uniqueNamespace('fts-comb'));
    await ns.write({
      upsert_rows: [1, 2, 3].map((id) => ({ id, title: titles[id]!.join(' '), body: bodies[id]!.join(' ') })),
      schema: {
        title: { type: 'string', full_text_search: true },
        body: { type: 'string', full_text_search: true },
      },
    });
  });
  const title = bm25(titles, ['fox']);
  const body = bm25(bodies, ['dog']);
  const merge = (a: Map<number, number>, b: Map<number, number>, f: (x: number, y: number) => number) => {
    const out = new Map<number, number>();
    for (const id of new Set([...a.keys(), ...b.keys()])) out.set(id, f(a.get(id) ?? 0, b.get(id) ?? 0));
    return out;
  };
  const scale = (a: Map<number, number>, w: number) => new Map([...a].map(([id, v]) => [id, v * w]));

  it.each<[string, unknown, Map<number, number>]>([
    [
      'Sum adds the clauses',
      [
        'Sum',
        [
          ['title', 'BM25', 'fox'],
          ['body', 'BM25', 'dog'],
        ],
      ],
      merge(title, body, (x, y) => x + y),
    ],
    [
      'Max takes the best clause',
      [
        'Max',
        [
          ['title', 'BM25', 'fox'],
          ['body', 'BM25', 'dog'],
        ],
      ],
      merge(title, body, Math.max),
    ],
    ['Product weight first', ['Product', 3, ['title', 'BM25', 'fox']], scale(title, 3)],
    ['Product weight last', ['Product', ['title', 'BM25', 'fox'], 0.5], scale(title, 0.5)],
    [
      'nested: Sum of a boosted title and the body',
      [
        'Sum',
        [
          ['Product', 2, ['title', 'BM25', 'fox']],
          ['body', 'BM25', 'dog'],
        ],
      ],
      merge(scale(title, 2), body, (x, y) => x + y),
    ],
    [
      'a bare filter ranks 1 where it matches',
      ['title', 'ContainsAnyToken', 'story'],
      new Map([
        [1, 1],
        [2, 1],
      ]),
    ],
    [
      'a filter inside rank_by scores 1 where it matches',
      [
        'Sum',
        [
          ['title', 'BM25', 'fox'],
          ['Product', 10, ['id', 'Eq', 2]],
        ],
      ],
      merge(title, new Map([[2, 10]]), (x, y) => x + y),
    ],
  ])('%s', async (_why, rankBy, expected) => {
    const res = await ns.query({ rank_by: rankBy as never, top_k: 10 });
    expectRows(res.rows, ranked(expected));
  });

  it('refuses operators the embedded store does not implement, naming them', async () => {
    await expect(
      ns.query({ rank_by: ['Saturate', ['Attribute', 'x'], { midpoint: 1 }] as never, top_k: 1 }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('Saturate operator is not supported'),
    });
    await expect(
      ns.query({ rank_by: ['Product', -1, ['title', 'BM25', 'fox']], top_k: 1 }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('non-negative'),
    });
  });
});

describe('tokenizer options', () => {
  it('stemming on and off', async () => {
    const texts = ['the fox jumps', 'jumping foxes', 'a jumper'];
    const write = async (stemming: boolean) => {
      const ns = h.tpuf.namespace(uniqueNamespace('fts-stem'));
      await ns.write({
        upsert_rows: texts.map((body, i) => ({ id: i + 1, body })),
        schema: { body: { type: 'string', full_text_search: { stemming } } },
      });
      return ns;
    };
    const off = await write(false);
    const on = await write(true);
    const ids = async (ns: Namespace, q: string) =>
      (await ns.query({ rank_by: ['body', 'BM25', q], top_k: 10 })).rows?.map((r) => r.id).sort();
    expect(await ids(off, 'jump')).toEqual([]);
    // Snowball English: jumps, jumping → jump; foxes → fox; jumper stays jumper.
    expect(await ids(on, 'jump')).toEqual([1, 2]);
    expect(await ids(on, 'fox')).toEqual([1, 2]);
    expect(await ids(off, 'fox')).toEqual([1]);
  });

  it('stopwords: removed words neither match nor count towards document length', async () => {
    const ns = await corpus({ body: { type: 'string', full_text_search: { remove_stopwords: true } } });
    expect((await ns.query({ rank_by: ['body', 'BM25', 'the'], top_k: 10 })).rows).toEqual([]);
    const res = await ns.query({ rank_by: ['body', 'BM25', 'the quick fox'], top_k: 10 });
    const stop = new Set(['the', 'a', 'over']);
    const tokens = Object.fromEntries(
      Object.entries(TOKENS).map(([id, t]) => [id, t.filter((x) => !stop.has(x))]),
    );
    expectRows(res.rows, ranked(bm25(tokens, ['quick', 'fox'])));
  });

  it('other languages: French stopwords, Greek stemming', async () => {
    const fr = h.tpuf.namespace(uniqueNamespace('fts-fr'));
    const frTexts = ['le chat et la souris', 'la maison', 'un chat noir'];
    await fr.write({
      upsert_rows: frTexts.map((body, i) => ({ id: i + 1, body })),
      schema: { body: { type: 'string', full_text_search: { language: 'french', remove_stopwords: true } } },
    });
    expect((await fr.query({ rank_by: ['body', 'BM25', 'la'], top_k: 10 })).rows).toEqual([]);
    const frRes = await fr.query({ rank_by: ['body', 'BM25', 'le chat'], top_k: 10 });
    expectRows(
      frRes.rows,
      ranked(bm25({ 1: ['chat', 'souris'], 2: ['maison'], 3: ['chat', 'noir'] }, ['chat'])),
    );

    const el = h.tpuf.namespace(uniqueNamespace('fts-el'));
    await el.write({
      upsert_rows: [
        { id: 1, body: 'Οι άνθρωποι τραγουδούν' },
        { id: 2, body: 'ένα τραγούδι' },
        { id: 3, body: 'η θάλασσα' },
      ],
      schema: { body: { type: 'string', full_text_search: { language: 'greek', stemming: true } } },
    });
    const ids = async (q: string) =>
      (await el.query({ rank_by: ['body', 'BM25', q], top_k: 10 })).rows?.map((r) => r.id);
    // Genitive plural, no accents, capitalised: all reach the stem of "άνθρωποι".
    expect(await ids('ΑΝΘΡΩΠΩΝ')).toEqual([1]);
    expect(await ids('άνθρωπος')).toEqual([1]);
    expect(await ids('θαλασσες')).toEqual([3]);
  });

  it('case sensitivity', async () => {
    const ns = await corpus({ body: { type: 'string', full_text_search: { case_sensitive: true } } });
    const ids = async (q: string) =>
      (await ns.query({ rank_by: ['body', 'BM25', q], top_k: 10 })).rows?.map((r) => r.id);
    expect(await ids('FOX')).toEqual([4]);
    expect(await ids('Fox')).toEqual([4]);
    expect((await ids('fox'))?.sort()).toEqual([1, 3, 4]);
    const insensitive = await corpus();
    const all = await insensitive.query({ rank_by: ['body', 'BM25', 'FOX'], top_k: 10 });
    expect(all.rows?.map((r) => r.id).sort()).toEqual([1, 3, 4]);
  });

  it('pre_tokenized_array takes the array elements as tokens, and only array queries', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-pre'));
    const content: Record<number, string[]> = {
      1: ['We', 'hold', 'these', 'truths', 'to', 'be', 'self-evident'],
      2: ['For', 'my', 'own', 'self', 'it', 'seemed', 'evident'],
    };
    await ns.write({
      upsert_columns: { id: [1, 2], content: [content[1]!, content[2]!] },
      schema: { content: { type: '[]string', full_text_search: { tokenizer: 'pre_tokenized_array' } } },
    });
    const res = await ns.query({ rank_by: ['content', 'BM25', ['self', 'evident']], top_k: 10 });
    expectRows(res.rows, ranked(bm25(content, ['self', 'evident'])));
    expect(
      (await ns.query({ rank_by: ['content', 'BM25', ['self-evident']], top_k: 10 })).rows?.map((r) => r.id),
    ).toEqual([1]);
    // Tokens are case-sensitive and never stemmed.
    expect((await ns.query({ rank_by: ['content', 'BM25', ['we']], top_k: 10 })).rows).toEqual([]);
    await expect(ns.query({ rank_by: ['content', 'BM25', 'self'], top_k: 10 })).rejects.toMatchObject({
      status: 400,
      // The client puts the JSON body in the message, so the quotes arrive escaped.
      message: expect.stringContaining(
        JSON.stringify(`invalid input 'self' for rank_by field "content", expecting []string`).slice(1, -1),
      ),
    });
  });

  it.each([
    // [tokenizer, text, query that matches]
    ['word_v4', "don't visit sea.com", "don't"],
    ['word_v4', "don't visit sea.com", 'sea.com'],
    ['word_v1', "don't visit sea.com", 'com'],
    ['word_v0', 'e.g. this', 'g'],
  ])('%s splits %j so that %j matches', async (tokenizer, text, query) => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-tok'));
    await ns.write({
      upsert_rows: [{ id: 1, body: text }],
      schema: { body: { type: 'string', full_text_search: { tokenizer: tokenizer as 'word_v4' } } },
    });
    expect((await ns.query({ rank_by: ['body', 'BM25', query], top_k: 1 })).rows?.map((r) => r.id)).toEqual([
      1,
    ]);
  });

  it('max_token_length drops longer tokens; ascii_folding folds diacritics', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-len'));
    await ns.write({
      upsert_rows: [{ id: 1, body: 'café supercalifragilistic' }],
      schema: { body: { type: 'string', full_text_search: { max_token_length: 10, ascii_folding: true } } },
    });
    const ids = async (q: string) =>
      (await ns.query({ rank_by: ['body', 'BM25', q], top_k: 1 })).rows?.map((r) => r.id);
    expect(await ids('cafe')).toEqual([1]);
    expect(await ids('supercalifragilistic')).toEqual([]);
  });

  it('changing the setting re-indexes existing documents', async () => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-update'));
    await ns.write({
      upsert_rows: [{ id: 1, body: 'running shoes' }],
      schema: { body: { type: 'string', full_text_search: true } },
    });
    expect((await ns.query({ rank_by: ['body', 'BM25', 'run'], top_k: 1 })).rows).toEqual([]);
    await ns.updateSchema({ schema: { body: { type: 'string', full_text_search: { stemming: true } } } });
    expect((await ns.query({ rank_by: ['body', 'BM25', 'run'], top_k: 1 })).rows?.map((r) => r.id)).toEqual([
      1,
    ]);
    // Later writes keep the index in step.
    await ns.write({ upsert_rows: [{ id: 2, body: 'he runs' }], deletes: [1] });
    expect((await ns.query({ rank_by: ['body', 'BM25', 'run'], top_k: 5 })).rows?.map((r) => r.id)).toEqual([
      2,
    ]);
  });
});

describe('token filters', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await corpus({ body: { type: 'string', full_text_search: true }, n: 'int' });
  });
  const ids = async (filters: unknown) =>
    (await ns.query({ rank_by: ['id', 'asc'], filters: filters as never, top_k: 10 })).rows?.map((r) => r.id);

  it.each<[string, unknown, number[]]>([
    ['ContainsAllTokens needs every token', ['body', 'ContainsAllTokens', 'quick fox'], [1, 3]],
    ['ContainsAllTokens ignores order and case', ['body', 'ContainsAllTokens', 'FOX Lazy'], [3]],
    ['ContainsAnyToken needs one', ['body', 'ContainsAnyToken', 'brown cat'], [1, 5]],
    ['ContainsTokenSequence needs adjacency and order', ['body', 'ContainsTokenSequence', 'lazy fox'], [3]],
    ['ContainsTokenSequence out of order', ['body', 'ContainsTokenSequence', 'fox lazy'], []],
    [
      'last_as_prefix on ContainsAllTokens',
      ['body', 'ContainsAllTokens', 'quick bro', { last_as_prefix: true }],
      [1],
    ],
    [
      'last_as_prefix on ContainsAnyToken',
      ['body', 'ContainsAnyToken', 'zebra ju', { last_as_prefix: true }],
      [3],
    ],
    ['Not inverts a token filter', ['Not', ['body', 'ContainsAnyToken', 'fox']], [2, 5]],
    ['Not twice is the filter', ['Not', ['Not', ['body', 'ContainsAnyToken', 'fox']]], [1, 3, 4]],
    ['token arrays are accepted as query input', ['body', 'ContainsAllTokens', ['quick', 'fox']], [1, 3]],
  ])('%s', async (_why, filter, expected) => {
    expect(await ids(filter)).toEqual(expected);
  });

  it('work with ordering by another attribute', async () => {
    const res = await ns.query({
      rank_by: ['n', 'desc'],
      filters: [
        'Or',
        [
          ['body', 'ContainsAllTokens', 'quick fox'],
          ['body', 'ContainsTokenSequence', 'a cat'],
        ],
      ],
      top_k: 10,
    });
    expect(res.rows?.map((r) => r.id)).toEqual([5, 3, 1]);
  });

  it('BM25 with last_as_prefix scores a prefix hit 1.0', async () => {
    const res = await ns.query({ rank_by: ['body', 'BM25', 'ca', { last_as_prefix: true }], top_k: 10 });
    expect(res.rows).toEqual([{ id: 5, $dist: 1 }]);
  });

  it('token filters need full_text_search; BM25 needs it too', async () => {
    await expect(ids(['n', 'ContainsAllTokens', 'x'])).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("needs full_text_search enabled on 'n'"),
    });
    await expect(ns.query({ rank_by: ['n', 'BM25', 'x'], top_k: 1 })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('not configured for full-text search'),
    });
  });
});

describe('schema', () => {
  it('normalizes full_text_search with the service defaults', async () => {
    const ns = await corpus({
      body: { type: 'string', full_text_search: true },
      tags: { type: '[]string', full_text_search: { tokenizer: 'pre_tokenized_array', k1: 2 } },
    });
    await ns.write({ upsert_rows: [{ id: 9, tags: ['a'] }] });
    const schema = await ns.schema();
    expect(schema.body).toEqual({
      type: 'string',
      filterable: false,
      full_text_search: {
        k1: 1.2,
        b: 0.75,
        k3: 8,
        language: 'english',
        stemming: false,
        remove_stopwords: false,
        case_sensitive: false,
        ascii_folding: false,
        max_token_length: 39,
        tokenizer: 'word_v4',
      },
    });
    expect(schema.tags?.full_text_search).toMatchObject({
      k1: 2,
      tokenizer: 'pre_tokenized_array',
      case_sensitive: true,
      language: null,
      max_token_length: null,
    });
  });

  it.each<[string, unknown, number, string]>([
    [
      'FTS on a non-string type',
      { type: 'int', full_text_search: true },
      400,
      'requires the string or []string type',
    ],
    [
      'pre_tokenized_array on a string',
      { type: 'string', full_text_search: { tokenizer: 'pre_tokenized_array' } },
      400,
      'does not support attribute type string (valid attribute types: []string)',
    ],
    [
      'pre_tokenized_array with stemming',
      { type: '[]string', full_text_search: { tokenizer: 'pre_tokenized_array', stemming: true } },
      400,
      'cannot specify stemming with `pre_tokenized_array` tokenizer',
    ],
    [
      'stemming with case sensitivity',
      { type: 'string', full_text_search: { case_sensitive: true, stemming: true } },
      400,
      'stemming is not supported when case sensitivity is enabled',
    ],
    [
      'b out of range',
      { type: 'string', full_text_search: { b: 2 } },
      400,
      'must be in the range [0.0, 1.0]',
    ],
    ['k1 not positive', { type: 'string', full_text_search: { k1: 0 } }, 400, 'k1 must be greater than zero'],
    [
      'unknown tokenizer',
      { type: 'string', full_text_search: { tokenizer: 'word_v9' } },
      422,
      'unknown variant `word_v9`',
    ],
    [
      'unknown language',
      { type: 'string', full_text_search: { language: 'klingon' } },
      422,
      'unknown variant `klingon`',
    ],
  ])('refuses %s', async (_why, entry, status, message) => {
    const ns = h.tpuf.namespace(uniqueNamespace('fts-bad'));
    await expect(
      ns.write({ upsert_rows: [{ id: 1 }], schema: { body: entry as never } }),
    ).rejects.toMatchObject({
      status,
      message: expect.stringContaining(message),
    });
    expect(await ns.exists()).toBe(false);
  });
});

describe('persistence', () => {
  it('a full-text namespace answers the same after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fts-persist-'));
    try {
      let server = await startStoreServer({ dataDir });
      let tpuf = new Turbopuffer({ apiKey: 'k', baseURL: server.url, region: null, maxRetries: 0 });
      await tpuf.namespace('docs').write({
        upsert_rows: Object.entries(TEXTS).map(([id, body]) => ({ id: Number(id), body })),
        schema: { body: { type: 'string', full_text_search: { stemming: true } } },
      });
      const before = await tpuf
        .namespace('docs')
        .query({ rank_by: ['body', 'BM25', 'jumping fox'], top_k: 10 });
      await server.close();
      server = await startStoreServer({ dataDir });
      tpuf = new Turbopuffer({ apiKey: 'k', baseURL: server.url, region: null, maxRetries: 0 });
      const after = await tpuf
        .namespace('docs')
        .query({ rank_by: ['body', 'BM25', 'jumping fox'], top_k: 10 });
      expect(after.rows).toEqual(before.rows);
      expect(after.rows?.length).toBeGreaterThan(0);
      await server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
