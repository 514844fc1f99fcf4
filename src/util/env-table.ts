// A configuration read from environment variables, declared as one row per variable: its name,
// where its value goes, its schema, its default and how to fix a wrong value. The nested schema,
// its TypeScript type, the variable-of-path map for error messages and the hints are all derived
// from the rows, so adding a variable is adding a row (src/config.ts is the one table).
import { z } from 'zod';
import { InvalidInputError } from '../../packages/worker/src/util/errors.js';

/** What a row's default may look at: other rows' values, and whatever the caller adds. */
export interface EnvContext<Key extends string> {
  /** The value of another row (its variable, else its default), before validation. */
  value(key: Key): unknown;
  /** Whether another row's variable is set (non-blank). */
  isSet(key: Key): boolean;
}

export interface EnvRow<Ctx = unknown> {
  /** The environment variable; absent for a value derived from others (it has a default). */
  env?: string;
  /**
   * Where the value goes in the parsed object, as a dot path. A segment ending in `?` is a group
   * that may be absent as a whole (see `groups`). No path: the variable is validated, then only
   * read by other rows' defaults.
   */
  path?: string;
  schema: z.ZodType;
  /** Turns the (trimmed, non-blank) string into what the schema reads: a list, say. */
  read?: (value: string) => unknown;
  /** The value when the variable is unset or blank. */
  default?: (ctx: Ctx) => unknown;
  /** How to fix a wrong value, after `set <VARIABLE> `: e.g. `to host:port, e.g. localhost:7233`. */
  hint?: string;
}

export interface GroupRule<Ctx> {
  /** Whether the group is present (default: when any of its variables is set). */
  present?: (ctx: Ctx) => boolean;
  /** A rule across the group's fields. */
  refine?: (group: z.ZodObject) => z.ZodType;
}

/** The parsed object a table of rows describes (paths nested, `?` groups optional). */
export type EnvTableValue<Rows extends Record<string, EnvRow<never>>> = Expand<
  UnionToIntersection<
    {
      [K in keyof Rows]: Rows[K]['path'] extends string
        ? Nest<Rows[K]['path'], z.output<Rows[K]['schema']>>
        : Record<never, never>;
    }[keyof Rows]
  >
>;

type Nest<P extends string, T> = P extends `${infer Head}.${infer Rest}`
  ? Head extends `${infer Group}?`
    ? { [K in Group]?: Nest<Rest, T> }
    : { [K in Head]: Nest<Rest, T> }
  : undefined extends T
    ? { [K in P]?: T }
    : { [K in P]: T };
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;
type Expand<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]: Expand<T[K]> } : T;

/** An env var's value, with blank treated as unset (Kubernetes renders absent values as ""). */
function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * A loader for one table of rows.
 *
 * @example
 * const load = envTable({ port: { env: 'PORT', path: 'api.port', schema: z.coerce.number(), default: () => 8080, hint: 'to a port, e.g. 8080' } });
 * load(process.env, (base) => base).api.port; // 8080
 */
export function envTable<Rows extends Record<string, EnvRow<never>>>(
  rows: Rows,
  groups: Record<string, GroupRule<never>> = {},
) {
  type Key = keyof Rows & string;
  const keys = Object.keys(rows) as Key[];
  const schema = objectOf(
    keys.filter((k) => rows[k]!.path !== undefined).map((k) => [pathOf(rows[k]!), rows[k]!]),
    '',
    groups,
  );
  /** Which variable feeds each path, for error messages. */
  const envOfPath = new Map(
    keys.flatMap((k) => (rows[k]!.path && rows[k]!.env ? [[pathOf(rows[k]!).join('.'), rows[k]!.env!]] : [])),
  );
  const rowOfEnv = new Map(keys.flatMap((k) => (rows[k]!.env ? [[rows[k]!.env!, rows[k]!]] : [])));

  /** The variable names, by row key. */
  const names = Object.fromEntries(keys.flatMap((k) => (rows[k]!.env ? [[k, rows[k]!.env]] : []))) as {
    [K in keyof Rows as Rows[K]['env'] extends string ? K : never]: Rows[K]['env'];
  };

  /**
   * Parse `env`. `context` adds to the default-reading context what the caller knows (a dev
   * environment, whether it runs in a pod).
   *
   * @throws InvalidInputError naming the variable, what is wrong with it and how to fix it.
   */
  function load<Extra extends object>(env: NodeJS.ProcessEnv, extra: Extra): EnvTableValue<Rows> {
    const cache = new Map<Key, unknown>();
    const ctx: EnvContext<Key> & Extra = {
      ...extra,
      isSet: (key: Key) => rows[key]!.env !== undefined && readEnv(env, rows[key]!.env!) !== undefined,
      value: (key: Key) => {
        if (!cache.has(key)) {
          const row = rows[key]!;
          const text = row.env ? readEnv(env, row.env) : undefined;
          const v = text !== undefined ? (row.read ? row.read(text) : text) : row.default?.(ctx as never);
          cache.set(key, v);
        }
        return cache.get(key);
      },
    };
    for (const k of keys) {
      const row = rows[k]!;
      if (row.path !== undefined || !row.env) continue;
      const checked = row.schema.safeParse(ctx.value(k));
      if (!checked.success) fail(row.env, checked.error.issues[0]!.message, ctx.value(k));
    }
    const raw: Record<string, unknown> = {};
    const absent = new Set(
      Object.entries(groups).flatMap(([g, rule]) => {
        const inGroup = keys.filter((k) => rows[k]!.path?.replace(/\?/g, '').startsWith(`${g}.`));
        const present = rule.present ? rule.present(ctx as never) : inGroup.some((k) => ctx.isSet(k));
        return present ? [] : [g];
      }),
    );
    for (const k of keys) {
      const path = rows[k]!.path === undefined ? undefined : pathOf(rows[k]!);
      if (!path || [...absent].some((g) => path.join('.').startsWith(`${g}.`))) continue;
      setAt(raw, path, ctx.value(k));
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data as EnvTableValue<Rows>;
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    // A list's element (operator.watchNamespaces.1) is reported under the list's variable.
    const name = envOfPath.get(path) ?? envOfPath.get(path.replace(/(\.\d+)+$/, '')) ?? path;
    fail(
      name,
      issue.message,
      path.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)?.[p], raw),
    );
  }

  function fail(name: string, message: string, value: unknown): never {
    const hint = rowOfEnv.get(name)?.hint;
    throw new InvalidInputError(
      name,
      `${message} (got ${JSON.stringify(value)})`,
      hint ? `set ${name} ${hint}` : `fix ${name}`,
    );
  }

  return { load, names, schema };
}

function pathOf(row: EnvRow<never>): string[] {
  return row.path!.replace(/\?/g, '').split('.');
}

function objectOf(
  entries: [string[], EnvRow<never>][],
  prefix: string,
  groups: Record<string, GroupRule<never>>,
): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  const heads = [...new Set(entries.map(([p]) => p[0]!))];
  for (const head of heads) {
    const mine = entries.filter(([p]) => p[0] === head);
    const leaf = mine.find(([p]) => p.length === 1);
    if (leaf) {
      shape[head] = leaf[1].schema;
      continue;
    }
    const path = prefix ? `${prefix}.${head}` : head;
    const inner = objectOf(
      mine.map(([p, r]) => [p.slice(1), r]),
      path,
      groups,
    );
    const rule = groups[path];
    shape[head] = rule ? (rule.refine ? rule.refine(inner) : inner).optional() : inner;
  }
  return z.object(shape);
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}
