// Types for the `snowball-stemmers` package (a CommonJS port of the Snowball algorithms).
declare module 'snowball-stemmers' {
  export interface Stemmer {
    stem(word: string): string;
  }
  export function newStemmer(language: string): Stemmer;
  export function algorithms(): string[];
}
