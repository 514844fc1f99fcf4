// BM25 over one full-text attribute: the scoring formula (pure functions) and the in-memory
// index that feeds it (postings: token → document → term frequency, plus each document's
// token count). The index is built the first time a query needs it and then kept in step with
// every write; a namespace that never runs a full-text query never builds one.
//
//   score(d, q) = Σ_t  w(qtf_t) · idf(t) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|d|/avgdl))
//   idf(t)      = ln(1 + (N − n_t + 0.5) / (n_t + 0.5))
//   w(qtf)      = qtf·(k3 + 1) / (qtf + k3)            (1 for a term the query names once)
//
// N counts the documents that hold the attribute, n_t those holding term t, |d| is the
// document's token count after analysis (stopwords removed) and avgdl its mean over N.
import type { Id } from '../ids.js';
import type { Row } from '../schema.js';
import { Analyzer } from './analyzer.js';
import { ftsConfig, type FtsConfig } from './config.js';

export interface Bm25Params {
  k1: number;
  b: number;
}

/** Inverse document frequency (the Lucene form, never negative). */
export function bm25Idf(docCount: number, docFreq: number): number {
  return Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
}

/** Term-frequency part of BM25 for one term in one document. */
export function bm25Tf(tf: number, docLength: number, avgDocLength: number, p: Bm25Params): number {
  if (tf <= 0) return 0;
  const norm = avgDocLength > 0 ? 1 - p.b + (p.b * docLength) / avgDocLength : 1;
  return (tf * (p.k1 + 1)) / (tf + p.k1 * norm);
}

/** Weight of a term the query repeats `qtf` times. */
export function queryTermWeight(qtf: number, k3: number): number {
  return (qtf * (k3 + 1)) / (qtf + k3);
}

export interface DocTerms {
  /** The row these terms were computed from; a different object means they are stale. */
  row: Row;
  terms: Map<string, number>;
  length: number;
}

export class FtsIndex {
  readonly analyzer: Analyzer;
  readonly config: FtsConfig;
  readonly docs = new Map<Id, DocTerms>();
  readonly postings = new Map<string, Map<Id, number>>();
  totalLength = 0;

  constructor(
    readonly attr: string,
    /** Identity of the schema setting this index was built for. */
    readonly key: string,
    setting: boolean | Record<string, unknown>,
  ) {
    this.config = ftsConfig(setting);
    this.analyzer = new Analyzer(this.config);
  }

  get docCount(): number {
    return this.docs.size;
  }

  get avgLength(): number {
    return this.docs.size === 0 ? 0 : this.totalLength / this.docs.size;
  }

  /** Moves document `id` from `before` to `after` (either may be absent). */
  update(id: Id, before: Row | undefined, after: Row | null | undefined): void {
    const oldValue = before?.[this.attr];
    const newValue = after?.[this.attr];
    const old = this.docs.get(id);
    if (old && after && old.row === after) return;
    if (old && oldValue === newValue && after) {
      old.row = after;
      return;
    }
    if (old) {
      for (const t of old.terms.keys()) {
        const p = this.postings.get(t);
        if (p) {
          p.delete(id);
          if (p.size === 0) this.postings.delete(t);
        }
      }
      this.totalLength -= old.length;
      this.docs.delete(id);
    }
    if (!after || newValue === undefined || newValue === null) return;
    const tokens = this.analyzer.analyze(newValue);
    const terms = new Map<string, number>();
    for (const t of tokens) terms.set(t, (terms.get(t) ?? 0) + 1);
    for (const [t, tf] of terms) {
      let p = this.postings.get(t);
      if (!p) this.postings.set(t, (p = new Map()));
      p.set(id, tf);
    }
    this.docs.set(id, { row: after, terms, length: tokens.length });
    this.totalLength += tokens.length;
  }

  /**
   * BM25 scores of every document matching at least one query token. With `lastAsPrefix`, the
   * last token matches any term it is a prefix of and contributes 1.0 (the service's rule).
   */
  score(tokens: string[], lastAsPrefix: boolean): Map<Id, number> {
    const scores = new Map<Id, number>();
    const exact = lastAsPrefix ? tokens.slice(0, -1) : tokens;
    const qtf = new Map<string, number>();
    for (const t of exact) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const n = this.docCount;
    const avg = this.avgLength;
    for (const [t, count] of qtf) {
      const posting = this.postings.get(t);
      if (!posting) continue;
      const weight = queryTermWeight(count, this.config.k3) * bm25Idf(n, posting.size);
      for (const [id, tf] of posting) {
        const s = weight * bm25Tf(tf, this.docs.get(id)!.length, avg, this.config);
        scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
    const prefix = lastAsPrefix ? tokens[tokens.length - 1] : undefined;
    if (prefix !== undefined) {
      const hit = new Set<Id>();
      for (const [term, posting] of this.postings) {
        if (term.startsWith(prefix)) for (const id of posting.keys()) hit.add(id);
      }
      for (const id of hit) scores.set(id, (scores.get(id) ?? 0) + 1);
    }
    return scores;
  }
}
