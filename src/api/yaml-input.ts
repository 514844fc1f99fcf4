// One way to turn user YAML into plain JSON values, shared by every command that reads
// resources (`layer apply`, `layer render`): syntax errors, alias bombs and YAML-only types
// (`!!binary`, `!!set`, `!!timestamp`, …) all become a problem that names the file, the document
// and the field, instead of an exception without a file or a Buffer whose methods look like
// unknown fields.
import { parseAllDocuments } from 'yaml';

export interface YamlProblem {
  /** `<source>:<line>` or `<source>#<doc> <field path>`. */
  where: string;
  message: string;
  hint: string;
}

export type YamlDocument = { index: number; value: unknown } | { index: number; problem: YamlProblem };

/** Documents of a multi-document YAML text, in order; empty documents are left out. */
export function readYamlDocuments(text: string, source: string): YamlDocument[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: YamlDocument[] = [];
  docs.forEach((doc, i) => {
    const index = i + 1;
    const first = doc.errors[0];
    if (first !== undefined) {
      const line = first.linePos?.[0].line;
      out.push({
        index,
        problem: {
          where: `${source}${line ? `:${line}` : `#${index}`}`,
          message: `not valid YAML: ${first.message.split('\n')[0]}`,
          hint: 'fix the YAML syntax at that line',
        },
      });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1_000 });
    } catch (err) {
      out.push({
        index,
        problem: {
          where: `${source}#${index}`,
          message: `cannot be read: ${(err as Error).message}`,
          hint: 'expand the aliases (*name) yourself; a resource never needs thousands of them',
        },
      });
      return;
    }
    if (value === null || value === undefined) return;
    const foreign = firstNonJsonValue(value, '');
    if (foreign !== undefined) {
      out.push({
        index,
        problem: {
          where: `${source}#${index} ${foreign.path || '(document)'}`,
          message: `is a YAML ${foreign.type}, which a Kubernetes resource cannot hold`,
          hint: 'write the value as a plain string, number, list or map (drop the !!tag)',
        },
      });
      return;
    }
    out.push({ index, value });
  });
  return out;
}

/** The first value that JSON (and so the Kubernetes API) cannot represent, with its path. */
function firstNonJsonValue(value: unknown, path: string): { path: string; type: string } | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  while (stack.length > 0) {
    const { value: v, path: p } = stack.pop()!;
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function')
        return { path: p, type: typeof v };
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: `${p}[${i}]` }));
      continue;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto !== Object.prototype && proto !== null) {
      return { path: p, type: nonJsonTypeName(v) };
    }
    for (const [k, item] of Object.entries(v)) stack.push({ value: item, path: p ? `${p}.${k}` : k });
  }
  return undefined;
}

function nonJsonTypeName(v: object): string {
  if (v instanceof Uint8Array) return 'binary value (!!binary)';
  if (v instanceof Date) return 'timestamp (!!timestamp)';
  if (v instanceof Set) return 'set (!!set)';
  if (v instanceof Map) return 'ordered map (!!omap / !!pairs)';
  return `${v.constructor?.name ?? 'non-JSON'} value`;
}
