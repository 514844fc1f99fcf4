// The filters the Function engine evaluates, built in one place so discovery, counting, the
// batch re-check and dead-letter replay agree on what "a row that still needs work" means.
// Pure and sandbox-safe (the workflow never evaluates them; activities and the CLI do).
import type { FunctionOutputSpec, WrittenSpan } from '../contracts/function.js';

export type Filter = unknown[];

/** `<attribute>_v`: the version attribute the seed's filter reads. */
export function versionAttribute(output: Pick<FunctionOutputSpec, 'attribute'>): string {
  return `${output.attribute}_v`;
}

/** `<attribute>_error`: set on a dead-lettered row (JSON: type, message, attempts, version, at). */
export function errorAttribute(output: Pick<FunctionOutputSpec, 'attribute'>): string {
  return `${output.attribute}_error`;
}

/**
 * Rows lacking this output version. Always part of discovery, even when the user's filter
 * already says so (as the seed's does), so a filter like `["category","Eq","shoes"]` cannot
 * make the engine recompute finished rows forever. Null means missing, hence the explicit Eq null.
 */
export function needsVersionFilter(output: Pick<FunctionOutputSpec, 'attribute' | 'version'>): Filter {
  const v = versionAttribute(output);
  return [
    'Or',
    [
      [v, 'NotEq', output.version],
      [v, 'Eq', null],
    ],
  ];
}

/** Rows the engine should (still) process: the user's filter ∧ lacking the version ∧ not dead-lettered. */
export function workFilter(output: FunctionOutputSpec, userFilter: unknown): Filter {
  const parts: unknown[] = [];
  if (userFilter !== undefined && userFilter !== null) parts.push(userFilter);
  parts.push(needsVersionFilter(output));
  parts.push([errorAttribute(output), 'Eq', null]);
  return ['And', parts];
}

/**
 * What discovery and the batch read select from the store. Without inputFingerprint it is the
 * work filter. With it, rows at the version may still need work (their inputs changed), which no
 * filter can say: the scan takes every row of the user's filter that is not dead-lettered, and
 * rowNeedsWork (input-fingerprint.ts) decides from the attributes the scan returned.
 */
export function candidateFilter(output: FunctionOutputSpec, userFilter: unknown): Filter {
  if (!output.inputFingerprint) return workFilter(output, userFilter);
  const parts: unknown[] = [];
  if (userFilter !== undefined && userFilter !== null) parts.push(userFilter);
  parts.push([errorAttribute(output), 'Eq', null]);
  return ['And', parts];
}

/** Dead-lettered rows, optionally narrowed by a further filter (`layer function replay --filter`). */
export function deadLetterFilter(output: FunctionOutputSpec, narrow?: unknown): Filter {
  const dead: Filter = [errorAttribute(output), 'NotEq', null];
  return narrow === undefined || narrow === null ? dead : ['And', [dead, narrow]];
}

/** The rows of one span of ids (docs/adr/0110): (after, last] or [from, last]. */
export function spanFilter(span: WrittenSpan): Filter {
  const upper = ['id', 'Lte', span.last];
  if (span.from !== undefined) return ['And', [['id', 'Gte', span.from], upper]];
  if (span.after === null || span.after === undefined) return upper;
  return ['And', [['id', 'Gt', span.after], upper]];
}

/** `filter` without the rows of `spans` (rows written that the store may not show yet). */
export function outsideSpans(filter: Filter, spans: readonly WrittenSpan[]): Filter {
  if (spans.length === 0) return filter;
  return ['And', [filter, ['Not', ['Or', spans.map(spanFilter)]]]];
}
