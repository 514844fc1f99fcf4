// Stopword lists for the Snowball languages other than English, and a Greek stemmer, both from
// `lunr-languages` (npm, MPL-1.1, no dependencies beyond `lunr`): its stop lists for these 12
// languages are Snowball's stop.txt lists (the ones the service's docs link), and it carries a
// Greek stemmer (the Ntais algorithm, which Snowball's Greek stemmer also implements), which
// `snowball-stemmers` lacks. English keeps the project's own copy of Snowball's list
// (stopwords.ts): lunr's built-in English list is a different one. Each language file is loaded
// on first use. See docs/adr/0045-fts-languages.md.
import { createRequire } from 'node:module';

/** The languages the service's full-text search accepts (`full_text_search.language`). */
export const LANGUAGES = [
  'arabic',
  'danish',
  'dutch',
  'english',
  'finnish',
  'french',
  'german',
  'greek',
  'hungarian',
  'italian',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'spanish',
  'swedish',
  'tamil',
  'turkish',
] as const;

export type Language = (typeof LANGUAGES)[number];

/** lunr-languages file code per language it supplies a Snowball stop list for. */
const STOPWORD_CODES: Partial<Record<Language, string>> = {
  danish: 'da',
  dutch: 'nl',
  finnish: 'fi',
  french: 'fr',
  german: 'de',
  hungarian: 'hu',
  italian: 'it',
  norwegian: 'no',
  portuguese: 'pt',
  russian: 'ru',
  spanish: 'es',
  swedish: 'sv',
};

/** The non-English languages whose stopwords can be removed. */
export const LUNR_STOPWORD_LANGUAGES = Object.keys(STOPWORD_CODES) as Language[];

interface LunrLike {
  [code: string]: unknown;
}
type TokenFn = (token: string) => string | undefined;

const require = createRequire(import.meta.url);
let lunr: LunrLike | undefined;

function language(code: string): Record<string, unknown> {
  if (!lunr) {
    const l = require('lunr') as LunrLike;
    (require('lunr-languages/lunr.stemmer.support') as (l: LunrLike) => void)(l);
    lunr = l;
  }
  if (!lunr[code]) (require(`lunr-languages/lunr.${code}`) as (l: LunrLike) => void)(lunr);
  return lunr[code] as Record<string, unknown>;
}

export interface StopList {
  has(word: string): boolean;
}

/** The stop list of `lang` (lower-case words), or undefined when there is none. */
export function stopListFor(lang: Language): StopList | undefined {
  const code = STOPWORD_CODES[lang];
  if (!code) return undefined;
  // lunr's filter returns the token unless it is a stop word.
  const filter = language(code).stopWordFilter as TokenFn;
  return { has: (word) => filter(word) === undefined };
}

/**
 * Greek stemming. Snowball's Greek stemmer first lower-cases and strips accents (final ς
 * becomes σ); the lunr stemmer expects that form in upper case. Output is lower case with σ.
 */
export function greekStemmer(): { stem(word: string): string } {
  const stem = language('el').stemmer as TokenFn;
  return {
    stem(word) {
      const plain = word
        .normalize('NFD')
        .replace(/\p{M}+/gu, '')
        .toLowerCase()
        .replace(/ς/g, 'σ');
      return (stem(plain) ?? plain).replace(/ς/g, 'σ');
    },
  };
}
