// The Function handler's call log of a chaos run: every worker process appends one line per
// successful handler call (`<namespace> <version> <id>,<id>,…`) to a file of its own, so a killed
// process loses nothing it computed. The verdict counts the rows computed more than once at the
// same version — work a GPU would have done twice (issue 24: under the store's lag model that
// must stay at the few rows a kill or an injected fault forces to be recomputed).
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Appends one call (a worker process's side). */
export function logHandlerCall(
  dir: string,
  namespace: string,
  version: string,
  ids: readonly unknown[],
): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.log`), `${namespace} ${version} ${ids.map(String).join(',')}\n`);
}

export interface HandlerCalls {
  /** Rows passed to successful handler calls, counted once per call. */
  calls: number;
  /** Calls beyond the first of a row at a version. */
  duplicates: number;
}

/** Counts the calls of one namespace from the log lines. */
export function countHandlerCalls(lines: Iterable<string>, namespace: string): HandlerCalls {
  const seen = new Set<string>();
  let calls = 0;
  for (const line of lines) {
    const [ns, version, ids] = line.split(' ');
    if (ns !== namespace || !version || !ids) continue;
    for (const id of ids.split(',')) {
      calls += 1;
      seen.add(`${version} ${id}`);
    }
  }
  return { calls, duplicates: calls - seen.size };
}

/** Every line every worker process logged (none when nothing was logged). */
export function readHandlerCallLines(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'));
}
