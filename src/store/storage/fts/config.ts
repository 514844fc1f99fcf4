// The `full_text_search` schema setting: validated when written, normalized when read. The
// defaults are the service's (client 2.8 docstrings, the docs' write page and a live schema
// fixture; see docs/adr/0041): BM25 k1 1.2, b 0.75, k3 8, tokenizer word_v4, english, no
// stemming, no stopword removal, case-insensitive, no ASCII folding, tokens up to 39 bytes.
import { badRequest, unprocessable } from '../errors.js';
import { LANGUAGES, LUNR_STOPWORD_LANGUAGES, type Language } from './languages.js';

const TOKENIZERS = ['pre_tokenized_array', 'word_v0', 'word_v1', 'word_v2', 'word_v3', 'word_v4'] as const;

export type Tokenizer = (typeof TOKENIZERS)[number];

/** A `full_text_search` setting with every default filled in. */
export interface FtsConfig {
  tokenizer: Tokenizer;
  language: Language;
  stemming: boolean;
  remove_stopwords: boolean;
  case_sensitive: boolean;
  ascii_folding: boolean;
  max_token_length: number;
  k1: number;
  b: number;
  k3: number;
}

export const FTS_DEFAULTS: FtsConfig = {
  tokenizer: 'word_v4',
  language: 'english',
  stemming: false,
  remove_stopwords: false,
  case_sensitive: false,
  ascii_folding: false,
  max_token_length: 39,
  k1: 1.2,
  b: 0.75,
  k3: 8,
};

type Obj = Record<string, unknown>;

/** The effective configuration of a stored setting (`true` or a validated object). */
export function ftsConfig(raw: boolean | Obj): FtsConfig {
  const cfg: FtsConfig = { ...FTS_DEFAULTS, ...(typeof raw === 'object' ? (raw as Partial<FtsConfig>) : {}) };
  if (cfg.tokenizer === 'pre_tokenized_array') cfg.case_sensitive = true;
  return cfg;
}

/** The normalized object `GET …/schema` and metadata show for an enabled attribute. */
export function normalizedFts(raw: boolean | Obj): Obj {
  const cfg = ftsConfig(raw);
  const pre = cfg.tokenizer === 'pre_tokenized_array';
  return {
    k1: cfg.k1,
    b: cfg.b,
    k3: cfg.k3,
    language: pre ? null : cfg.language,
    stemming: cfg.stemming,
    remove_stopwords: cfg.remove_stopwords,
    case_sensitive: cfg.case_sensitive,
    ascii_folding: cfg.ascii_folding,
    max_token_length: pre ? null : cfg.max_token_length,
    tokenizer: cfg.tokenizer,
  };
}

/**
 * Validates the `full_text_search` value of one schema entry. Returns the value to store
 * (`true` or the given object, unknown keys dropped), or undefined when it turns FTS off.
 * Shape errors (wrong JSON types, unknown variants) are 422; impossible combinations are 400,
 * with the service's wording where it is known.
 */
export function parseFtsSetting(attr: string, type: string, raw: unknown): boolean | Obj | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  const where = `schema.${attr}.full_text_search`;
  if (raw !== true && (typeof raw !== 'object' || Array.isArray(raw)))
    throw unprocessable(`${where}: expected a boolean or a configuration object`);
  if (type !== 'string' && type !== '[]string') {
    throw badRequest(`${where}: full-text search requires the string or []string type; '${attr}' is ${type}`);
  }
  if (raw === true) return true;
  const cfg = raw as Obj;
  const out: Obj = {};
  for (const [key, v] of Object.entries(cfg)) {
    if (v === undefined || v === null) continue;
    switch (key) {
      case 'tokenizer':
        if (typeof v !== 'string' || !(TOKENIZERS as readonly string[]).includes(v))
          throw unprocessable(
            `${where}.tokenizer: unknown variant \`${String(v)}\`, expected one of ${TOKENIZERS.map((t) => `\`${t}\``).join(', ')}`,
          );
        break;
      case 'language':
        if (typeof v !== 'string' || !(LANGUAGES as readonly string[]).includes(v))
          throw unprocessable(
            `${where}.language: unknown variant \`${String(v)}\`, expected one of ${LANGUAGES.map((l) => `\`${l}\``).join(', ')}`,
          );
        break;
      case 'stemming':
      case 'remove_stopwords':
      case 'case_sensitive':
      case 'ascii_folding':
        if (typeof v !== 'boolean') throw unprocessable(`${where}.${key}: expected a boolean`);
        break;
      case 'max_token_length':
        if (typeof v !== 'number' || !Number.isInteger(v))
          throw unprocessable(`${where}.max_token_length: expected an integer`);
        if (v < 1 || v > 254)
          throw badRequest(`${where}.max_token_length must be between 1 and 254, got ${v}`);
        break;
      case 'k1':
      case 'k3':
        if (typeof v !== 'number') throw unprocessable(`${where}.${key}: expected a number`);
        if (!(v > 0) || !Number.isFinite(v))
          throw badRequest(`${where}.${key} must be greater than zero, got ${v}`);
        break;
      case 'b':
        if (typeof v !== 'number') throw unprocessable(`${where}.b: expected a number`);
        if (!(v >= 0 && v <= 1)) throw badRequest(`${where}.b must be in the range [0.0, 1.0], got ${v}`);
        break;
      default:
        continue; // unknown keys are ignored, as the service does
    }
    out[key] = v;
  }
  checkCombination(where, type, out);
  return out;
}

function checkCombination(where: string, type: string, cfg: Obj): void {
  if (cfg.tokenizer === 'pre_tokenized_array') {
    if (type !== '[]string')
      throw badRequest(
        `${where}: full text search with tokenizer \`pre_tokenized_array\` does not support attribute type ${type} (valid attribute types: []string)`,
      );
    if (cfg.stemming === true)
      throw badRequest(`${where}: cannot specify stemming with \`pre_tokenized_array\` tokenizer`);
    if (cfg.remove_stopwords === true)
      throw badRequest(`${where}: cannot specify remove_stopwords with \`pre_tokenized_array\` tokenizer`);
    if (cfg.case_sensitive === false)
      throw badRequest(
        `${where}: cannot specify case_sensitive=false with \`pre_tokenized_array\` tokenizer`,
      );
    if (cfg.language !== undefined)
      throw badRequest(`${where}: cannot specify language with \`pre_tokenized_array\` tokenizer`);
    return;
  }
  if (cfg.case_sensitive === true) {
    if (cfg.stemming === true)
      throw badRequest(`${where}: stemming is not supported when case sensitivity is enabled`);
    if (cfg.remove_stopwords === true)
      throw badRequest(`${where}: stopword removal is not supported when case sensitivity is enabled`);
  }
  const language = (cfg.language as Language | undefined) ?? 'english';
  if (cfg.remove_stopwords === true && !STOPWORD_LANGUAGES.has(language))
    throw badRequest(`${where}: stopword removal is not supported for language: ${language}`);
  if (cfg.stemming === true && !STEMMING_LANGUAGES.has(language))
    throw badRequest(`${where}: stemming for language ${language} is not available in the embedded store`);
}

/**
 * Languages whose stopwords the embedded store can remove: the 13 Snowball stop lists (English
 * from fts/stopwords.ts, the others from lunr-languages, fts/languages.ts). The service refuses
 * the rest with this same message.
 */
const STOPWORD_LANGUAGES = new Set<Language>(['english', ...LUNR_STOPWORD_LANGUAGES]);

/** Languages the store can stem: snowball-stemmers' 17, and Greek from lunr-languages. */
const STEMMING_LANGUAGES = new Set<Language>(LANGUAGES);
