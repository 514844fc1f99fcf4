// Schemas built once per workflow thread instead of once per workflow (docs/adr/0114).
//
// A Temporal Worker runs every cached workflow in one reusable V8 context per thread, but gives
// each workflow its own instance of every module the bundle loads after start-up: a module-level
// `const s = z.object(…)` is built again for each workflow, and the contracts' zod schemas (some
// 800 objects with zod's own) were most of a cached workflow's heap — an operator caches one
// Function workflow per Function.
//
// The orchestrator's bundle preloads this module (src/workers/orchestrator-worker.ts,
// SHARED_SCHEMA_MODULE): the SDK evaluates it, and the zod modules it imports, once per thread
// before any workflow, and every workflow then gets these instances — this module's `built` map,
// and the zod every contract module imports. A schema is a pure function of its definition, so
// one an earlier workflow built parses exactly as a fresh one would: replay is unaffected.
// Outside a workflow (activities, the CLI) modules are evaluated once anyway and the cache
// changes nothing.
//
// The SDK deep-freezes what a preloaded module exports, and zod memoizes on its schema objects as
// they parse: the schemas therefore live in this module's closure (never exported), not frozen.
import { z } from 'zod';

// zod sets its defaults (error messages, the memoizer objects use) in a global config object when
// it builds its first schema of a kind; once the SDK has frozen the preloaded modules, that write
// would throw. A string inside an object, built here during the preload, sets both first.
z.object({ warm: z.string() });

const built = new Map<string, { source: string; schema: unknown }>();

/**
 * The schema `build` makes, built the first time `key` is asked for in this thread and the same
 * object after. Keys are `<module>.<name>`; two different builders under one key throw (their
 * source differs) rather than answer each other's schema. A builder uses its module's own `z`
 * import (the bundle resolves it to the preloaded zod) and other shared schemas only.
 *
 * @example
 * export const rowIdSchema = sharedSchema('worker/function.rowId', () =>
 *   z.union([z.number().int().nonnegative(), z.string().min(1)]),
 * );
 */
export function sharedSchema<T>(key: string, build: () => T): T {
  // Equal for the same builder evaluated by another workflow's instance of its module.
  const source = build.toString();
  const hit = built.get(key);
  if (hit) {
    if (hit.source !== source)
      throw new Error(`sharedSchema: two different schemas use the key '${key}'; give each its own key`);
    return hit.schema as T;
  }
  const schema = build();
  built.set(key, { source, schema });
  return schema;
}
