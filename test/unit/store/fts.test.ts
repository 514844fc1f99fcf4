// The pure parts of full-text search: tokenizers, the analyzer's filters, the BM25 formula,
// the index's bookkeeping and the validation of full_text_search settings.
import { describe, expect, it } from 'vitest';
import { Analyzer, asciiFold, splitWords } from '../../../src/store/storage/fts/analyzer.js';
import { bm25Idf, bm25Tf, FtsIndex, queryTermWeight } from '../../../src/store/storage/fts/bm25.js';
import {
  FTS_DEFAULTS,
  ftsConfig,
  normalizedFts,
  parseFtsSetting,
  type FtsConfig,
} from '../../../src/store/storage/fts/config.js';

const analyzer = (cfg: Partial<FtsConfig> = {}): Analyzer => new Analyzer({ ...FTS_DEFAULTS, ...cfg });

describe('splitWords', () => {
  it.each<[FtsConfig['tokenizer'], string, string[], string]>([
    [
      'word_v4',
      "Don't stop, e.g. at sea.com!",
      ["Don't", 'stop', 'e.g', 'at', 'sea.com'],
      'UAX #29 keeps inner apostrophes and dots',
    ],
    ['word_v3', 'a-b c_d', ['a', 'b', 'c_d'], 'hyphen splits, underscore joins (ExtendNumLet)'],
    ['word_v4', '3.14 and 1,000', ['3.14', 'and', '1,000'], 'numbers keep their separators'],
    [
      'word_v1',
      "Don't stop, sea.com",
      ['Don', 't', 'stop', 'sea', 'com'],
      'legacy: runs of letters and digits',
    ],
    ['word_v0', 'café au lait', ['café', 'au', 'lait'], 'letters with diacritics are letters'],
    ['word_v2', '東京タワー', ['東', '京', 'タワー'], 'word_v2 splits ideographs apart'],
    ['word_v1', '東京タワー', ['東京タワー'], 'word_v1 keeps them in the run'],
  ])('%s: %j → %j (%s)', (tokenizer, text, expected) => {
    expect(splitWords(text, tokenizer)).toEqual(expected);
  });
});

describe('Analyzer', () => {
  it.each<[Partial<FtsConfig>, string, string[], string]>([
    [{}, 'The Quick FOX', ['the', 'quick', 'fox'], 'lowercases by default'],
    [{ case_sensitive: true }, 'The Quick FOX', ['The', 'Quick', 'FOX'], 'case_sensitive keeps case'],
    [{ remove_stopwords: true }, 'the fox and the hound', ['fox', 'hound'], 'Snowball English stop list'],
    [{ remove_stopwords: true }, "I'm here", [], 'contractions in the list are removed'],
    [
      { stemming: true },
      'running foxes generously',
      ['run', 'fox', 'generous'],
      'Snowball English (Porter2)',
    ],
    [{ stemming: true, language: 'german' }, 'Häuser', ['haus'], 'German stemmer'],
    [{ stemming: true, language: 'french' }, 'continuellement', ['continuel'], 'French stemmer'],
    [
      { remove_stopwords: true, language: 'french' },
      'Le chat et la souris',
      ['chat', 'souris'],
      'Snowball French stop list',
    ],
    [
      { remove_stopwords: true, language: 'german' },
      'Der Hund und die Katze',
      ['hund', 'katze'],
      'Snowball German stop list',
    ],
    [{ remove_stopwords: true, language: 'russian' }, 'Кошка и собака', ['кошка', 'собака'], 'Cyrillic'],
    [
      { remove_stopwords: true, stemming: true, language: 'spanish' },
      'Los gatos y los perros',
      ['gat', 'perr'],
      'stopwords are removed before stemming',
    ],
    [
      { stemming: true, language: 'greek' },
      'Οι άνθρωποι των ανθρώπων, ο Άνθρωπος',
      ['οι', 'ανθρωπ', 'των', 'ανθρωπ', 'ο', 'ανθρωπ'],
      'Greek: accents and case folded, inflections share a stem',
    ],
    [
      { stemming: true, language: 'greek' },
      'τραγούδια τραγουδιών',
      ['τραγουδ', 'τραγουδ'],
      'Greek plural nominative and genitive',
    ],
    [{ remove_stopwords: true, language: 'french' }, 'The cat', ['the', 'cat'], 'lists are per language'],
    [{ ascii_folding: true }, 'Crème Brûlée', ['creme', 'brulee'], 'folds after lowercasing'],
    [{ max_token_length: 4 }, 'café cats', ['cats'], 'bytes, as the docs say: café is 5 bytes'],
    [{ max_token_length: 3 }, 'café cat', ['cat'], 'longer tokens are dropped, not cut'],
  ])('%j on %j → %j (%s)', (cfg, text, expected) => {
    expect(analyzer(cfg).analyze(text)).toEqual(expected);
  });

  it('analyzes []string values element by element', () => {
    expect(analyzer().analyze(['Red Fox', 'blue'])).toEqual(['red', 'fox', 'blue']);
  });

  it('pre_tokenized_array takes elements as they are and only accepts array queries', () => {
    const a = analyzer({ tokenizer: 'pre_tokenized_array', case_sensitive: true });
    expect(a.analyze(['Self-Evident', 'the'])).toEqual(['Self-Evident', 'the']);
    expect(a.queryTokens(['x'], 'rank_by field "c"')).toEqual(['x']);
    expect(() => a.queryTokens('x', 'rank_by field "c"')).toThrow(
      `invalid input 'x' for rank_by field "c", expecting []string`,
    );
  });

  it('asciiFold leaves ASCII alone and maps the letters NFKD cannot', () => {
    expect(asciiFold('plain')).toBe('plain');
    expect(asciiFold('straße')).toBe('strasse');
    expect(asciiFold('Øre')).toBe('Ore');
  });
});

