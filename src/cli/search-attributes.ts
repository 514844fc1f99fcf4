// The custom search attributes every Layer workflow carries must exist in the Temporal namespace,
// or starting a workflow fails (a Function's, and a reconcile workflow's since they carry
// LayerKind=Reconcile). A dev server registers them at start; a self-hosted namespace created by
// hand or by the chart's user did not — so `layer operator` and `layer orchestrator` add the
// missing ones at start-up, and where the server refuses (Temporal Cloud: namespace API keys
// cannot), log the exact command to run instead of failing every reconcile silently.
import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import type { Log } from './roles.js';

/** temporal.api.enums.v1.IndexedValueType values (KEYWORD = 2, KEYWORD_LIST = 7). */
const TYPES = { Keyword: 2, KeywordList: 7 } as const;

/** The missing attributes (name → type) of the namespace, from its listed custom attributes. */
export function missingSearchAttributes(present: Record<string, unknown>): string[] {
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in present));
}

/** The command that registers them, for the log line when we cannot. */
export function searchAttributeCommand(namespace: string, names: readonly string[]): string {
  const args = names
    .map((n) => `--name ${n} --type ${SEARCH_ATTRIBUTES[n as keyof typeof SEARCH_ATTRIBUTES]}`)
    .join(' ');
  return `temporal operator search-attribute create --namespace ${namespace} ${args}`;
}

/** Adds the Layer search attributes missing in `namespace`; returns what was added. */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  log: Log,
): Promise<string[]> {
  let missing: string[];
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    missing = missingSearchAttributes(listed.customAttributes ?? {});
  } catch (err) {
    log('cannot list the namespace search attributes; if workflows fail to start, register them', {
      namespace,
      error: err instanceof Error ? err.message : String(err),
      fix: searchAttributeCommand(namespace, Object.keys(SEARCH_ATTRIBUTES)),
    });
    return [];
  }
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((n) => [n, TYPES[SEARCH_ATTRIBUTES[n as keyof typeof SEARCH_ATTRIBUTES]]]),
      ),
    });
    log('registered the Layer search attributes the namespace lacked', { namespace, added: missing });
    return missing;
  } catch (err) {
    log('the namespace lacks Layer search attributes and they could not be added: workflows will not start', {
      namespace,
      missing,
      error: err instanceof Error ? err.message : String(err),
      fix: searchAttributeCommand(namespace, missing),
    });
    return [];
  }
}
