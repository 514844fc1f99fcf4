// envTable: one row per variable gives the nested value, its defaults, optional groups, and an
// error naming the variable with the row's hint.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envTable } from '../../../src/util/env-table.js';
import { InvalidInputError } from '../../../packages/worker/src/util/errors.js';

const table = envTable(
  {
    port: {
      env: 'PORT',
      path: 'api.port',
      schema: z.coerce.number().int('expected an integer'),
      default: () => 8080,
      hint: 'to a port, e.g. 8080',
    },
    host: {
      env: 'HOST',
      path: 'api.host',
      schema: z.string(),
      default: (c: { value(k: string): unknown }) => `h${String(c.value('port'))}`,
    },
    cert: { env: 'CERT', path: 'tls?.cert', schema: z.string().optional() },
    mode: { env: 'MODE', schema: z.enum(['a', 'b']).optional(), hint: 'to a or b' },
  } as const,
  { tls: {} },
);

describe('envTable', () => {
  it('nests values by path, fills defaults (which may read other rows) and leaves an unset group out', () => {
    expect(table.load({}, {})).toEqual({ api: { port: 8080, host: 'h8080' } });
    expect(table.load({ PORT: ' 9 ', CERT: 'c.pem' }, {})).toEqual({
      api: { port: 9, host: 'h9' },
      tls: { cert: 'c.pem' },
    });
    expect(table.names).toEqual({ port: 'PORT', host: 'HOST', cert: 'CERT', mode: 'MODE' });
  });

  it.each([
    [{ PORT: 'x' }, 'PORT', 'set PORT to a port, e.g. 8080'],
    // A variable with no path is still validated.
    [{ MODE: 'c' }, 'MODE', 'set MODE to a or b'],
    // Blank is unset (Kubernetes renders absent values as ""): only the non-integer port fails.
    [{ HOST: '', PORT: '1.5' }, 'PORT', 'set PORT to a port, e.g. 8080'],
  ])('%j fails naming %s with its hint', (env, name, hint) => {
    expect(() => table.load(env, {})).toThrow(InvalidInputError);
    expect(() => table.load(env, {})).toThrow(expect.objectContaining({ path: name, hint }));
  });
});
