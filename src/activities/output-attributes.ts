// Turbopuffer answers 400 to a filter on an attribute the namespace has never seen, and the
// engine's filters name <attribute>_v and <attribute>_error before the first row has them. So
// the engine declares both (as strings) before it filters; a schema write is idempotent.
import type { FunctionOutputSpec } from '../../packages/worker/src/contracts/function.js';
import type { StoreClient } from '../../packages/worker/src/store/client.js';
import {
  errorAttribute,
  versionAttribute,
} from '../../packages/worker/src/claim-execution/function-filters.js';

/** Declares the engine's attributes in `namespace`; false when the namespace does not exist. */
export async function declareEngineAttributes(
  store: StoreClient,
  namespace: string,
  output: Pick<FunctionOutputSpec, 'attribute'>,
): Promise<boolean> {
  if (!(await store.exists(namespace))) return false;
  await store.write(namespace, {
    schema: { [versionAttribute(output)]: 'string', [errorAttribute(output)]: 'string' },
  } as never);
  return true;
}
