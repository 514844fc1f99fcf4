// The chaos run's verdict on one phase: values compared, not counts — every non-poison row at
// the final version with exactly the handler's value, dead letters exactly the poison rows with
// their error type, no write at a lower version after a higher one, every document exactly its
// current chunks. Beside the verdict (not part of it): how many rows the handler computed twice.
import type { StoreClient } from '../packages/worker/src/store/client.js';
import { findRegressions } from './fault-proxy.js';
import { countHandlerCalls, readHandlerCallLines } from './call-log.js';
import { callLogDir, type Cluster } from './processes.js';
import { FINAL_VERSION, retrying, ROWS } from './settings.js';
import { chunksOf, functionValue, isWrongDimension, itemText, OUTPUT, versionNumber } from './work.js';

export interface PhaseResult {
  seconds: number;
  rows: number;
  rows_wrong: number;
  rows_missing: number;
  dead_letters_expected: number;
  dead_letters_actual: number;
  dead_letters_wrong: number;
  regressions: number;
  docs: number;
  docs_wrong: number;
  /** Rows passed to successful handler calls (call-log.ts). */
  handler_calls: number;
  /** Of those, calls of a row at a version it had already been computed at. */
  duplicate_handler_calls: number;
  problems: string[];
}

export async function readAll(direct: StoreClient, namespace: string, attributes: string[]) {
  const out: Record<string, unknown>[] = [];
  let afterId: unknown = null;
  do {
    const page = await direct.scanPage({ namespace, afterId: afterId as never, limit: 10_000, attributes });
    out.push(...(page.rows as Record<string, unknown>[]));
    afterId = page.nextAfterId;
  } while (afterId !== null);
  return out;
}

export async function verdict(
  c: Cluster,
  fnNamespace: string,
  docNamespace: string,
  poison: Set<number>,
  revision: Map<string, number>,
): Promise<Omit<PhaseResult, 'seconds'>> {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const rows = await retrying('read rows', () =>
    readAll(c.direct, fnNamespace, [OUTPUT, `${OUTPUT}_v`, `${OUTPUT}_error`]),
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  let rowsWrong = 0;
  let rowsMissing = 0;
  let deadActual = 0;
  let deadWrong = 0;
  for (let id = 1; id <= ROWS; id++) {
    const row = byId.get(id);
    const error = row?.[`${OUTPUT}_error`];
    if (error != null) deadActual += 1;
    if (poison.has(id)) {
      const parsed =
        error == null ? undefined : (JSON.parse(String(error)) as { type?: string; message?: string });
      const expectedType = isWrongDimension(id, ROWS) ? 'InvalidWorkerOutput' : 'HandlerFailed';
      const expectedText = isWrongDimension(id, ROWS) ? 'output.dim is 4' : `chaos poison row ${id}`;
      if (!parsed || parsed.type !== expectedType || !String(parsed.message).includes(expectedText)) {
        deadWrong += 1;
        note(`poison row ${id}: expected a ${expectedType} dead letter, got ${String(error)}`);
      }
      if (row?.[OUTPUT] != null) {
        rowsWrong += 1;
        note(`poison row ${id} carries a value ${JSON.stringify(row[OUTPUT])}`);
      }
      continue;
    }
    if (!row || row[`${OUTPUT}_v`] == null) {
      rowsMissing += 1;
      note(`row ${id}: no output`);
      continue;
    }
    if (error != null) {
      deadWrong += 1;
      note(`row ${id} is not poison but was dead-lettered: ${String(error)}`);
    }
    const expected = functionValue(id, FINAL_VERSION);
    const actual = row[OUTPUT] as number[] | undefined;
    if (row[`${OUTPUT}_v`] !== FINAL_VERSION || JSON.stringify(actual) !== JSON.stringify(expected)) {
      rowsWrong += 1;
      note(
        `row ${id}: ${OUTPUT}=${JSON.stringify(actual)} @${String(row[`${OUTPUT}_v`])}, expected ${JSON.stringify(expected)} @${FINAL_VERSION}`,
      );
    }
  }
  const calls = countHandlerCalls(readHandlerCallLines(callLogDir(c.dir)), fnNamespace);
  const regressions = findRegressions(
    c.proxy.writes.filter((w) => w.namespace === fnNamespace),
    versionNumber,
  );
  if (regressions > 0) note(`${regressions} row writes at a lower version after a higher one`);

  // Every document has exactly the chunks of its current revision, and nothing else is there.
  const chunks = await retrying('read chunks', () => readAll(c.direct, docNamespace, ['text', 'source_key']));
  const got = new Map<string, string[]>();
  for (const ch of chunks) {
    const key = String(ch.source_key);
    got.set(key, [...(got.get(key) ?? []), String(ch.text)]);
  }
  let docsWrong = 0;
  for (const [key, rev] of revision) {
    const expected = chunksOf(itemText(key, rev)).sort();
    const actual = (got.get(key) ?? []).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      docsWrong += 1;
      note(
        `document ${key}: chunks ${JSON.stringify(actual)}, expected revision ${rev}: ${JSON.stringify(expected)}`,
      );
    }
    got.delete(key);
  }
  for (const key of got.keys()) {
    docsWrong += 1;
    note(`chunks for unknown document ${key}`);
  }
  return {
    rows: ROWS,
    rows_wrong: rowsWrong,
    rows_missing: rowsMissing,
    dead_letters_expected: poison.size,
    dead_letters_actual: deadActual,
    dead_letters_wrong: deadWrong,
    regressions,
    docs: revision.size,
    docs_wrong: docsWrong,
    handler_calls: calls.calls,
    duplicate_handler_calls: calls.duplicates,
    problems,
  };
}

export function passed(r: PhaseResult): boolean {
  return (
    r.rows_wrong === 0 &&
    r.rows_missing === 0 &&
    r.regressions === 0 &&
    r.dead_letters_wrong === 0 &&
    r.dead_letters_actual === r.dead_letters_expected &&
    r.docs_wrong === 0
  );
}
