// Text analysis for full-text search: a value (string or []string) becomes the list of tokens
// BM25 and the token filters work on. The pipeline follows the service's order: split into
// words → drop words longer than max_token_length bytes → lowercase (unless case_sensitive) →
// drop stopwords → stem → fold to ASCII. `pre_tokenized_array` takes the array elements as the
// tokens, untouched.
//
// Tokenizers: word_v3/word_v4 split on Unicode (UAX #29) word boundaries through
// Intl.Segmenter, keeping only word-like segments ("don't", "e.g", "sea.com" stay whole);
// word_v0–word_v2 take runs of letters and digits (word_v2 splits ideographs apart).
import { createRequire } from 'node:module';
import type * as Snowball from 'snowball-stemmers';
import type { Stemmer } from 'snowball-stemmers';
import { badRequest } from '../errors.js';
import type { Value } from '../schema.js';
import { ENGLISH_STOPWORDS } from './stopwords.js';
import { greekStemmer, stopListFor, type StopList } from './languages.js';
import type { FtsConfig } from './config.js';

let segmenter: Intl.Segmenter | undefined;
const ALNUM_RUN = /[\p{L}\p{N}\p{M}]+/gu;
const IDEOGRAPH = /\p{Ideographic}/u;

// The stemmer package (~0.9 MB of JavaScript) is loaded on the first stemming attribute, so a
// store that never stems never pays for it.
const stemmers = new Map<string, Stemmer>();
let snowball: typeof Snowball | undefined;
function stemmerFor(language: string): Stemmer {
  let s = stemmers.get(language);
  if (!s && language === 'greek') stemmers.set(language, (s = greekStemmer()));
  if (!s) {
    snowball ??= createRequire(import.meta.url)('snowball-stemmers') as typeof Snowball;
    stemmers.set(language, (s = snowball.newStemmer(language)));
  }
  return s;
}

/** Splits text into raw word tokens with the given tokenizer (no filters applied). */
export function splitWords(text: string, tokenizer: FtsConfig['tokenizer']): string[] {
  if (tokenizer === 'word_v3' || tokenizer === 'word_v4') {
    const out: string[] = [];
    segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
    for (const seg of segmenter.segment(text)) if (seg.isWordLike) out.push(seg.segment);
    return out;
  }
  const runs = text.match(ALNUM_RUN) ?? [];
  if (tokenizer !== 'word_v2') return runs;
  // word_v2: each ideograph is a token of its own.
  return runs.flatMap((r) =>
    IDEOGRAPH.test(r) ? (r.match(/\p{Ideographic}|[^\p{Ideographic}]+/gu) ?? []) : [r],
  );
}

/** Folds letters with diacritics to their ASCII base (à → a, ß → ss). */
export function asciiFold(token: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(token)) return token;
  return token
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/Æ/g, 'AE')
    .replace(/ø/g, 'o')
    .replace(/Ø/g, 'O')
    .replace(/œ/g, 'oe')
    .replace(/Œ/g, 'OE')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D');
}

export class Analyzer {
  private readonly stemmer: Stemmer | undefined;
  private readonly stopwords: StopList | undefined;
  readonly preTokenized: boolean;

  constructor(readonly config: FtsConfig) {
    this.preTokenized = config.tokenizer === 'pre_tokenized_array';
    this.stemmer = config.stemming && !this.preTokenized ? stemmerFor(config.language) : undefined;
    this.stopwords =
      !config.remove_stopwords || this.preTokenized
        ? undefined
        : config.language === 'english'
          ? ENGLISH_STOPWORDS
          : stopListFor(config.language);
  }

  /** Tokens of one word after the filters, or undefined when the word is dropped. */
  private filter(word: string): string | undefined {
    const c = this.config;
    if (word.length * 3 > c.max_token_length && Buffer.byteLength(word, 'utf8') > c.max_token_length)
      return undefined;
    let t = c.case_sensitive ? word : word.toLowerCase();
    if (this.stopwords?.has(t.replace(/\u2019/g, "'"))) return undefined;
    if (this.stemmer) t = this.stemmer.stem(t);
    if (c.ascii_folding) t = asciiFold(t);
    return t.length > 0 ? t : undefined;
  }

  /** Tokens of a stored value, in order. Arrays are analyzed element by element. */
  analyze(value: Value | undefined): string[] {
    if (value === null || value === undefined) return [];
    if (this.preTokenized) {
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    }
    const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    const out: string[] = [];
    for (const text of texts) {
      if (typeof text !== 'string') continue;
      for (const word of splitWords(text, this.config.tokenizer)) {
        const t = this.filter(word);
        if (t !== undefined) out.push(t);
      }
    }
    return out;
  }

  /**
   * Tokens of a query operand: a string, or (for `pre_tokenized_array`) an array of tokens.
   * `what` names the place for the error, e.g. `rank_by field "content"`.
   */
  queryTokens(operand: unknown, what: string): string[] {
    checkQueryLength(operand, what);
    if (this.preTokenized) {
      if (!Array.isArray(operand) || !operand.every((t) => typeof t === 'string'))
        throw badRequest(`invalid input ${showOperand(operand)} for ${what}, expecting []string`);
      return operand as string[];
    }
    if (typeof operand === 'string') return this.analyze(operand);
    if (Array.isArray(operand) && operand.every((t) => typeof t === 'string')) {
      // A token array on a word tokenizer: each element is analyzed like text.
      return this.analyze(operand as string[]);
    }
    throw badRequest(`invalid input ${showOperand(operand)} for ${what}, expecting string`);
  }
}

/**
 * The service's limit on a full-text query (limits page: "Max full-text query length 1,024";
 * 8,192 is the figure it lists as observed), in UTF-8 bytes; a token array counts as its
 * tokens joined by spaces. It holds for BM25 ranking and the token filters alike.
 */
const MAX_QUERY_BYTES = 1_024;

function checkQueryLength(operand: unknown, what: string): void {
  let bytes = 0;
  if (typeof operand === 'string') bytes = Buffer.byteLength(operand);
  else if (Array.isArray(operand))
    operand.forEach(
      (t, i) => (bytes += (i > 0 ? 1 : 0) + (typeof t === 'string' ? Buffer.byteLength(t) : 0)),
    );
  if (bytes > MAX_QUERY_BYTES)
    throw badRequest(
      `${what}: the full-text query is ${bytes} bytes; the limit is ${MAX_QUERY_BYTES} bytes per query. Shorten the query to its most distinctive terms`,
    );
}

function showOperand(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