describe('BM25 formula', () => {
  it.each<[number, number, number]>([
    // [N, n, idf] with idf = ln(1 + (N - n + 0.5) / (n + 0.5))
    [4, 1, Math.log(1 + 3.5 / 1.5)],
    [4, 4, Math.log(1 + 0.5 / 4.5)],
    [1, 1, Math.log(1 + 0.5 / 1.5)],
  ])('idf(N=%i, n=%i)', (N, n, expected) => {
    expect(bm25Idf(N, n)).toBeCloseTo(expected, 12);
    expect(bm25Idf(N, n)).toBeGreaterThan(0);
  });

  it.each<[number, number, number, number, string]>([
    // [tf, |d|, avgdl, expected, why]
    [1, 4, 4, 1, 'an average-length document with one hit scores 1'],
    [2, 4, 4, (2 * 2.2) / (2 + 1.2), 'saturates with tf'],
    [1, 8, 4, 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2)), 'longer documents are penalized'],
    [0, 4, 4, 0, 'no hit, no score'],
  ])('tf part(tf=%i, |d|=%i, avgdl=%i) = %f (%s)', (tf, dl, avg, expected) => {
    expect(bm25Tf(tf, dl, avg, { k1: 1.2, b: 0.75 })).toBeCloseTo(expected, 12);
  });

  it('b = 0 ignores length; k3 weighs repeated query terms', () => {
    expect(bm25Tf(1, 100, 4, { k1: 1.2, b: 0 })).toBeCloseTo(1, 12);
    expect(queryTermWeight(1, 8)).toBe(1);
    expect(queryTermWeight(2, 8)).toBeCloseTo(18 / 10, 12);
  });
});

describe('FtsIndex', () => {
  it('keeps postings, lengths and the average in step with puts and removals', () => {
    const idx = new FtsIndex('t', 'true', true);
    const r1 = { t: 'a b a' };
    const r2 = { t: 'b c' };
    idx.update(1, undefined, r1);
    idx.update(2, undefined, r2);
    expect(idx.docCount).toBe(2);
    expect(idx.avgLength).toBe(2.5);
    expect(idx.postings.get('a')).toEqual(new Map([[1, 2]]));
    expect(idx.postings.get('b')).toEqual(
      new Map([
        [1, 1],
        [2, 1],
      ]),
    );
    idx.update(1, r1, { t: 'c' });
    expect(idx.postings.has('a')).toBe(false);
    expect(idx.avgLength).toBe(1.5);
    idx.update(2, r2, null);
    expect(idx.docCount).toBe(1);
    expect([...idx.score(['c'], false).keys()]).toEqual([1]);
    // A row without the attribute is not a document of the index.
    idx.update(3, undefined, { other: 'x' });
    expect(idx.docCount).toBe(1);
  });

  it('scores a prefix hit 1.0 on top of the exact terms', () => {
    const idx = new FtsIndex('t', 'true', true);
    idx.update(1, undefined, { t: 'walrus tusk' });
    idx.update(2, undefined, { t: 'walnut' });
    const s = idx.score(['wal'], true);
    expect(s).toEqual(
      new Map([
        [1, 1],
        [2, 1],
      ]),
    );
  });
});

describe('full_text_search settings', () => {
  it.each<[string, unknown, RegExp]>([
    ['int', true, /requires the string or \[\]string type/],
    ['string', { tokenizer: 'pre_tokenized_array' }, /valid attribute types: \[\]string/],
    [
      '[]string',
      { tokenizer: 'pre_tokenized_array', remove_stopwords: true },
      /cannot specify remove_stopwords/,
    ],
    ['[]string', { tokenizer: 'pre_tokenized_array', case_sensitive: false }, /case_sensitive=false/],
    ['[]string', { tokenizer: 'pre_tokenized_array', language: 'english' }, /cannot specify language/],
    [
      'string',
      { case_sensitive: true, remove_stopwords: true },
      /stopword removal is not supported when case/,
    ],
    [
      'string',
      { remove_stopwords: true, language: 'tamil' },
      /stopword removal is not supported for language: tamil/,
    ],
    [
      'string',
      { remove_stopwords: true, language: 'greek' },
      /stopword removal is not supported for language: greek/,
    ],
    ['string', { max_token_length: 255 }, /between 1 and 254/],
    ['string', { k3: -1 }, /k3 must be greater than zero/],
    ['string', { stemming: 'yes' }, /expected a boolean/],
    ['string', 'on', /expected a boolean or a configuration object/],
  ])('%s with %j is refused', (type, setting, message) => {
    expect(() => parseFtsSetting('body', type, setting)).toThrow(message);
  });

  it.each<[unknown, unknown, string]>([
    [true, true, 'true stays true'],
    [false, undefined, 'false turns it off'],
    [null, undefined, 'null turns it off'],
    [{ stemming: true, unknown_key: 1 }, { stemming: true }, 'unknown keys are dropped'],
  ])('%j is stored as %j (%s)', (setting, stored) => {
    expect(parseFtsSetting('body', 'string', setting)).toEqual(stored);
  });

  it('normalizes with the service defaults; pre-tokenized arrays are case-sensitive and language-less', () => {
    expect(normalizedFts(true)).toEqual({
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
    });
    expect(normalizedFts({ tokenizer: 'pre_tokenized_array' })).toMatchObject({
      case_sensitive: true,
      language: null,
      max_token_length: null,
    });
    expect(ftsConfig({ k1: 2 }).k1).toBe(2);
  });
});
