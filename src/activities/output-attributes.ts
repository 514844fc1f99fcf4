// Turbopuffer answers 400 to a filter on an attribute the namespace has never seen, and the
// engine's filters name <attribute>_v and <attribute>_error before the first row has them. So
// the engine declares both (as strings) before it filters; a schema write is idempotent.
// A text output is declared non-filterable when the namespace does not have the attribute yet:
// a filterable value is limited to 4 KiB, a text output may be up to 8 MiB (docs/adr/0112).
// An attribute the namespace already has is left as its owner configured it, and so is one the
// Function's own filter names (a filter on a non-filterable attribute is refused).
import type { FunctionOutputSpec } from '../../packages/worker/src/contracts/function.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import {
  errorAttribute,
  versionAttribute,
} from '../../packages/worker/src/claim-execution/function-filters.js';

/** Whether `filter` (any JSON) names `attribute` anywhere. */
function mentions(filter: unknown, attribute: string): boolean {
  return (
    filter !== undefined && filter !== null && JSON.stringify(filter).includes(JSON.stringify(attribute))
  );
}

/** Declares the engine's attributes in `namespace`; false when the namespace does not exist. */
export async function declareEngineAttributes(
  store: StoreClient,
  namespace: string,
  output: Pick<FunctionOutputSpec, 'attribute' | 'kind'>,
  userFilter?: unknown,
): Promise<boolean> {
  const schema = await store.schema(namespace);
  if (schema === null) return false;
  const declared: Record<string, unknown> = {
    [versionAttribute(output)]: 'string',
    [errorAttribute(output)]: 'string',
  };
  if (output.kind === 'text' && !(output.attribute in schema) && !mentions(userFilter, output.attribute))
    declared[output.attribute] = { type: 'string', filterable: false };
  await store.write(namespace, { schema: declared } as never);
  return true;
}
